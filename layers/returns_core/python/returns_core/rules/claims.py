"""A claim: a problem with an order that needs no return parcel (it never arrived, it arrived broken,
an item was missing). Pure rules: what may be claimed, what it is worth, which moves are allowed,
and what a claim photo must be.

A claim is not a return: it has no workflow, no label, no inspection. Ops resolves it once, by a
refund (paid through the ledger as a `claim` entry, never above what is left of the capture), a
reship (the store sends the items again) or a rejection.
"""
from __future__ import annotations

from typing import Any

from .paid import line_paid, units_paid

KINDS = ("not_received", "damaged_on_arrival", "missing_item")
DECISIONS = ("refund", "reship", "reject")
METHODS = ("refund", "store_credit")

OPEN = "open"
# The refund is decided and its amount held on the order; the Settle function has not paid it yet
# (its invoke failed or is running). Ops sees it in GET /ops/claims and resolves it again to pay it.
REFUND_PENDING = "refund_pending"
REFUNDED = "refunded"
RESHIP_REQUESTED = "reship_requested"
REJECTED = "rejected"
STATUSES = (OPEN, REFUND_PENDING, REFUNDED, RESHIP_REQUESTED, REJECTED)
FINAL = frozenset({REFUNDED, RESHIP_REQUESTED, REJECTED})

ALLOWED: dict[str, frozenset[str]] = {
    OPEN: frozenset({REFUND_PENDING, RESHIP_REQUESTED, REJECTED}),
    REFUND_PENDING: frozenset({REFUNDED}),
}
# The status a decision moves an open claim to.
DECIDED = {"refund": REFUND_PENDING, "reship": RESHIP_REQUESTED, "reject": REJECTED}

MAX_LINES = 50
MAX_PHOTOS = 10

# A photo: one image of at most 10 MB, of one of these types. The presigned POST's policy asks S3 to
# refuse anything else; the same rule is checked again on what was stored before staff see it.
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
PHOTO_SECONDS = 15 * 60   # how long the upload form (and a staff's view link) stays valid


def can_move(current: str, new: str) -> bool:
    return new in ALLOWED.get(current, frozenset())


def hold_key(claim_id: str) -> str:
    """The key of the claim refund's hold on the order (a return's refund holds under its id)."""
    return f"{claim_id}:claim"


def line_problems(order_lines: list[dict[str, Any]], lines: list[dict[str, Any]],
                  held: dict[str, int] | None = None) -> list[tuple[str, str]]:
    """(field, message) for each claimed line the order does not have as claimed; empty when all hold.
    `held`: sku -> units already held by returns and other claims (policy.held_quantities): those
    units are refunded (or being refunded) another way, so a claim cannot take them again."""
    ordered = {line["sku"]: int(line["qty"]) for line in order_lines}
    held = held or {}
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for n, line in enumerate(lines):
        sku, qty = line["sku"], int(line["qty"])
        if sku not in ordered:
            problems.append((f"lines[{n}].sku", f"the order has no line {sku}"))
        elif sku in seen:
            problems.append((f"lines[{n}].sku", f"{sku} is claimed twice; give it once with its quantity"))
        elif qty > ordered[sku]:
            problems.append((f"lines[{n}].qty", f"the order has {ordered[sku]} of {sku}"))
        elif qty > ordered[sku] - int(held.get(sku, 0)):
            left = max(0, ordered[sku] - int(held.get(sku, 0)))
            problems.append((f"lines[{n}].qty", f"{int(held.get(sku, 0))} of {sku} are already returned or claimed; "
                                                f"{left} can be claimed"))
        seen.add(sku)
    return problems


def lines_value(order_lines: list[dict[str, Any]], captured: int, shipping_paid: int | None,
                lines: list[dict[str, Any]], held: dict[str, int] | None = None) -> int:
    """What the customer paid for the claimed units (rules/paid.py): the default refund of a claim.
    Valued as the units that come after those `held` by returns and other claims, as a return's
    are: units valued one by one never add up to more than the line cost."""
    per_line = line_paid(order_lines, captured, shipping_paid)
    qty = {line["sku"]: int(line["qty"]) for line in order_lines}
    return sum(units_paid(per_line[line["sku"]], qty[line["sku"]], int((held or {}).get(line["sku"], 0)),
                          int(line["qty"])) for line in lines)


# The first bytes of each accepted image type: a photo is what its bytes say, not what its upload claimed.
_MAGIC = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}


def sniff_image(head: bytes) -> str | None:
    """The image type the first bytes (at least 12) show, or None when they are no accepted image."""
    for kind, prefixes in _MAGIC.items():
        if any(head.startswith(p) for p in prefixes):
            return kind
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def photo_problem(size: int, content_type: str | None, head: bytes) -> str | None:
    """Why a stored object is not an acceptable claim photo; None when it is one."""
    if size <= 0:
        return "empty"
    if size > MAX_PHOTO_BYTES:
        return "too_large"
    if (content_type or "").split(";")[0].strip().lower() not in PHOTO_TYPES:
        return "not_an_image"
    sniffed = sniff_image(head)
    if sniffed is None:
        return "not_an_image"
    return None
