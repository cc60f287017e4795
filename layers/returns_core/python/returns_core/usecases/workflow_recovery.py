"""Returns whose workflow stopped before they finished get it back, from where they stand.

A return's execution can end while the return is still open: a throttled Lambda whose retries ran out
sends it to `Stuck` (ops is alerted), an execution can time out or be stopped by hand, and a start can
be lost between the return's write and Step Functions' answer. Nothing on AWS starts it again, and the
steps that move money (Settle) run only inside it, so such a return would never be refunded.

This sweep (the HandleTimeout function's `WorkflowSweep` schedule; the local stack runs the same
schedule) finds them and starts a new execution for each, as the local stack does at every start
(infra/local/resume.py): the state machine begins at its `Route` choice, which goes on from the return's
status (inspected -> settle, awaiting_dropoff -> wait for the drop-off, ...). A restart is not a
redrive: a redrive replays the failed step of the old execution with its old input, while the return
may have moved since (ops retried the refund, the customer cancelled).

Exactly once: the new execution's name carries the restart's number, so two sweeps that race start the
same execution (Step Functions refuses a second one of that name), and the return records it with a
versioned write that only lands while the return still names the execution that ended. A return restarted
MAX_RESTARTS times is left to ops (alerted once), not restarted forever.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from ..outbound import events, workflow
from ..rules import clock, policy, statuses, timeline as timeline_rules
from ..rules.errors import ReturnNotFound
from ..store import returns, writes
from ..store.models import ReturnModel

MAX_RESTARTS = 3
# A return is written before its execution starts (usecases/request_return.py): one younger than this
# may still be starting, or be answered 503 and cancelled by its own request.
STARTING_GRACE_SECONDS = 600
# Statuses in which a return may have no execution at all: its start was lost. Every later status was
# reached with an execution, recorded when it started.
_STARTED_IN = (statuses.REQUESTED, statuses.IN_REVIEW)


def sweep(now: datetime | None = None) -> dict:
    """One pass; what it did, by count (no ids: this is logged)."""
    now = now or clock.now()
    done = {"restarted": 0, "given_up": 0}
    for ret, restarts, ended_as in _stopped_returns():
        _count(done, restart_workflow(ret, ended=ret.execution_arn, ended_as=ended_as, restart=restarts + 1))
    before = clock.iso(now - timedelta(seconds=STARTING_GRACE_SECONDS))
    for status in _STARTED_IN:
        hits = ReturnModel.by_status.query(status, ReturnModel.status_since <= before)
        for ret in ReturnModel.load_many(hits):
            if ret.status == status and not ret.execution_arn:
                _count(done, _start_lost(ret))
    return done


def stopped() -> list[dict]:
    """The open returns whose workflow ended before they did (what /ops shows): each with how its
    execution ended and how many times it was restarted; `given_up` once the sweep no longer restarts it."""
    found = [{"return_id": ret.return_id, "order_id": ret.order_id, "status": ret.status, "ended": ended,
              "restarts": restarts, "given_up": restarts >= MAX_RESTARTS}
             for ret, restarts, ended in _stopped_returns()]
    return sorted(found, key=lambda item: item["return_id"])


def _stopped_returns() -> Iterator[tuple[ReturnModel, int, str]]:
    """(open return, restarts so far, how its execution ended) of each return whose current execution
    ended badly. Only the execution the return names now counts (an older one ended and was replaced
    already); a return recorded before execution ARNs were kept names none, and its first execution
    has its own name."""
    for execution_arn, name, ended in workflow.ended_badly():
        return_id, restarts = workflow.parse_execution_name(name)
        try:
            ret = returns.get(return_id)
        except ReturnNotFound:
            continue
        if ret.status in statuses.ACTIVE and (ret.execution_arn or workflow.execution_name(return_id)) in (
                execution_arn, name):
            yield ret, restarts, ended


def _count(done: dict, outcome: str | None) -> None:
    if outcome:
        done[outcome] += 1


def _start_lost(ret: ReturnModel) -> str | None:
    """A return written without an execution recorded: its start may have happened (the answer lost),
    then that execution is recorded if it runs, or restarted if it has ended badly."""
    arn = workflow.start(ret.return_id, ret.status, keep_item=policy.keeps_items(ret.items),
                         withdrawal=bool(ret.withdrawal))
    state = workflow.state_of(arn)
    if state in workflow.ENDED_BADLY:
        return restart_workflow(ret, ended=None, ended_as=state, restart=1)
    _record(ret, ended=None, started=arn, detail={"restart": 0, "after": "start_lost"})
    return "restarted"


def restart_workflow(ret: ReturnModel, *, ended: str | None, ended_as: str, restart: int) -> str | None:
    """Start the return's workflow again from its status; "restarted", "given_up" or None when another
    sweep (or ops) got there first. `ended`: the execution the return names (None: none recorded);
    `ended_as`: how Step Functions says it ended (FAILED, TIMED_OUT, ABORTED)."""
    if restart > MAX_RESTARTS:
        return _give_up(ret, ended)
    arn = workflow.start(ret.return_id, ret.status, keep_item=policy.keeps_items(ret.items),
                         withdrawal=bool(ret.withdrawal), restart=restart)
    return "restarted" if _record(ret, ended=ended, started=arn,
                                  detail={"restart": restart, "after": ended_as.lower()}) else None


def _record(ret: ReturnModel, *, ended: str | None, started: str, detail: dict) -> bool:
    """The return names its new execution, with a timeline entry, only while it still names the one that
    ended (a versioned write: a racing sweep's identical restart lands once)."""
    def decide(fresh: ReturnModel) -> writes.Update | None:
        if fresh.execution_arn != ended or fresh.status not in statuses.ACTIVE:
            return None
        still = (ReturnModel.execution_arn.does_not_exist() if ended is None
                 else ReturnModel.execution_arn == ended)
        return writes.Update([ReturnModel.execution_arn.set(started)], condition=still,
                             timeline=[timeline_rules.entry("workflow.restarted", "system", detail)])

    return writes.update(ret, decide, busy=lambda: RuntimeError("could not record the restarted workflow")) is not None


def _give_up(ret: ReturnModel, ended: str | None) -> str | None:
    """Restarted MAX_RESTARTS times and stopped again: a defect, not a passing fault. Ops is told once
    (the timeline entry marks it), and the return waits on the /ops queue."""
    if timeline_rules.has(returns.timeline_of(ret), "workflow.given_up"):
        return None
    returns.append_timeline(ret, actor="system", event="workflow.given_up",
                            detail={"restarts": MAX_RESTARTS, "last": ended})
    events.alert_ops("workflow_given_up", ret,
                     f"return {ret.return_id}: its workflow stopped again after {MAX_RESTARTS} restarts; "
                     "it needs a person (see its timeline's workflow.error entries)")
    return "given_up"
