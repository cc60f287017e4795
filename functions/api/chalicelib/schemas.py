"""Request bodies as small pydantic models: the domain receives checked plain values.

Integers are strict ("3" or true is a wrong type, 400; a float such as 12.5 or a huge
number is a JSON number not allowed there, 422); enums are Literals and ranges are
bounds (a bad value is 422). The same models feed /openapi.json.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from returns_core.outbound.carriers.base import DROPOFF_METHODS
from returns_core.rules import carrier_moves, claims, clock, ids, policy, statuses, timeline

# The enums live once, in the domain (pure modules, cheap to import).
Reason = Literal[policy.REASONS]
Resolution = Literal[policy.RESOLUTIONS]
Condition = Literal[policy.CONDITIONS]
DropoffMethod = Literal[DROPOFF_METHODS]
Status = Literal[statuses.ALL]
CarrierEventType = Literal[carrier_moves.EVENTS]

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
# A store's order id, everywhere one comes in (the path of PUT /orders/{order_id} through
# check_order_id below): the one rule of rules/ids.py, never stripped or reshaped.
OrderId = Annotated[str, StringConstraints(min_length=1, max_length=ids.ORDER_ID_MAX,
                                           pattern=ids.ORDER_ID_PATTERN)]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")]
Postcode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
Qty = Annotated[StrictInt, Field(ge=1, le=1000)]
Amount = Annotated[StrictInt, Field(ge=0, le=10**11)]
DELIVERY_CLOCK_SKEW = timedelta(days=1)


def _iso_timestamp(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO 8601 timestamp") from None
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- store ---------------------------------------------------------------

class Customer(_Body):
    email: Email
    name: Name
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32,
                                            pattern=r"^\+?[0-9 ().-]{4,32}$")] | None = None
    locale: Annotated[str, StringConstraints(max_length=16, pattern=r"^[A-Za-z]{2}([-_][A-Za-z]{2})?$")] = "en"
    sms_opt_out: StrictBool = False


class Address(_Body):
    name: Name | None = None
    line1: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    postcode: Postcode
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    country: Country


class Payment(_Body):
    provider: Literal["stripe", "manual"]
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    captured_amount: Amount


Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class OrderLine(_Body):
    sku: Sku
    name: Name
    qty: Qty
    unit_price: Amount
    final_sale: StrictBool = False
    # What the customer paid for the whole line after discounts (at most qty x unit_price; the
    # order-wide checks against the capture are the domain's, rules/paid.py).
    paid_amount: Amount | None = None
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None


class OrderUpsert(_Body):
    customer: Customer
    currency: Currency
    placed_at: Annotated[str, StringConstraints(max_length=40)] | None = None
    delivered_at: Annotated[str, StringConstraints(max_length=40)] | None = None
    shipping_address: Address | None = None
    payment: Payment
    shipping_paid: Amount | None = None   # what the customer paid for delivery; at most captured_amount
    lines: Annotated[list[OrderLine], Field(min_length=1, max_length=200)]
    instant_exchange: StrictBool = False

    _timestamps = field_validator("placed_at", "delivered_at")(_iso_timestamp)

    @field_validator("delivered_at")
    @classmethod
    def _delivered_between_placed_and_now(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Delivered not after now plus a day (the store's clock may run ahead) nor before it was placed."""
        if value is None:
            return None
        delivered = clock.parse(value)
        if delivered - clock.now() > DELIVERY_CLOCK_SKEW:
            raise ValueError("must not be in the future (more than a day after now)")
        placed = info.data.get("placed_at")
        if placed and delivered < clock.parse(placed):
            raise ValueError("must not be before placed_at")
        return value

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(cls, lines: list[OrderLine]) -> list[OrderLine]:
        if len({line.sku for line in lines}) != len(lines):
            raise ValueError("each sku may appear on one line only")
        return lines


class OrderPath(BaseModel):
    """An order id in a route's path (`/orders/{order_id}`): the same rule as in a body, 422 naming it."""
    order_id: OrderId

    @classmethod
    def checked(cls, order_id: str) -> str:
        return cls.model_validate({"order_id": order_id}).order_id


# --- customer --------------------------------------------------------------

