"""A return's record: reading it, and its timeline, which only ever grows (its own items: store.timeline)."""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError

from ..rules import timeline
from ..rules.errors import ReturnNotFound
from . import timeline as timeline_items, writes
from .models import ReturnModel


def get(return_id: str, consistent: bool = True) -> ReturnModel:
    try:
        return ReturnModel.get(return_id, consistent_read=consistent)
    except ReturnModel.DoesNotExist as exc:
        raise ReturnNotFound(return_id) from exc


def timeline_of(ret: ReturnModel) -> list[dict]:
    """The return's whole timeline, oldest first."""
    return timeline_items.entries(ret)


def append_timeline(ret: ReturnModel, *, actor: str, event: str, detail: Any = None,
                    updates: list | None = None) -> None:
    """Add a timeline entry (and extra attributes) without changing the status.

    With no `updates` the entry is a record of something already done (a message sent, a failed side
    effect): two single writes, no transaction (store.timeline.append_record). With `updates` the entry
    and the attributes land together in one transaction."""
    entry = timeline.entry(event, actor, detail)
    if not updates:
        for _ in range(writes.MAX_ATTEMPTS):
            try:
                timeline_items.append_record(ret, entry)
                return
            except UpdateError as exc:
                if not writes.is_conflict(exc):
                    raise
            ret.refresh(consistent_read=True)
        raise RuntimeError("could not record the timeline entry")
    writes.update(ret, lambda _: writes.Update(list(updates), timeline=[entry]),
                  busy=lambda: RuntimeError("could not record the timeline entry"))
