"""The replacement side of an exchange, read from the return's timeline."""
from __future__ import annotations

from typing import Any

from .shapes import Inspection

REQUESTED = "exchange.requested"   # the timeline flag written once per return, with the lines
SHIPPED = "exchange.shipped"


def requested_lines(timeline: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The replacement lines the store was asked for, or None if it was not asked yet."""
    for entry in timeline or []:
        if entry.get("type") == REQUESTED:
            return list((entry.get("detail") or {}).get("lines") or [])
    return None


def lines_after_inspection(items: list[dict[str, Any]], inspection: Inspection | None) -> list[dict[str, Any]]:
    """The graded lines that passed are swapped (the others were refunded by grade)."""
    return [{"sku": i["sku"], "qty": int(i["qty"]), "exchange_for": next(
        (x.get("exchange_for") for x in items if x["sku"] == i["sku"]), None)}
        for i in (inspection or {}).get("items", []) if i.get("exchanged")]


def lines_at_dropoff(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An order that opted in for instant exchanges ships every replacement at drop-off."""
    return [{"sku": i["sku"], "qty": int(i["qty"]), "exchange_for": i.get("exchange_for")}
            for i in items if i.get("exchange_for")]