class Lookup(_Body):
    order_id: OrderId
    email: Email
    # A link the store signed (rules/store_links.py): exp (a Unix time) and sig (hex HMAC-SHA256) together.
    exp: Annotated[StrictInt, Field(ge=0, le=253402300799)] | None = None   # up to 9999-12-31
    sig: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9a-fA-F]{64}$")] | None = Field(
        default=None, validate_default=True)

    @field_validator("sig")
    @classmethod
    def _with_exp(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "exp" not in info.data:   # exp itself was refused: that error names it
            return value
        if (value is None) != (info.data["exp"] is None):
            raise ValueError("a signed link gives both exp and sig")
        return value


class ReturnItem(_Body):
    sku: Sku
    qty: Qty
    reason: Reason
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    exchange_for: Sku | None = None


class Dropoff(_Body):
    method: DropoffMethod
    relay_point_id: Id | None = None
    address: Address | None = None
    carrier: Id | None = None       # GET /carriers' id, where several serve the country and method


class ReturnException(_Body):
    """An ops agent's exception to the eligibility rules (role `ops` only): why it is made."""
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ReturnCreate(_Body):
    order_id: OrderId
    items: Annotated[list[ReturnItem], Field(min_length=1, max_length=100)]
    resolution: Resolution
    dropoff: Dropoff
    # Only `ops` may send it (a customer or the store: 403 naming `exception`): the eligibility rules
    # that fail (window, final sale, a policy rule, the resolution) are waived and named in the timeline.
    exception: ReturnException | None = None


class LabelRetry(_Body):
    """Issue a failed label again: with another drop-off (a relay point, a collection address), or as it was."""
    dropoff: Dropoff | None = None
    note: Text | None = None


class QuoteRequest(_Body):
    """A selection not yet submitted: the portal shows its quote live, computed by the domain policy."""
    order_id: OrderId
    items: Annotated[list[ReturnItem], Field(min_length=1, max_length=100)]
    resolution: Resolution


class Cancel(_Body):
    reason: Text | None = None


class Confirm(_Body):
    satisfied: StrictBool
    comment: Text | None = None
    score: Annotated[StrictInt, Field(ge=1, le=5)] | None = None   # how satisfied, 1..5 (satisfaction analytics)


class Dispute(_Body):
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class RelayPointQuery(BaseModel):
    """Query strings are text: `limit=5` is parsed, `limit=5.5` is a wrong type."""
    model_config = ConfigDict(extra="ignore")
    postcode: Postcode
    country: Country
    limit: Annotated[int, Field(ge=1, le=20)] = 5


class ReturnRead(BaseModel):
    """The language of the timeline's sentences (the portal's switch); without it, English."""
    model_config = ConfigDict(extra="ignore")
    lang: Literal[timeline.LANGUAGES] | None = None


# --- carrier ---------------------------------------------------------------

class CarrierEvent(BaseModel):
    # Carriers add fields over time; unknown ones are ignored rather than refused.
    model_config = ConfigDict(extra="ignore")
    tracking_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    event: CarrierEventType
    occurred_at: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None

    @field_validator("occurred_at")
    @classmethod
    def _an_instant(cls, value: str) -> str:
        """As sent (the timeline keeps it), once it is known to name an instant (the event's key)."""
        try:
            carrier_moves.instant(value)
        except ValueError as exc:
            raise ValueError(f"must be an ISO 8601 timestamp: {exc}") from None
        return value


# --- warehouse ---------------------------------------------------------------

class Scan(_Body):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class InspectionLine(_Body):
    sku: Sku
    qty: Qty
    condition: Condition
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class Inspection(_Body):
    items: Annotated[list[InspectionLine], Field(min_length=1, max_length=200)]


class QueueQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Status = "received"
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(max_length=2000)] | None = None


# --- ops / finance -------------------------------------------------------------

class Review(_Body):
    decision: Literal["approve", "reject"]
    note: Text | None = None


class RiskVerdict(_Body):
    """Ops's word on a return (api.md v3 "When the refund is paid, and risk")."""
    verdict: Literal["fine", "abuse"]
    note: Text | None = None


class ExchangeShipped(_Body):
    """The store shipped an exchange's replacement."""
    tracking_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=64,
                                                      pattern=r"^[A-Za-z0-9-]+$")]
    carrier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    tracking_url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500,
                                                   pattern=r"^https://[^\s<>\"']+$")] | None = None


class Note(_Body):
    note: Text | None = None


class DisputeResolve(_Body):
    """Customer service's answer to a dispute; `refund_amount` (upheld only) is paid once, more."""
    decision: Literal["uphold", "reject"]
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    refund_amount: Annotated[StrictInt, Field(ge=1, le=10 ** 11)] | None = None
    method: Literal["refund", "store_credit"] | None = None


TrackingNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=64,
                                                  pattern=r"^[A-Za-z0-9-]+$")]


class CustomerSearch(_Body):
    """Customer service finds a customer by exactly one of these (the route names the field otherwise)."""
    email: Email | None = None
    order_id: OrderId | None = None
    tracking_number: TrackingNumber | None = None

    def given(self) -> list[str]:
        return [k for k in ("email", "order_id", "tracking_number") if getattr(self, k) is not None]


class OpsQueueQuery(BaseModel):
    """One status's returns for customer service, oldest first (GET /ops/queue)."""
    model_config = ConfigDict(extra="ignore")
    status: Status = "in_review"
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(max_length=2000)] | None = None


class ManualRefund(_Body):
    reference: str   # checked by the domain (payments.record_manual_refund): 422 naming `reference`


# --- claims: a problem with an order that needs no return parcel -------------------

