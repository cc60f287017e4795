"""Satisfaction: the customer's score when they confirm a return (1..5), and what analytics make of it
with the first response times of the conversations (GET /analytics/satisfaction).

Both are kept one partition per UTC day in the conversations table (store/conversations.py), so a range
is one Query per day, never a Scan; a score is put once per return (a repeated confirm counts once).
"""
from __future__ import annotations

from datetime import date, timedelta

from ..rules import clock, conversations as rules
from ..rules.errors import UnprocessableError
from ..store import conversations as store
from ..store.models import ReturnModel

MAX_DAYS = 92   # as finance's ranges: one Query per day, two kinds


def record(ret: ReturnModel, score: int) -> bool:
    """Keep the return's score with its items' reasons; False when it was kept already."""
    at = clock.iso()
    reasons = {str(item["reason"]) for item in ret.items if item.get("reason")} or None
    return store.put_once(store.feedback("score", at[:10], ret.return_id, at, score=int(score), reasons=reasons))


def _days(start: date, end: date) -> list[str]:
    if end < start:
        raise UnprocessableError("to is before from", field="to", code="invalid_value")
    if (end - start).days >= MAX_DAYS:
        raise UnprocessableError(f"at most {MAX_DAYS} days at a time", field="to", code="invalid_value")
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def figures(start: date, end: date) -> dict:
    """{count, average, by_reason: {reason: {count, average}}, median_first_response_seconds}."""
    days = _days(start, end)
    scores = [entry for day in days for entry in store.feedback_of_day("score", day)]
    waits = [float(entry.seconds) for day in days for entry in store.feedback_of_day("first_response", day)]
    by_reason: dict[str, list[int]] = {}
    for entry in scores:
        for reason in entry.reasons or ():
            by_reason.setdefault(reason, []).append(int(entry.score))
    median = rules.median(waits)
    return {
        "count": len(scores),
        "average": round(sum(int(e.score) for e in scores) / len(scores), 2) if scores else None,
        "by_reason": {reason: {"count": len(found), "average": round(sum(found) / len(found), 2)}
                      for reason, found in sorted(by_reason.items())},
        "median_first_response_seconds": int(median) if median is not None else None,
        "first_responses": len(waits),
    }
