"""The returns policy: eligibility, the quote, grading, review and approval rules.

Pure functions over plain values. Amounts are integer minor units.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import money, statuses
from .money import Money

REASONS = (
    "defective", "damaged_in_transit", "wrong_item", "not_as_described",
    "too_small", "too_large", "changed_mind", "other",
)
RESOLUTIONS = ("refund", "store_credit", "exchange")
CONDITIONS = ("resellable", "opened", "damaged", "wrong_item", "missing")
# The grade of an item the carrier lost on its way back (its `lost` event, or the transit limit).
# The customer did their part, so it settles as an item that came back as sent: refunded in full,
# or swapped in an exchange. The carrier's fault, never the warehouse's finding: not in CONDITIONS.
LOST_IN_TRANSIT = "lost_in_transit"
# The customer pays the return label when the return is their choice, not our fault.
CUSTOMER_CHOICE_REASONS = frozenset({"changed_mind", "too_small", "too_large"})
NOT_CUSTOMER_FAULT_REASONS = frozenset({"defective", "damaged_in_transit"})


@dataclass(frozen=True)
class Policy:
    window_days: int = 30
    return_shipping_fee: int = 495
    restocking_fee_percent: int = 0
    store_credit_bonus_percent: int = 10
    approval_threshold: int = 50000
    risky_order_total: int = 100000
    risky_returns_in_90_days: int = 3
    grade_percent: dict[str, int] = field(default_factory=lambda: {
        "resellable": 100, "opened": 90, "damaged": 50, "wrong_item": 0, "missing": 0,
    })
    # The store's policy document (rules/policy_document.py) decides these per line; the values
    # here are the built-in defaults, what a store that never published a policy gets.
    resolutions: tuple[str, ...] = RESOLUTIONS
    shipping_fee_reasons: tuple[str, ...] = tuple(r for r in REASONS if r in CUSTOMER_CHOICE_REASONS)
    keep_item: bool = False          # returnless: the customer keeps the item, refunded without a parcel
    returnable: bool = True
    message: str | None = None       # why not, when not returnable
    # When the refund is paid (rules/refund_timing.py) and the risk score above which it waits for the
    # inspection whatever refund_on says (rules/risk.py).
    refund_on: str = "inspection"
    risk_hold_above: int = 50
    # Which carriers issue the label, per country and drop-off method (policy_document.CARRIER_KEYS).
    carriers: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def item_percent(self, condition: str, reason: str) -> int:
        if condition == LOST_IN_TRANSIT:
            return 100
        if condition == "damaged" and reason in NOT_CUSTOMER_FAULT_REASONS:
            return 100
        return self.grade_percent[condition]

    def to_stored(self) -> dict[str, Any]:
        """The terms as a return item stores them: what every later decision about it reads."""
        return {"window_days": self.window_days, "return_shipping_fee": self.return_shipping_fee,
                "restocking_fee_percent": self.restocking_fee_percent,
                "store_credit_bonus_percent": self.store_credit_bonus_percent,
                "approval_threshold": self.approval_threshold, "risky_order_total": self.risky_order_total,
                "risky_returns_in_90_days": self.risky_returns_in_90_days, "grade_percent": dict(self.grade_percent),
                "resolutions": list(self.resolutions), "shipping_fee_reasons": list(self.shipping_fee_reasons),
                "keep_item": self.keep_item, "refund_on": self.refund_on, "risk_hold_above": self.risk_hold_above}

    @staticmethod
    def from_stored(stored: dict[str, Any] | None) -> Policy:
        """A return item's stored terms; an item stored before policies were versioned: the built-in ones."""
        if not stored:
            return DEFAULT
        return Policy(
            window_days=int(stored["window_days"]), return_shipping_fee=int(stored["return_shipping_fee"]),
            restocking_fee_percent=int(stored["restocking_fee_percent"]),
            store_credit_bonus_percent=int(stored["store_credit_bonus_percent"]),
            approval_threshold=int(stored["approval_threshold"]), risky_order_total=int(stored["risky_order_total"]),
            risky_returns_in_90_days=int(stored["risky_returns_in_90_days"]),
            grade_percent={k: int(v) for k, v in dict(stored["grade_percent"]).items()},
            resolutions=tuple(stored["resolutions"]), shipping_fee_reasons=tuple(stored["shipping_fee_reasons"]),
            keep_item=bool(stored["keep_item"]),
            # Items stored before refunds could be paid early: at inspection, as they always were.
            refund_on=str(stored.get("refund_on", "inspection")),
            risk_hold_above=int(stored.get("risk_hold_above", 50)))


