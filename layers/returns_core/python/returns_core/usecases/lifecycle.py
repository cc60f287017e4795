"""State changes of a return and the workflow's task tokens.

The protocol between the record and the state machine:
- a workflow wait is pending exactly while the return is in one status (rules.statuses.WAITS), or in
  one of the few statuses of a spanning wait (statuses.SPANNING_WAITS: a withdrawal's parcel);
- `park` stores the wait's task token only if the return is still in that status,
  otherwise it resumes the workflow at once (the event came first);
- `transition` changes the status with a condition on the status it read, takes the
  stored token away in the same write, and resumes the workflow with it; a move inside a
  spanning wait keeps the token where it is and resumes nothing.
Whatever order the API and the workflow act in, each wait is resumed exactly once.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..outbound import deferred_effects, workflow
from ..rules import clock, statuses, timeline
from ..rules.errors import InvalidTransition
from ..store import returns, writes
from ..store.models import ReturnModel
from . import side_effects
from .orders import OrderOnce


@dataclass
class Moved:
    ret: ReturnModel
    previous: str
    changed: bool   # False when the return already was in the wanted status (a replay)


def transition(ret: ReturnModel, new: str, *, actor: str, event: str, detail: Any = None,
               allowed_from: Iterable[str] | None = None, updates: list | None = None,
               order: OrderOnce | None = None, also: list[dict] | None = None) -> Moved:
    """Move `ret` to `new` with a conditional write; replays of the same move are no-ops.

    `allowed_from` narrows the statuses this caller may move from (default: the lifecycle's rules).
    `updates` are extra PynamoDB actions written in the same update. `order`: the return's order as
    the caller reads it, for the move's effects carried out here (its messages' customer). `also`: more
    timeline entries (rules.timeline.entry) written with the move's own.
    """
    sources = set(allowed_from) if allowed_from is not None else None

    def decide(ret: ReturnModel) -> writes.Update | None:
        current = ret.status
        if current == new:
            return None
        if not statuses.can_move(current, new) or (sources is not None and current not in sources):
            raise InvalidTransition(current, new)
        now = clock.iso()
        still_waiting = statuses.keeps_waiting(ret.waiting_for, current, new)
        return writes.Update([
            ReturnModel.status.set(new),
            ReturnModel.status_since.set(now),
            *([] if still_waiting else [ReturnModel.task_token.remove(), ReturnModel.waiting_for.remove()]),
            *(updates or []),
        ], condition=ReturnModel.status == current, memo=(current, None if still_waiting else ret.task_token),
            timeline=[timeline.entry(event, actor, detail, now), *(also or [])])

    written = writes.update(ret, decide, busy=lambda: InvalidTransition(
        ret.status, new, "the return is changing too fast; try again"))
    if written is None:
        return Moved(ret, ret.status, False)
    previous, token = written.memo
    # The move is written; what follows it (event, message, alert, the workflow's resume) is the
    # StatusEffects function's when the caller is the API (outbound/deferred_effects.py): the person who
    # scanned or confirmed is answered now. If Lambda does not take it, it is carried out here.
    if not (deferred_effects.enabled() and deferred_effects.hand_over(ret.return_id, previous, new, token)):
        after_move(ret, previous, token, order=order)
    return Moved(ret, previous, True)


def after_move(ret: ReturnModel, previous: str, token: str | None, moved_to: str | None = None,
               order: OrderOnce | None = None) -> None:
    """A written move's follow-up: its effects (rules/effects.py), then the workflow's resume, in this
    order, so the workflow's next step never comes before the message of the move that started it.
    `moved_to`: the move's status, when the return may have moved on since (side_effects.status_changed)."""
    side_effects.status_changed(ret, previous, moved_to=moved_to, order=order)
    if token:
        resume(token, ret)


def carry_out_handed_over(return_id: str, previous: str, status: str, token: str | None) -> None:
    """The StatusEffects function's work: `after_move` for the move from `previous` to `status`, on the
    return as it is now. Lambda may run one invocation twice: a token already used resumes nothing, and the
    messages are those of rules/effects.py, as sent inline."""
    after_move(returns.get(return_id), previous, token, moved_to=status)


def outcome(ret: ReturnModel) -> dict:
    """What a resumed wait hands back to the state machine."""
    return {"status": ret.status}


def resume(token: str, ret: ReturnModel) -> bool:
    return workflow.resume(token, outcome(ret), ret.return_id)


class ReturnRerouted(Exception):
    """A workflow wait was entered with a status it does not wait for (statuses.waits_in): the step before
    it ended otherwise than usual. The ASL's Await states catch this error by its name, first in their
    Catch and never retried, and go to Route, which decides from the status; so the name is a contract
    with statemachines/return_lifecycle.asl.json."""

    def __init__(self, wait: str, entered_with: str):
        super().__init__(f"the {wait} wait does not wait in {entered_with}")   # statuses only: no personal data
        self.wait, self.entered_with = wait, entered_with


def park(return_id: str, wait: str, token: str, *, entered_with: str | None = None,
         withdrawal: bool = False) -> str:
    """Store the token of a workflow wait; resume at once if the return has already moved on.

    `entered_with`: the status the workflow entered the wait with; when it is not this wait's, nothing is
    read or written and ReturnRerouted is raised. None (the withdrawal deadline's waits, entered from
    their clock's choice; an execution started before the workflow went from step to step directly)
    parks as before."""
    if entered_with is not None and not statuses.waits_in(wait, entered_with, withdrawal=withdrawal):
        raise ReturnRerouted(wait, entered_with)
    pending = statuses.pending_in(wait)

    def decide(ret: ReturnModel) -> writes.Update | None:
        # A manual refund's wait ends when finance records the reference, not with a status change.
        recorded = wait == "manual_refund" and bool((ret.refund or {}).get("manual_reference"))
        if ret.status not in pending or recorded:
            return None
        condition = ReturnModel.status.is_in(*sorted(pending))
        if wait == "manual_refund":
            condition &= ReturnModel.refund["manual_reference"].does_not_exist()
        return writes.Update([ReturnModel.task_token.set(token), ReturnModel.waiting_for.set(wait)], condition)

    ret = returns.get(return_id)
    if writes.update(ret, decide, busy=lambda: RuntimeError("could not park the task token")) is None:
        resume(token, ret)
        return "resumed"
    return "parked"
