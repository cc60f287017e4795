"""A return's risk score: signals from our own data, each a named reason with a weight the store may tune.

Pure: the facts are gathered by bounded reads (usecases/risk_facts.py) and scored here. The score is the
sum of the parts, clamped to 0..100; a part is a signal's weight (scaled by how strongly it holds, for the
counted ones), and every part that is not zero is one reason `{"code", "detail", "points"}`, in the order of
SIGNALS. Same facts and weights, same score and reasons.

The signals and their default weights (a store overrides any of them with `risk_weights` in its policy
document, each an integer -100..100; rules/policy_document.py):

- `many_recent_returns` 25: the customer's earlier returns in the last 90 days, from the second one; the
  full weight at RECENT_FULL or more (weight x (n - 1) / (RECENT_FULL - 1)).
- `high_value` 15: the refund asked for is above half of the finance approval threshold of its terms.
- `whole_order` 10: the refund asked for is at least WHOLE_ORDER_PERCENT % of what the order captured.
  (The refund asked for is what it takes from the capture: a store credit bonus is the store's money.)
- `new_customer` 10: this order is the only one we know of this customer.
- `several_orders` 15: returns for at least SEVERAL_ORDERS other orders requested in the last 24 hours.
- `worse_than_declared` 25: an earlier return graded worse than its reasons said (a "changed my mind"
  item that came back damaged, a wrong or missing item); the full weight from the second one.
- `earlier_abuse` 40: ops marked an earlier return of this customer as abuse.
- `cleared_by_ops` -20: ops marked an earlier return of this customer as fine (lowers the score).
- `address_mismatch` 10: the parcel is collected from another postcode or country than the order went to.
- `name_mismatch` 10: the order's shipping address names someone else than its customer.
- `many_lookups` 15: at least MANY_LOOKUPS failed order lookups for this customer's email lately.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import clock

WEIGHTS: dict[str, int] = {
    "many_recent_returns": 25, "high_value": 15, "whole_order": 10, "new_customer": 10,
    "several_orders": 15, "worse_than_declared": 25, "earlier_abuse": 40, "cleared_by_ops": -20,
    "address_mismatch": 10, "name_mismatch": 10, "many_lookups": 15,
}
SIGNALS = tuple(WEIGHTS)
WEIGHT_MIN, WEIGHT_MAX = -100, 100

RECENT_FULL = 5
WHOLE_ORDER_PERCENT = 90
SEVERAL_ORDERS = 2
MANY_LOOKUPS = 3
# Reasons that say the item itself was fine: graded damaged, wrong or missing, it came back worse than told.
FINE_ITEM_REASONS = frozenset({"changed_mind", "too_small", "too_large", "other"})
WORSE_CONDITIONS = frozenset({"damaged", "wrong_item", "missing"})
VERDICTS = ("fine", "abuse")


@dataclass(frozen=True)
class Facts:
    """What the score is decided from; every field from our own records (bounded reads)."""
    earlier_returns_90d: int = 0
    other_orders_returned_24h: int = 0
    refund_amount: int = 0
    order_captured: int = 0
    approval_threshold: int = 50000
    only_order: bool = False
    worse_than_declared: int = 0
    abuse_verdicts: int = 0
    fine_verdicts: int = 0
    address_mismatch: bool = False
    name_mismatch: bool = False
    failed_lookups: int = 0


@dataclass(frozen=True)
class Reason:
    code: str
    detail: str
    points: int

    def to_api(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, "points": self.points}


@dataclass(frozen=True)
class Score:
    score: int
    reasons: tuple[Reason, ...]

    def to_api(self) -> dict[str, Any]:
        return {"score": self.score, "reasons": [r.to_api() for r in self.reasons]}


def weights_of(overrides: dict[str, int] | None) -> dict[str, int]:
    """The built-in weights with the store's overrides (already validated) on top."""
    return {**WEIGHTS, **{k: int(v) for k, v in (overrides or {}).items() if k in WEIGHTS}}