DEFAULT = Policy()


# The eligibility rules an ops agent's exception may waive (POST /returns with `exception`), by name.
# Never waived: an order not delivered yet (nothing to send back: a claim's matter) and quantities
# already returned (the units are not there to return twice).
WAIVABLE_RULES = ("final_sale", "policy_rule", "window", "resolution")


@dataclass(frozen=True)
class Waiver:
    """One rule an exception waived for one line: its name (WAIVABLE_RULES) and what it would have said."""
    rule: str
    message: str


@dataclass(frozen=True)
class LineEligibility:
    returnable_qty: int
    eligible: bool
    reason: str | None
    waived: tuple[Waiver, ...] = ()   # with `waive`: the rules that failed and were set aside


def line_eligibility(line: dict[str, Any], delivered_at: datetime | None, now: datetime,
                     reserved_qty: int, policy: Policy = DEFAULT, waive: bool = False) -> LineEligibility:
    """Can this order line be returned now, and how many of it? `policy`: the line's terms.
    `waive` (an ops exception): the WAIVABLE_RULES that fail are named in `waived` instead of refusing."""
    left = max(0, int(line["qty"]) - reserved_qty)
    waived: list[Waiver] = []

    def refused(message: str) -> LineEligibility:
        return LineEligibility(0, False, message, tuple(waived))

    def refuse(rule: str, message: str) -> LineEligibility | None:
        """Refused, unless `waive` sets this rule aside (None: go on)."""
        if waive and rule in WAIVABLE_RULES:
            waived.append(Waiver(rule, message))
            return None
        return refused(message)

    if line.get("final_sale") and (no := refuse("final_sale", "Final sale items cannot be returned.")):
        return no
    if not policy.returnable and (no := refuse("policy_rule", policy.message or "This item cannot be returned.")):
        return no
    if delivered_at is None:
        return refused("This order has not been delivered yet.")
    # The age of the delivery, not delivered_at plus the window: a date near the end of time (an
    # order stored before the edge checked it) cannot overflow a subtraction of two datetimes.
    if now - delivered_at > timedelta(days=policy.window_days) and (
            no := refuse("window", f"The {policy.window_days}-day return window has passed.")):
        return no
    if left == 0:
        return refused("Everything on this line has already been returned.")
    return LineEligibility(left, True, None, tuple(waived))


@dataclass(frozen=True)
class QuoteLine:
    sku: str
    qty: int
    amount: int


@dataclass(frozen=True)
class GradedLine:
    """One inspection line as graded: swapped (an exchange that passed) or refunded by its grade."""
    sku: str
    qty: int
    condition: str
    refund_amount: int
    exchanged: bool


@dataclass(frozen=True)
class Quote:
    currency: str
    items_total: int
    restocking_fee: int
    return_shipping_fee: int
    bonus: int
    refund_amount: int
    lines: tuple[QuoteLine, ...] = ()
    exchanged: tuple[QuoteLine, ...] = ()
    graded: tuple[GradedLine, ...] = ()   # the final quote's inspection lines, in the order graded

    def to_api(self) -> dict[str, Any]:
        return {
            "items_total": self.items_total, "restocking_fee": self.restocking_fee,
            "return_shipping_fee": self.return_shipping_fee, "bonus": self.bonus,
            "refund_amount": self.refund_amount,
        }


def _terms_of(terms: dict[str, Policy] | None, sku: str, policy: Policy) -> Policy:
    return (terms or {}).get(sku, policy)