class ClaimLine(_Body):
    sku: Sku
    qty: Annotated[StrictInt, Field(ge=1, le=1000)]


class ClaimCreate(_Body):
    order_id: OrderId
    kind: Literal[claims.KINDS]
    lines: Annotated[list[ClaimLine], Field(min_length=1, max_length=claims.MAX_LINES)]
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ClaimPhoto(_Body):
    """The type of the one image the upload form is for (its policy allows no other): JPEG by default."""
    content_type: Literal[claims.PHOTO_TYPES] = "image/jpeg"


class ClaimResolve(_Body):
    """`amount` (refund only; default: what the claimed lines were paid) is paid once; `method`
    (refund only): back to the original payment, or store credit (the only one for an order paid offline)."""
    decision: Literal[claims.DECISIONS]
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    amount: Annotated[StrictInt, Field(ge=1, le=10 ** 11)] | None = None
    method: Literal[claims.METHODS] | None = None


class ClaimsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal[claims.STATUSES] = "open"
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(max_length=2000)] | None = None


class Page(BaseModel):
    model_config = ConfigDict(extra="ignore")
    cursor: Annotated[str, StringConstraints(max_length=2000)] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class DateRange(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None


# --- the EU right of withdrawal -------------------------------------------------

class WithdrawalLine(_Body):
    sku: Sku
    qty: Qty


class WithdrawalNotice(_Body):
    """A withdrawal from the contract: no reason asked. `confirm: false` previews it; `true` sends it.
    Without `lines`, every line still returnable. `dropoff`: how the parcel goes back (default: collected
    from the letterbox of the order's shipping address)."""
    order_id: OrderId
    lines: Annotated[list[WithdrawalLine], Field(min_length=1, max_length=100)] | None = None
    confirm: StrictBool = False
    dropoff: Dropoff | None = None
    name: Name | None = None   # the consumer's name as they state it in the notice (Art. 11a(2))


BODIES: tuple[type[BaseModel], ...] = (OrderUpsert, Lookup, ReturnCreate, QuoteRequest, Cancel, Confirm, Dispute,
                                       CarrierEvent, Scan, Inspection, Review, Note, ManualRefund, LabelRetry,
                                       DisputeResolve, ClaimCreate, ClaimPhoto, ClaimResolve, WithdrawalNotice)


# --- the store's returns policy ------------------------------------------------

class PolicyVersionQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: Annotated[int, Field(ge=1, le=10 ** 9)] | None = None


class PolicyPut(_Body):
    """A new version of the policy: the document is checked by the domain (rules/policy_document.py),
    each bad field a 422 naming its path (`policy.rules[2].set.window_days`)."""
    policy: dict


class SimulatedOrder(OrderUpsert):
    order_id: OrderId


class SimulatedRisk(_Body):
    """What the sample's risk score knows of its customer beyond the order (rules/risk.py Facts); all 0 or
    false unless given."""
    other_orders_returned_24h: Annotated[StrictInt, Field(ge=0, le=10000)] = 0
    only_order: StrictBool = False
    worse_than_declared: Annotated[StrictInt, Field(ge=0, le=10000)] = 0
    abuse_verdicts: Annotated[StrictInt, Field(ge=0, le=10000)] = 0
    fine_verdicts: Annotated[StrictInt, Field(ge=0, le=10000)] = 0
    address_mismatch: StrictBool = False
    name_mismatch: StrictBool = False
    failed_lookups: Annotated[StrictInt, Field(ge=0, le=10000)] = 0


class PolicySimulate(_Body):
    """A sample order under a draft policy (or the current one): the per-line decisions and the quote,
    nothing stored. `customer_returns_in_90_days`: the customer's earlier returns the rules and the
    review see (0 unless given); `risk`: the rest of what the risk score would know of the customer."""
    policy: dict | None = None
    order: SimulatedOrder
    items: Annotated[list[ReturnItem], Field(min_length=1, max_length=100)]
    resolution: Resolution
    customer_returns_in_90_days: Annotated[StrictInt, Field(ge=0, le=10000)] = 0
    risk: SimulatedRisk | None = None


# --- conversations with the customer -------------------------------------------------

class MessagePost(_Body):
    """`body` (the customer, or an agent's free text), or for ops `reply_id` (a ready-made reply filled
    from the return; `body` then replaces the filled text). `internal`: an agent's note, never shown or
    sent to the customer. The text's bounds (empty, over 20 kB: 422 naming `body`) are rules/conversations.py's."""
    body: StrictStr | None = None
    reply_id: Id | None = None
    internal: StrictBool = False


class RepliesQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    locale: Literal["en", "fr"] = "en"


class ReplyEdit(_Body):
    locale: Literal["en", "fr"]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class ReplyPath(BaseModel):
    reply_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]


class Escalation(_Body):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class InboxQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    lead: Literal["true", "false"] | None = None
