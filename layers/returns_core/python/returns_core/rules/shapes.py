"""What an order's, a return's and a claim's stored documents hold, as the domain reads them.

Each is a plain dict once loaded (store.models.Document loads it at the store's edge), typed here so a
reader and the type checker know its keys. `total=False`: a document written before a key existed
lacks it, and a key written as null reads as None; both are kept as they were stored.
"""
from __future__ import annotations

from typing import Any, TypedDict


class Customer(TypedDict, total=False):
    email: str
    name: str
    phone: str | None
    locale: str | None
    sms_opt_out: bool


class Address(TypedDict, total=False):
    name: str
    line1: str
    line2: str | None
    city: str
    postcode: str
    country: str


class Payment(TypedDict, total=False):
    provider: str            # stripe | manual | ...
    reference: str           # the provider's payment (what a refund is asked against)
    captured_amount: int


class HeldUnit(TypedDict):
    sku: str
    qty: int


# An order's units held by its open returns and claims: the return's (or claim's) id -> its units
# (policy.holding). Orders written before keep {sku: qty} maps, still read (policy.held_quantities).
Reserved = dict[str, list[HeldUnit] | dict[str, int]]
# An order's amounts being paid right now: a hold key (a return's id, or a movement's request key) -> amount.
RefundHolds = dict[str, int]


class Quote(TypedDict, total=False):
    items_total: int
    restocking_fee: int
    return_shipping_fee: int
    bonus: int
    refund_amount: int
    delivery_refund: int     # a withdrawal's: what the customer paid for delivery, refunded too


class Dropoff(TypedDict, total=False):
    method: str              # relay_point | letterbox | post_office
    relay_point: dict[str, Any]
    address: Address
    carrier: str             # the carrier id that issues the label (outbound/carriers)


class Label(TypedDict, total=False):
    tracking_number: str
    code: str
    s3_key: str              # the printable label, when the carrier gave one
    qr_s3_key: str           # the paperless label's QR code (PNG), when the carrier gave one
    carrier: str


class Inspection(TypedDict, total=False):
    by: str
    at: str
    items: list[dict[str, Any]]   # policy.inspection_items: each line's grade and refund
    lost: bool                    # a lost parcel, graded as if every item had been lost


class Approval(TypedDict, total=False):
    by: str
    at: str
    note: str | None


class Refund(TypedDict, total=False):
    """A payment record (a return's refund; a dispute's or a claim's adjustment has the same keys)."""
    amount: int
    method: str
    bonus: int
    status: str              # paying | pending_manual | succeeded | failed | none
    provider: str
    reference: str | None
    issued_at: str | None
    ledger_seq: int
    ledger_chain: str        # the chain holding ledger_seq (absent: the first chain, "refunds")
    lease_owner: str
    lease_until: str
    manual_reference: str
    recorded_by: str
    recorded_at: str
    failure: dict[str, Any]
    automatic_retries: int


class _Decision(TypedDict, total=False):
    """Who decided a dispute or a claim, what, when, and the note to the customer."""
    decision: str
    note: str | None
    by: str
    at: str


class _PaidAs(TypedDict, total=False):
    """How a decided amount is paid, once the Settle function pays it (the keys of a Refund's payment)."""
    method: str
    status: str
    hold: str
    provider: str
    reference: str | None
    issued_at: str | None
    ledger_seq: int
    ledger_chain: str


class DisputeResolution(_Decision, _PaidAs, total=False):
    refund_amount: int


class Review(TypedDict, total=False):
    decision: str
    by: str
    at: str
    note: str | None


class RiskReason(TypedDict):
    code: str
    detail: str
    points: int


class Risk(TypedDict, total=False):
    """A return's risk score, decided when it is requested (rules/risk.py)."""
    score: int
    reasons: list[RiskReason]


class RiskVerdict(TypedDict, total=False):
    """Ops's word on a return: fine or abuse (a signal of the customer's next scores)."""
    verdict: str
    note: str | None
    by: str
    at: str


class RefundTiming(TypedDict, total=False):
    """When the refund is paid (rules/refund_timing.py), and once paid before the inspection, when and how."""
    asked: str
    on: str
    held_by: str | None
    score: int
    hold_above: int
    paid_early_at: str        # the move to `refunding` before the inspection
    paid_early_by: str        # first_scan | receipt: what triggered it


class ExchangeShipment(TypedDict, total=False):
    tracking_number: str
    carrier: str
    tracking_url: str | None
    lines: list[dict[str, Any]]
    at: str
    by: str


class Waiver(TypedDict):
    sku: str
    rule: str
    message: str


class OpsException(TypedDict, total=False):
    """An ops agent's exception to the rules (POST /returns by ops)."""
    reason: str
    by: str
    at: str
    waived: list[Waiver]


class Withdrawal(TypedDict, total=False):
    withdrawal_id: str
    received_at: str
    refund_due_by: str
    delivery_refund: int
    lines: list[dict[str, Any]]


class ClaimResolution(_Decision, _PaidAs, total=False):
    published_at: str
    amount: int                # the refund's, once decided
