"""A return's record: reading it, and its timeline, which only ever grows (its own items: store.timeline)."""
from __future__ import annotations

from typing import Any

from ..rules import timeline
from ..rules.errors import ReturnNotFound
from . import timeline as timeline_items
from . import writes
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
    """Add a timeline entry (and extra attributes) without changing the status."""
    writes.update(ret, lambda _: writes.Update(list(updates or []), timeline=[timeline.entry(event, actor, detail)]),
                  busy=lambda: RuntimeError("could not record the timeline entry"))
