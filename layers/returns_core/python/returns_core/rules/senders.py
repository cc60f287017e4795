"""What each function sends, in one place: the statuses its code moves a return into (so, by
effects.py, the events, emails, SMS and alerts that follow) and what it sends outside a move.

The template's IAM policies follow from this (tests/infra/test_least_privilege.py checks that
each function may send exactly what `channels` says): an SMS added to a status in effects.py
fails that test for every function that moves a return there, instead of failing on AWS.
Keys are the functions' folders under functions/.
"""
from __future__ import annotations

from . import effects, statuses

EVENT, ALERT, EMAIL, SMS = "event", "alert", "email", "sms"

# The statuses each function moves a return into.
MOVES_INTO: dict[str, frozenset[str]] = {
    # routes: create (-> in_review), review, cancel, confirm, dispute, scan, inspect, approve, retry,
    # carrier events, dispute resolution
    "api": frozenset({statuses.IN_REVIEW, statuses.REQUESTED, statuses.REJECTED, statuses.CANCELLED,
                      statuses.CLOSED, statuses.DISPUTED, statuses.RESOLVED, statuses.IN_TRANSIT, statuses.LOST,
                      statuses.RECEIVED,
                      statuses.INSPECTED, statuses.REFUNDING}),
    "issue_label": frozenset({statuses.AWAITING_DROPOFF}),
    "await_callback": frozenset(),   # stores a task token or resumes: never moves a return
    # review auto-approved, expiry, lost in transit, auto-close, a refund that failed for good, a label
    # that could not be issued
    "handle_timeout": frozenset({statuses.REQUESTED, statuses.EXPIRED, statuses.LOST, statuses.CLOSED,
                                 statuses.REFUND_FAILED, statuses.LABEL_FAILED}),
    "settle": frozenset({statuses.AWAITING_APPROVAL, statuses.REFUNDING, statuses.REFUNDED}),
    "status_effects": frozenset(),   # moves nothing: it carries out what follows the API's moves (below)
    "inbound_mail": frozenset(),     # appends a customer's email reply to its conversation: no move, no message
}

# Functions that send what follows another function's moves: the API hands its moves' effects to
# StatusEffects (outbound/deferred_effects.py), and sends them itself when Lambda does not take them.
CARRIES_OUT_FOR: dict[str, str] = {"status_effects": "api"}

# Sent outside a status move: a new return's event, the shipped exchange's event and email, the
# timeouts' reminders and alerts; the API's claims (usecases/claims.py): an ops alert and claim_received
# when one is opened, claim.reship_requested and claim_resolved when it is resolved (Settle pays a
# claim's refund and sends nothing).
DIRECT: dict[str, frozenset[str]] = {
    "api": frozenset({EVENT, EMAIL}),
    "issue_label": frozenset(),
    "await_callback": frozenset(),
    "handle_timeout": frozenset({EMAIL, ALERT}),
    "settle": frozenset(),
    "status_effects": frozenset(),
    "inbound_mail": frozenset(),   # a reply is appended; the agent's answer is the API's email
}

# The follow-ups of effects.py that send something themselves.
_ACTION_SENDS: dict[str | None, set[str]] = {effects.INSTANT_EXCHANGE: {EVENT}, effects.EXCHANGE: {EVENT},
                                             effects.RELEASE: set()}


def _sent(todo: effects.Effects) -> set[str]:
    out = {EVENT} | _ACTION_SENDS.get(todo.action, set())
    return out | ({EMAIL} if todo.email else set()) | ({SMS} if todo.sms else set()) | \
        ({ALERT} if todo.alert else set())


def channels(function: str) -> frozenset[str]:
    """Everything `function` may send. A failed side effect is alerted, so anything that sends alerts."""
    sent: set[str] = set(DIRECT[function])
    for status in MOVES_INTO[function] | MOVES_INTO.get(CARRIES_OUT_FOR.get(function, ""), frozenset()):
        for (_, new), todo in effects.MOVES.items():
            if new == status:
                sent |= _sent(todo)
        if status in effects.RULES:
            sent |= _sent(effects.RULES[status])
    return frozenset(sent | ({ALERT} if sent else set()))
