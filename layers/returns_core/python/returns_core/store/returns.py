"""A return's record: reading it, and its timeline, which only ever grows."""
from __future__ import annotations

from typing import Any

from ..rules import timeline
from ..rules.errors import ReturnNotFound
from . import writes
from .models import ReturnModel


def get(return_id: str, consistent: bool = True) -> ReturnModel:
    try:
        return ReturnModel.get(return_id, consistent_read=consistent)
    except ReturnModel.DoesNotExist as exc:
        raise ReturnNotFound(return_id) from exc


def add_to_timeline(*entries: dict) -> Any:
    """The update action that appends entries to a return's timeline (part of a larger write)."""
    return ReturnModel.timeline.set(ReturnModel.timeline.append(list(entries)))


def append_timeline(ret: ReturnModel, *, actor: str, event: str, detail: Any = None,
                    updates: list | None = None) -> None:
    """Add a timeline entry (and extra attributes) without changing the status."""
    writes.update(ret, lambda _: writes.Update([add_to_timeline(timeline.entry(event, actor, detail)),
                                                *(updates or [])]),
                  busy=lambda: RuntimeError("could not record the timeline entry"))