def _percent_by_group(lines: list[QuoteLine], pct_of: Callable[[QuoteLine], int], currency: str) -> Money:
    """Each percentage applied once to the total of the lines it applies to (one group: exactly the
    percent of the whole, as when every line had the same terms), so rounding never depends on how a
    return's lines are split."""
    groups: dict[int, Money] = {}
    for x in lines:
        pct = pct_of(x)
        groups[pct] = groups.get(pct, Money.zero(currency)) + Money(x.amount, currency)
    return sum((total.percent(pct) for pct, total in groups.items()), Money.zero(currency))


def _settle(currency: str, lines: list[QuoteLine], exchanged: list[QuoteLine], reasons: dict[str, str],
            resolution: str, policy: Policy, graded: tuple[GradedLine, ...] = (),
            terms: dict[str, Policy] | None = None) -> Quote:
    """`reasons`: sku -> the item's reason; `terms`: sku -> the item's terms (default `policy`)."""
    def of(sku: str) -> Policy:
        return _terms_of(terms, sku, policy)

    items_total = sum((Money(x.amount, currency) for x in lines), Money.zero(currency))
    restocking = _percent_by_group(lines, lambda x: of(x.sku).restocking_fee_percent, currency)
    shipping = Money.zero(currency)
    # Exchanges ship free: keeping the sale is worth the label. Items the customer keeps need none.
    keep = bool(reasons) and all(of(sku).keep_item for sku in reasons)
    if (resolution != "exchange" and not keep and reasons
            and all(r in of(sku).shipping_fee_reasons for sku, r in reasons.items())):
        fee = max(of(sku).return_shipping_fee for sku in reasons)
        shipping = Money(min(fee, (items_total - restocking).amount), currency)
    net = items_total - restocking - shipping
    bonus = Money.zero(currency)
    if resolution == "store_credit" and lines:
        # The bonus on what is left of each line once the fees are shared out by value (exact).
        fees = money.allocate((restocking + shipping).amount, [x.amount for x in lines]) if items_total.amount \
            else [0] * len(lines)
        after = [QuoteLine(x.sku, x.qty, max(0, x.amount - f)) for x, f in zip(lines, fees, strict=True)]
        bonus = _percent_by_group(after, lambda x: of(x.sku).store_credit_bonus_percent, currency) \
            if len({of(x.sku).store_credit_bonus_percent for x in lines}) > 1 \
            else net.percent(of(lines[0].sku).store_credit_bonus_percent)
    return Quote(currency, items_total.amount, restocking.amount, shipping.amount, bonus.amount,
                 max(0, (net + bonus).amount), tuple(lines), tuple(exchanged), graded)


def _value(sku: str, qty: int, prices: dict[str, int], paid: Mapping[str, int | None] | None) -> int:
    """What these units refund at most: what was paid for them, never their list price when that is more."""
    listed = prices[sku] * qty
    got = (paid or {}).get(sku)
    return listed if got is None else min(int(got), listed)


def quote_request(items: list[dict[str, Any]], prices: dict[str, int], currency: str, resolution: str,
                  policy: Policy = DEFAULT, paid: dict[str, int] | None = None,
                  terms: dict[str, Policy] | None = None) -> Quote:
    """The quote shown before inspection: every item assumed to come back resellable.

    `paid`: sku -> what the customer paid for the units of this item (rules/paid.py); without it,
    the list price. `terms`: sku -> the terms the policy gives the item (default: `policy`).
    """
    reasons = {i["sku"]: i["reason"] for i in items}
    if resolution == "exchange":
        exchanged = [QuoteLine(i["sku"], i["qty"], 0) for i in items]
        return _settle(currency, [], exchanged, reasons, resolution, policy, terms=terms)
    lines = [QuoteLine(i["sku"], i["qty"], _value(i["sku"], i["qty"], prices, paid)) for i in items]
    return _settle(currency, lines, [], reasons, resolution, policy, terms=terms)


def exchange_passes(condition: str, reason: str) -> bool:
    """An exchanged item that comes back in this state is swapped, not refunded."""
    return condition in ("resellable", "opened", LOST_IN_TRANSIT) or (
        condition == "damaged" and reason in NOT_CUSTOMER_FAULT_REASONS)


