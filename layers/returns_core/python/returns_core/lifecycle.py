"""State changes of a return: conditional writes, the timeline, and the workflow's task tokens.

The protocol between the record and the state machine:
- a workflow wait is pending exactly while the return is in one status (see WAITS);
- `park` stores the wait's task token only if the return is still in that status,
  otherwise it resumes the workflow at once (the event came first);
- `transition` changes the status with a condition on the status it read, takes the
  stored token away in the same write, and resumes the workflow with it.
Whatever order the API and the workflow act in, each wait is resumed exactly once.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Iterable

from pynamodb.exceptions import UpdateError

from . import aws, clock, statuses
from .errors import ConflictError, NotFoundError
from .models import ReturnModel

log = logging.getLogger(__name__)

# wait name -> the status in which that wait is pending
WAITS = {
    "review": statuses.IN_REVIEW,
    "dropoff": statuses.AWAITING_DROPOFF,
    "arrival": statuses.IN_TRANSIT,
    "inspection": statuses.RECEIVED,
    "approval": statuses.AWAITING_APPROVAL,
    "refund_retry": statuses.REFUND_FAILED,
    "manual_refund": statuses.REFUNDING,   # and no manual reference recorded yet (see park)
    "confirmation": statuses.REFUNDED,
}
MAX_ATTEMPTS = 8


class NotFound(NotFoundError):
    def __init__(self, return_id: str):
        super().__init__("return not found", code="return_not_found")
        self.return_id = return_id


class InvalidTransition(ConflictError):
    """The return is not in a status that allows this; maps to 409."""

    def __init__(self, current: str, wanted: str, message: str | None = None):
        self.current, self.wanted = current, wanted
        super().__init__(message or f"the return is {current}; it cannot become {wanted}", code="invalid_status",
                         details={"status": current})


@dataclass
class Moved:
    ret: ReturnModel
    previous: str
    changed: bool   # False when the return already was in the wanted status (a replay)


def timeline_entry(kind: str, actor: str, detail: Any = None, at: str | None = None) -> dict:
    return {"at": at or clock.iso(), "type": kind, "actor": actor, "detail": detail}


def get(return_id: str, consistent: bool = True) -> ReturnModel:
    try:
        return ReturnModel.get(return_id, consistent_read=consistent)
    except ReturnModel.DoesNotExist as exc:
        raise NotFound(return_id) from exc


def is_conflict(exc: Exception) -> bool:
    """A conditional write lost to another writer (read again and decide again)."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def transition(ret: ReturnModel, new: str, *, actor: str, event: str, detail: Any = None,
               allowed_from: Iterable[str] | None = None, updates: list | None = None) -> Moved:
    """Move `ret` to `new` with a conditional write; replays of the same move are no-ops.

    `allowed_from` narrows the statuses this caller may move from (default: the lifecycle's rules).
    `updates` are extra PynamoDB actions written in the same update.
    """
    sources = set(allowed_from) if allowed_from is not None else None
    for _ in range(MAX_ATTEMPTS):
        current = ret.status
        if current == new:
            return Moved(ret, current, False)
        if not statuses.can_move(current, new) or (sources is not None and current not in sources):
            raise InvalidTransition(current, new)
        token = ret.task_token
        now = clock.iso()
        actions = [
            ReturnModel.status.set(new),
            ReturnModel.status_since.set(now),
            ReturnModel.timeline.set(ReturnModel.timeline.append([timeline_entry(event, actor, detail, now)])),
            ReturnModel.task_token.remove(),
            ReturnModel.waiting_for.remove(),
            *(updates or []),
        ]
        try:
            ret.update(actions=actions, condition=ReturnModel.status == current)
        except UpdateError as exc:
            if not is_conflict(exc):
                raise
            ret.refresh(consistent_read=True)
            continue
        from . import effects  # the events and messages of a status live in one table there
        effects.status_changed(ret, current)
        if token:
            resume(token, ret)
        return Moved(ret, current, True)
    raise InvalidTransition(ret.status, new, "the return is changing too fast; try again")


def record(ret: ReturnModel, *, actor: str, event: str, detail: Any = None, updates: list | None = None) -> None:
    """Add a timeline entry (and extra attributes) without changing the status."""
    for _ in range(MAX_ATTEMPTS):
        actions = [ReturnModel.timeline.set(ReturnModel.timeline.append([timeline_entry(event, actor, detail)])),
                   *(updates or [])]
        try:
            ret.update(actions=actions)
            return
        except UpdateError as exc:
            if not is_conflict(exc):
                raise
            ret.refresh(consistent_read=True)
    raise RuntimeError("could not record the timeline entry")


def outcome(ret: ReturnModel) -> dict:
    """What a resumed wait hands back to the state machine."""
    return {"status": ret.status}


def resume(token: str, ret: ReturnModel) -> bool:
    """Hand the wait its outcome. A token already used or timed out is not an error: the record rules."""
    sfn = aws.client("stepfunctions")
    try:
        sfn.send_task_success(taskToken=token, output=json.dumps(outcome(ret)))
        return True
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
        log.warning("task token no longer waiting", extra={"return_id": ret.return_id, "status": ret.status})
        return False


def park(return_id: str, wait: str, token: str) -> str:
    """Store the token of a workflow wait; resume at once if the return has already moved on."""
    pending = WAITS[wait]
    ret = get(return_id)
    for _ in range(MAX_ATTEMPTS):
        # A manual refund's wait ends when finance records the reference, not with a status change.
        recorded = wait == "manual_refund" and bool(((ret.refund.as_dict() if ret.refund else {}) or {})
                                                      .get("manual_reference"))
        if ret.status != pending or recorded:
            resume(token, ret)
            return "resumed"
        condition = ReturnModel.status == pending
        if wait == "manual_refund":
            condition &= ReturnModel.refund["manual_reference"].does_not_exist()
        try:
            ret.update(actions=[ReturnModel.task_token.set(token), ReturnModel.waiting_for.set(wait)],
                       condition=condition)
            return "parked"
        except UpdateError as exc:
            if not is_conflict(exc):
                raise
            ret.refresh(consistent_read=True)
    raise RuntimeError("could not park the task token")
