"""A claim's record and its timeline (entries in the timeline table under the claim's id, each naming
`claim_id`, written in the same transaction as the change they tell of: store.timeline)."""
from __future__ import annotations

from typing import Any

from pynamodb.transactions import TransactWrite

from .. import aws
from ..rules import claims as rules, clock, timeline
from ..rules.errors import InvalidTransition, NotFoundError
from . import timeline as timeline_items, writes
from .models import ClaimModel


class ClaimNotFound(NotFoundError):
    def __init__(self, claim_id: str):
        super().__init__("no such claim", code="claim_not_found", details={"claim_id": claim_id})


def get(claim_id: str) -> ClaimModel:
    try:
        return ClaimModel.get(claim_id, consistent_read=True)
    except ClaimModel.DoesNotExist as exc:
        raise ClaimNotFound(claim_id) from exc


def create(claim: ClaimModel, actor: str, detail: dict, reserve: tuple[Any, list] | None = None) -> ClaimModel:
    """Put the new claim and its first entry in one transaction (never a claim without its story).
    `reserve`: (the order as read, the actions reserving the claimed units on it), written in the same
    transaction on the order's version: a racing return or claim makes it lose (TransactWriteError)."""
    first = [timeline.entry("claim.opened", actor, detail, claim.created_at)]
    claim.timeline_count = len(first)
    with TransactWrite(connection=aws.dynamodb_connection()) as tx:
        tx.save(claim, condition=ClaimModel.claim_id.does_not_exist())
        timeline_items.save_with(tx, claim, first)
        if reserve is not None:
            order, actions = reserve
            tx.update(order, actions=actions)
    claim.refresh(consistent_read=True)
    return claim


def timeline_of(claim: ClaimModel) -> list[dict]:
    return timeline_items.entries(claim)


def append_timeline(claim: ClaimModel, *, actor: str, event: str, detail: Any = None,
                    updates: list | None = None) -> None:
    writes.update(claim, lambda _: writes.Update(list(updates or []), timeline=[timeline.entry(event, actor, detail)]),
                  busy=lambda: RuntimeError("could not record the claim's timeline entry"))


def move(claim: ClaimModel, new: str, *, actor: str, event: str, detail: Any = None,
         updates: list | None = None) -> bool:
    """Move the claim to `new` (rules.claims.ALLOWED) with a conditional write and its entry; True if this
    call moved it, False when it was there already (a replay). Another status is a 409."""
    def decide(claim: ClaimModel) -> writes.Update | None:
        if claim.status == new:
            return None
        if not rules.can_move(claim.status, new):
            raise InvalidTransition(claim.status, new)
        now = clock.iso()
        return writes.Update([ClaimModel.status.set(new), ClaimModel.status_since.set(now), *(updates or [])],
                             condition=ClaimModel.status == claim.status, memo=True,
                             timeline=[timeline.entry(event, actor, detail, now)])

    written = writes.update(claim, decide, busy=lambda: InvalidTransition(
        claim.status, new, "the claim is changing too fast; try again"))
    return written is not None