def quote_inspected(items: list[dict[str, Any]], graded: list[dict[str, Any]], prices: dict[str, int], currency: str,
                    resolution: str, policy: Policy = DEFAULT, terms: dict[str, Policy] | None = None) -> Quote:
    """The final quote: only what was received and graded counts, never what was announced.

    `graded` holds inspection lines {sku, qty, condition}; a sku may appear on several
    lines (one good, one damaged).
    """
    reason_of = {i["sku"]: i["reason"] for i in items}
    terms = stored_terms(items) if terms is None else terms
    # Each graded line's value: the item's paid amount (stored on the return when it was asked for)
    # split exactly across its graded lines by quantity; the list price for items stored without it.
    values = [0] * len(graded)
    by_item = {i["sku"]: i for i in items}
    for sku in dict.fromkeys(g["sku"] for g in graded):
        item = by_item[sku]
        mine = [n for n, g in enumerate(graded) if g["sku"] == sku]
        if item.get("paid") is None:
            for n in mine:
                values[n] = prices[sku] * int(graded[n]["qty"])
            continue
        qtys = [int(graded[n]["qty"]) for n in mine]
        whole = max(int(item["qty"]), sum(qtys))
        shares = money.allocate(_value(sku, whole, prices, {sku: item["paid"]}), qtys + [whole - sum(qtys)])
        for n, share in zip(mine, shares, strict=False):   # the last share is the units not graded
            values[n] = share
    lines: list[QuoteLine] = []
    exchanged: list[QuoteLine] = []
    decided: list[GradedLine] = []
    for n, g in enumerate(graded):
        sku, qty, condition = g["sku"], int(g["qty"]), g["condition"]
        reason = reason_of[sku]
        if resolution == "exchange" and exchange_passes(condition, reason):
            exchanged.append(QuoteLine(sku, qty, 0))
            decided.append(GradedLine(sku, qty, condition, 0, True))
            continue
        pct = _terms_of(terms, sku, policy).item_percent(condition, reason)
        lines.append(QuoteLine(sku, qty, Money(values[n], currency).percent(pct).amount))
        decided.append(GradedLine(sku, qty, condition, lines[-1].amount, False))
    return _settle(currency, lines, exchanged, reason_of, resolution, policy, tuple(decided), terms)


def stored_terms(items: list[dict[str, Any]]) -> dict[str, Policy]:
    """sku -> the terms a return's item was stored with (the built-in ones for items stored before)."""
    return {i["sku"]: Policy.from_stored(i["terms"]) for i in items if i.get("terms")}


def return_terms(items: list[dict[str, Any]]) -> Policy:
    """The return-wide terms of a return's items: the strictest approval threshold of its items."""
    terms = list(stored_terms(items).values()) or [DEFAULT]
    return min(terms, key=lambda t: t.approval_threshold)


def keeps_items(items: list[dict[str, Any]]) -> bool:
    """Returnless: every item of the return is one the customer keeps (a mix sends them all back)."""
    return bool(items) and all(bool(i.get("keep_item")) for i in items)


def lost_in_transit(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The grading of a parcel the carrier lost: every item announced, graded as lost by the carrier.
    Fed to `quote_inspected` like a warehouse's grading, so a lost parcel settles by the same rules
    (approval threshold, exchange, what was paid) as one that arrived."""
    return [{"sku": i["sku"], "qty": int(i["qty"]), "condition": LOST_IN_TRANSIT} for i in items]


def inspection_items(final: Quote, notes: list[str | None] | None = None) -> list[dict[str, Any]]:
    """The graded lines as a return stores them (`inspection.items`): what the final quote decided."""
    notes = notes or [None] * len(final.graded)
    return [{"sku": g.sku, "qty": g.qty, "condition": g.condition, "note": note, "refund_amount": g.refund_amount,
             "exchanged": g.exchanged} for g, note in zip(final.graded, notes, strict=False)]


def declared_value(items: list[dict[str, Any]]) -> int:
    """What a return's items were worth to the customer (what was paid for them, at most their list
    price): the value a carrier claim declares for a lost parcel, whatever its resolution."""
    return sum(_value(i["sku"], int(i["qty"]), {i["sku"]: int(i["unit_price"])}, {i["sku"]: i.get("paid")})
               for i in items)


def is_received(condition: str) -> bool:
    """Whether a graded line was in the warehouse's hands (a lost one was graded without the parcel)."""
    return condition != LOST_IN_TRANSIT