def _scaled(weight: int, strength: int, full: int) -> int:
    """`weight` x strength / full, rounded half away from zero, in integers (no float drift)."""
    strength = max(0, min(strength, full))
    sign = -1 if weight < 0 else 1
    return sign * ((abs(weight) * strength * 2 + full) // (2 * full))


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _parts(f: Facts, w: dict[str, int]) -> list[tuple[str, int, str]]:
    parts: list[tuple[str, int, str]] = []
    if f.earlier_returns_90d >= 2:
        parts.append(("many_recent_returns", _scaled(w["many_recent_returns"], f.earlier_returns_90d - 1,
                                                     RECENT_FULL - 1),
                      f"{_plural(f.earlier_returns_90d, 'earlier return', 'earlier returns')} in the last 90 days"))
    if f.refund_amount * 2 > f.approval_threshold:
        parts.append(("high_value", w["high_value"],
                      f"refund of {f.refund_amount} is above half the approval threshold ({f.approval_threshold})"))
    if f.order_captured > 0 and f.refund_amount * 100 >= f.order_captured * WHOLE_ORDER_PERCENT:
        parts.append(("whole_order", w["whole_order"],
                      f"refund of {f.refund_amount} is {f.refund_amount * 100 // f.order_captured} % "
                      f"of the {f.order_captured} captured"))
    if f.only_order:
        parts.append(("new_customer", w["new_customer"], "first order we know of this customer"))
    if f.other_orders_returned_24h >= SEVERAL_ORDERS:
        parts.append(("several_orders", w["several_orders"],
                      f"{_plural(f.other_orders_returned_24h, 'other order', 'other orders')} "
                      "returned in the last 24 hours"))
    if f.worse_than_declared >= 1:
        parts.append(("worse_than_declared", _scaled(w["worse_than_declared"], f.worse_than_declared, 2),
                      f"{_plural(f.worse_than_declared, 'earlier return', 'earlier returns')} "
                      "graded worse than declared"))
    if f.abuse_verdicts >= 1:
        parts.append(("earlier_abuse", w["earlier_abuse"],
                      f"{_plural(f.abuse_verdicts, 'earlier return', 'earlier returns')} marked abuse by ops"))
    if f.fine_verdicts >= 1:
        parts.append(("cleared_by_ops", w["cleared_by_ops"],
                      f"{_plural(f.fine_verdicts, 'earlier return', 'earlier returns')} marked fine by ops"))
    if f.address_mismatch:
        parts.append(("address_mismatch", w["address_mismatch"],
                      "collected from another postcode or country than the order was delivered to"))
    if f.name_mismatch:
        parts.append(("name_mismatch", w["name_mismatch"], "the shipping address names someone else"))
    if f.failed_lookups >= MANY_LOOKUPS:
        parts.append(("many_lookups", w["many_lookups"],
                      f"{_plural(f.failed_lookups, 'failed lookup', 'failed lookups')} for this email lately"))
    return parts


def score(facts: Facts, overrides: dict[str, int] | None = None) -> Score:
    """The score (0..100) and one reason per part that is not zero, in SIGNALS order."""
    w = weights_of(overrides)
    reasons = tuple(Reason(code, detail, points) for code, points, detail in _parts(facts, w) if points != 0)
    return Score(max(0, min(100, sum(r.points for r in reasons))), reasons)


def worse_than_declared(items: list[dict[str, Any]], graded: list[dict[str, Any]]) -> bool:
    """Whether an inspection found an item worse than its reason said: an item the customer called fine
    (FINE_ITEM_REASONS) graded damaged, wrong or missing."""
    reason_of = {str(i.get("sku")): i.get("reason") for i in items}
    return any(g.get("condition") in WORSE_CONDITIONS and reason_of.get(str(g.get("sku"))) in FINE_ITEM_REASONS
               for g in graded)


WINDOW_DAYS = 90


@dataclass(frozen=True)
class Earlier:
    """One of the customer's earlier returns, as the score reads it."""
    order_id: str
    created_at: str                                    # ISO 8601 UTC
    items: tuple[dict[str, Any], ...] = ()             # [{sku, reason}]
    graded: tuple[dict[str, Any], ...] | None = None   # its inspection's lines, when graded (not lost)
    verdict: str | None = None                         # ops's: fine | abuse


@dataclass(frozen=True)
class Request:
    """The return being scored, and what we know of its customer beside their returns."""
    order_id: str
    refund_amount: int
    order_captured: int
    approval_threshold: int
    only_order: bool = False
    shipped_to: dict[str, Any] | None = None
    collected_from: dict[str, Any] | None = None
    customer_name: str | None = None
    failed_lookups: int = 0


def facts_of(request: Request, earlier: Sequence[Earlier], now: datetime) -> Facts:
    """The facts of a request and the customer's earlier returns (the newest ones: the caller bounds them)."""
    since, day_ago = clock.iso(now - timedelta(days=WINDOW_DAYS)), clock.iso(now - timedelta(days=1))
    recent = [e for e in earlier if e.created_at >= since]
    verdicts = [e.verdict for e in earlier]
    return Facts(
        earlier_returns_90d=len(recent),
        other_orders_returned_24h=len({e.order_id for e in recent
                                       if e.created_at >= day_ago and e.order_id != request.order_id}),
        refund_amount=request.refund_amount, order_captured=request.order_captured,
        approval_threshold=request.approval_threshold, only_order=request.only_order,
        worse_than_declared=sum(1 for e in earlier if e.graded is not None
                                and worse_than_declared(list(e.items), list(e.graded))),
        abuse_verdicts=verdicts.count("abuse"), fine_verdicts=verdicts.count("fine"),
        address_mismatch=address_differs(request.shipped_to, request.collected_from),
        name_mismatch=name_differs(request.customer_name, request.shipped_to),
        failed_lookups=request.failed_lookups)


def _norm(text: object) -> str:
    return " ".join(str(text or "").lower().split())


def address_differs(shipped_to: dict[str, Any] | None, collected_from: dict[str, Any] | None) -> bool:
    """A collection address in another postcode or country than the order's delivery (None: not collected)."""
    if not shipped_to or not collected_from:
        return False
    return any(_norm(collected_from.get(k)) and _norm(collected_from.get(k)) != _norm(shipped_to.get(k))
               for k in ("postcode", "country"))


def name_differs(customer_name: object, shipped_to: dict[str, Any] | None) -> bool:
    """The shipping address carries a name sharing no word with the customer's (a gift is the usual
    innocent case, hence a small weight)."""
    named = _norm((shipped_to or {}).get("name"))
    own = _norm(customer_name)
    return bool(named and own and not set(named.split()) & set(own.split()))


def held(score_value: int, hold_above: int) -> bool:
    """Above the policy's `risk_hold_above` the refund waits for the inspection."""
    return score_value > hold_above
