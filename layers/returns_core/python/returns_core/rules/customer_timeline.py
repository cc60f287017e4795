"""One customer's history as one list: their returns' timelines, their claims' timelines and the
messages sent to them, merged newest first and bounded (customer service's search).

Pure: the records are read by store/ and usecases/; this only merges, orders and caps them.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

# The most entries one search answers; more are left out, newest kept, and the answer says so.
MAX_ENTRIES = 500
_EPOCH = datetime.min.replace(tzinfo=UTC)


def _moment(at: Any) -> datetime:
    """An entry's time; one that does not read sorts last (oldest), never breaks the merge."""
    try:
        moment = datetime.fromisoformat(str(at).replace("Z", "+00:00"))
    except ValueError:
        return _EPOCH
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def entry(raw: dict[str, Any], *, return_id: str | None = None, claim_id: str | None = None,
          order_id: str | None = None, text: str | None = None) -> dict[str, Any]:
    """One merged entry: where it comes from (return_id or claim_id, order_id) and, for a message
    sent, its channel (email, sms)."""
    detail = raw.get("detail")
    out: dict[str, Any] = {"at": raw.get("at"), "type": raw.get("type"), "actor": raw.get("actor"),
                           "detail": detail}
    if return_id is not None:
        out["return_id"] = return_id
    if claim_id is not None:
        out["claim_id"] = claim_id
    if order_id is not None:
        out["order_id"] = order_id
    if isinstance(detail, dict) and isinstance(detail.get("channel"), str):
        out["channel"] = detail["channel"]
    if text is not None:
        out["text"] = text
    return out


def merge(sources: Iterable[list[dict[str, Any]]], limit: int = MAX_ENTRIES,
          more: bool = False) -> tuple[list[dict[str, Any]], bool]:
    """Every source's entries in one list, newest first, at most `limit`; and whether any was left out
    (`more`: a source already had more than it gave). Entries of the same instant keep their
    sources' order (each source newest first), so a return's own order is never shuffled."""
    merged = [e for source in sources for e in source]
    merged.sort(key=lambda e: _moment(e.get("at")), reverse=True)   # stable: ties keep their order
    return merged[:limit], more or len(merged) > limit
