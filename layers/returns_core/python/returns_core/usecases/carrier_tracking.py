"""Carrier tracking events: late, repeated or out of order, they never move a return backwards."""
from __future__ import annotations

from ..rules import carrier_moves, refund_timing, statuses, timeline
from ..rules.errors import InvalidTransition, NotFoundError, TooManyRequestsError, UnprocessableError
from ..store import returns, writes
from ..store.models import ReturnModel
from . import early_refunds, lifecycle


class TooManyEvents(TooManyRequestsError):
    def __init__(self) -> None:
        super().__init__(f"this parcel already has {carrier_moves.MAX_EVENTS_PER_RETURN} tracking events; "
                         "further events that do not move the return are not kept", field="tracking_number",
                         code="too_many_events", details={"limit": carrier_moves.MAX_EVENTS_PER_RETURN})


def _applied(ret: ReturnModel) -> list[str]:
    """The keys of the events already applied to the return (and those it kept in a list before)."""
    return [*(ret.carrier_events or []), *sorted(ret.carrier_seen or ())]


def find_by_tracking(tracking_number: str) -> ReturnModel:
    for ret in ReturnModel.by_tracking.query(tracking_number, limit=1):
        return returns.get(ret.return_id)
    raise NotFoundError("unknown tracking number", field="tracking_number", code="unknown_tracking_number")


def apply(tracking_number: str, event: str, occurred_at: str, location: str | None) -> tuple[ReturnModel, bool]:
    """Apply one event; (return, True) when new, (return, False) for a repeat.

    An event is known by `event@<the instant, UTC>` (however the carrier spelled the time); the key
    is stored in the same conditional write that moves the status or adds the timeline entry, so a
    repeat, even a racing one, has no second effect. Past carrier_moves.MAX_EVENTS_PER_RETURN, an event
    that would only be recorded is refused (TooManyEvents, 429) and nothing is stored.
    """
    try:
        key = carrier_moves.event_key(event, occurred_at)
    except ValueError as exc:
        raise UnprocessableError(f"occurred_at is not an instant: {exc}", field="occurred_at",
                                 code="invalid_value") from None
    ret = find_by_tracking(tracking_number)
    if carrier_moves.seen(key, _applied(ret)):
        return ret, False
    detail = {"event": event, "occurred_at": occurred_at, "location": location}
    remember = ReturnModel.carrier_seen.add({key})
    move = carrier_moves.MOVES.get(event)
    if move and ret.status in move[1]:
        target, updates, also = move[0], [remember], []
        if refund_timing.pays_at_first_scan(ret.refund_timing, event):
            # The policy pays at the first scan: the parcel is in the carrier's hands, the money goes now.
            extra, also = early_refunds.start(ret, refund_timing.FIRST_SCAN, "carrier")
            target, updates = statuses.REFUNDING, [remember, *extra]
        try:
            moved = lifecycle.transition(ret, target, actor="carrier", event=f"carrier.{event}", detail=detail,
                                         allowed_from=move[1], updates=updates, also=also)
            if moved.changed:
                return ret, True
        except InvalidTransition:
            pass  # moved meanwhile (a scan, another event): only record it below
        ret.refresh(consistent_read=True)
    # Already further along (or an informational event): keep it in the timeline, move nothing.
    return ret, _record_once(ret, key, event, detail)


def _record_once(ret: ReturnModel, key: str, event: str, detail: dict) -> bool:
    def decide(ret: ReturnModel) -> writes.Update | None:
        if carrier_moves.seen(key, _applied(ret)):
            return None
        if carrier_moves.over_limit(_applied(ret)):
            raise TooManyEvents()
        return writes.Update([ReturnModel.carrier_seen.add({key})],
                             condition=ReturnModel.status == ret.status,  # with the version check: nobody wrote since
                             timeline=[timeline.entry(f"carrier.{event}", "carrier", detail)])

    return writes.update(ret, decide, busy=lambda: RuntimeError("could not record the carrier event")) is not None
