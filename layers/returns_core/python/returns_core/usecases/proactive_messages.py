"""Telling customers before they ask (rules/proactive.py): the returns that sat too long in a late step,
read oldest first from the by_status index (bounded, no Scan), each told once per stay in that status.
Run by HandleTimeout's InboxSweep schedule, beside the first-response alerts."""
from __future__ import annotations

from datetime import datetime, timedelta

from ..rules import clock, proactive
from ..store.models import ReturnModel
from . import conversations

PER_STATUS = 200   # a sweep's bound per status; the next sweep goes on with the rest


def sweep(now: datetime | None = None) -> int:
    moment = now or clock.now()
    told = 0
    for late in proactive.LATE:
        before = clock.iso(moment - timedelta(seconds=late.after_seconds))
        hits = ReturnModel.by_status.query(late.status, ReturnModel.status_since <= before, limit=PER_STATUS)
        for ret in ReturnModel.load_many(list(hits)):
            if ret.status == late.status and conversations.tell_before_asked(ret, late.kind):
                told += 1
    return told
