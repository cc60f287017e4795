"""What the customer paid for each order line and each unit of it: the most any return of it refunds.

Pure functions over plain values; integer minor units. A line's paid amount is what the store
says it was (`paid_amount`, after discounts) or else its share of the capture less the order's
`shipping_paid`, allocated across the lines without a `paid_amount` in proportion to their list
prices (`money.allocate`: exact, the shares sum to what is allocated). It is never more than the
line's list price. Within a line, the paid amount is allocated across its units the same way, so
units returned one by one add up to at most the line's paid amount.
"""
from __future__ import annotations

from typing import Any

from .money import allocate


def list_total(line: dict[str, Any]) -> int:
    return int(line["qty"]) * int(line["unit_price"])


def order_problems(lines: list[dict[str, Any]], captured: int, shipping_paid: int | None) -> list[tuple[str, str]]:
    """(field, message) for each inconsistency of an order's amounts; empty when it holds."""
    problems: list[tuple[str, str]] = []
    running, over = 0, False
    for n, line in enumerate(lines):
        paid = line.get("paid_amount")
        if paid is None:
            continue
        if int(paid) > list_total(line):
            problems.append((f"lines[{n}].paid_amount", "paid_amount is more than qty x unit_price"))
        running += int(paid)
        if running > captured and not over:   # named at the line where the sum first passes the capture
            over = True
            problems.append((f"lines[{n}].paid_amount", "the lines' paid_amount add up to more than captured_amount"))
    if shipping_paid is not None and int(shipping_paid) > captured:
        problems.append(("shipping_paid", "shipping_paid is more than captured_amount"))
    return problems


def line_paid(lines: list[dict[str, Any]], captured: int, shipping_paid: int | None = None) -> dict[str, int]:
    """sku -> what the customer paid for the whole line."""
    given = {line["sku"]: min(int(line["paid_amount"]), list_total(line))
             for line in lines if line.get("paid_amount") is not None}
    rest = [line for line in lines if line.get("paid_amount") is None]
    pool = max(0, int(captured) - int(shipping_paid or 0) - sum(given.values()))
    shares = allocate(pool, [list_total(line) for line in rest]) if rest else []
    out = dict(given)
    for line, share in zip(rest, shares, strict=True):   # allocate gives one share per weight
        out[line["sku"]] = min(share, list_total(line))
    return out


def units_paid(line_amount: int, qty: int, first: int, count: int) -> int:
    """What was paid for units first .. first+count-1 (0-based) of a line of `qty` units.

    Unit shares are non-increasing (the extra minor units go to the first units), so a return
    valued from the units already held by earlier returns never takes more than its place.
    """
    if qty <= 0 or count <= 0:
        return 0
    first = max(0, min(first, qty))
    shares = allocate(int(line_amount), [1] * qty)
    return sum(shares[first:first + count])


def items_paid(order_lines: list[dict[str, Any]], captured: int, shipping_paid: int | None, items: list[dict[str, Any]],
               held: dict[str, int]) -> dict[str, int]:
    """sku -> what was paid for the units a new return takes, after the `held` ones of each line."""
    per_line = line_paid(order_lines, captured, shipping_paid)
    by_sku = {line["sku"]: line for line in order_lines}
    out = {}
    for item in items:
        line = by_sku[item["sku"]]
        out[item["sku"]] = units_paid(per_line[item["sku"]], int(line["qty"]), int(held.get(item["sku"], 0)),
                                      int(item["qty"]))
    return out