def is_risky(order_total: int, returns_in_90_days: int, policy: Policy = DEFAULT) -> bool:
    """Ops reviews the customer's 3rd return within 90 days, and returns of large orders."""
    return order_total > policy.risky_order_total or returns_in_90_days + 1 >= policy.risky_returns_in_90_days


def needs_approval(refund_amount: int, policy: Policy = DEFAULT) -> bool:
    return refund_amount > policy.approval_threshold


def may_approve(approver: str, inspected_by: str | None) -> bool:
    """Four eyes: whoever inspected a return cannot approve its refund."""
    return inspected_by != approver


# An ops review's decision -> (the status it moves the return to, its timeline event). Approved
# returns go back to `requested`: the workflow then issues their label.
REVIEW_DECISIONS: dict[str, tuple[str, str]] = {
    "approve": (statuses.REQUESTED, "review.approved"),
    "reject": (statuses.REJECTED, "review.rejected"),
}

# The customer's answer after the refund -> (the status, the timeline event): satisfied closes the
# return, anything else opens a dispute for customer service.
CONFIRMATION_OUTCOMES: dict[bool, tuple[str, str]] = {
    True: (statuses.CLOSED, "return.confirmed"),
    False: (statuses.DISPUTED, "return.disputed"),
}


def holding(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What one return holds of the order, as stored: [{sku, qty}]. SKUs are the customer's and the
    store's strings, so they are values here, never map keys the storage layer could read as structure."""
    return [{"sku": str(i["sku"]), "qty": int(i["qty"])} for i in items]


def _held_pairs(held: object) -> list[tuple[str, int]]:
    if isinstance(held, list):                      # [{sku, qty}]: how `holding` stores it
        return [(h["sku"], int(h["qty"])) for h in held]
    if isinstance(held, dict):                      # {sku: qty}: orders written before issue 14
        return [(sku, int(qty)) for sku, qty in held.items()]
    if isinstance(held, (int, float)) and not isinstance(held, bool):
        # {"N": qty} written as a map was stored as the bare number qty (PynamoDB took the map as
        # already serialised); no other SKU leaves a number, so the SKU was "N".
        return [("N", int(held))]
    raise TypeError(f"unreadable reservation: {type(held).__name__}")


def held_quantities(reserved: dict[str, object]) -> dict[str, int]:
    """sku -> quantity held by returns (per-return entries, so releasing one is idempotent)."""
    total: dict[str, int] = {}
    for held in reserved.values():
        for sku, qty in _held_pairs(held):
            total[sku] = total.get(sku, 0) + qty
    return total


def order_eligibility(lines: list[dict[str, Any]], reserved: dict[str, object], delivered_at: datetime | None,
                      now: datetime,
                      policy: Policy = DEFAULT, terms: dict[str, Policy] | None = None,
                      rules: dict[str, str | None] | None = None, waive: bool = False) -> list[dict[str, Any]]:
    """Each order line with what of it may still be returned. `terms`: sku -> the line's terms under
    the store's policy (default `policy`); `rules`: sku -> the rule that decided them (None: the defaults).
    `waive` (an ops exception): each line also carries `waived`, the rules set aside for it."""
    held = held_quantities(reserved)
    out = []
    for line in lines:
        e = line_eligibility(line, delivered_at, now, int(held.get(line["sku"], 0)),
                             _terms_of(terms, line["sku"], policy), waive=waive)
        row = {"sku": line["sku"], "name": line["name"], "qty": int(line["qty"]),
               "returnable_qty": e.returnable_qty, "unit_price": int(line["unit_price"]),
               "eligible": e.eligible, "ineligible_reason": e.reason, "rule": (rules or {}).get(line["sku"])}
        if waive:
            row["waived"] = [{"rule": w.rule, "message": w.message} for w in e.waived]
        out.append(row)
    return out
