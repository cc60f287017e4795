"""PynamoDB models: one per table; index names match template.yaml.

Table names and the endpoint are read from the environment when a model is
first used, never at import, so tests and the local stack can set them first.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from .. import aws, config
from ..rules.shapes import (
    Address,
    Approval,
    ClaimResolution,
    Customer,
    DisputeResolution,
    Dropoff,
    ExchangeShipment,
    Inspection,
    Label,
    OpsException,
    Payment,
    Quote,
    Refund,
    RefundHolds,
    RefundTiming,
    Reserved,
    Review,
    Risk,
    RiskVerdict,
    Withdrawal,
)

aws.share_service_models_with_pynamodb()   # one parse of DynamoDB's model per process, not per table


_D = TypeVar("_D")


class Document(MapAttribute, Generic[_D]):
    """A stored map, loaded once at the store's edge as the plain dict the domain reads (its keys are
    typed by rules/shapes.py), and written exactly as PynamoDB writes an undeclared ("raw") map.

    Not a MapAttribute with declared attributes: on load those keep only the keys they declare, and on
    save they leave out a key whose value is None, where a raw map writes it as NULL. Documents written
    before would lose keys on their next save and items written after would differ from them; the
    ledger's record checks and its readers compare stored items as they are. Here every key is kept as
    stored, a null as None, a missing key as missing, and the encoding is the raw map's, unchanged.
    Paths (`ReturnModel.refund["status"]`) work as on a raw map."""

    @classmethod
    def is_raw(cls) -> bool:
        return True   # serialised and deserialised as an undeclared map, key for key

    def __set__(self, instance: Any, value: Any) -> None:
        # A raw MapAttribute would wrap the dict in a MapAttribute instance: the domain gets the dict.
        if isinstance(value, MapAttribute):
            value = value.as_dict()
        Attribute.__set__(self, instance, None if value is None else dict(value))

    if TYPE_CHECKING:
        @overload   # type: ignore[override]
        def __get__(self, instance: None, owner: Any) -> Document[_D]: ...
        @overload
        def __get__(self, instance: Any, owner: Any) -> _D: ...
        def __get__(self, instance: Any, owner: Any) -> Any: ...


class _EnvMeta(type):
    """`Meta.table_name` looks up the variable named by `Meta.table_env` on each access."""

    @property
    def table_name(cls) -> str:
        return config.setting(cls.table_env)

    @property
    def host(cls) -> str | None:
        return config.endpoint_url()

    @property
    def region(cls) -> str:
        return config.region()


def _meta(env: str) -> type:
    return _EnvMeta("Meta", (), {"table_env": env, "billing_mode": "PAY_PER_REQUEST",
                                 "max_retry_attempts": 3})


def _index_meta(name: str, projection=None) -> type:
    """Projections as in template.yaml: indexes copy only keys (or a queue row), so the writes that
    change a return are not paid again in every index."""
    return type("Meta", (), {"index_name": name, "projection": projection or KeysOnlyProjection(),
                             "billing_mode": "PAY_PER_REQUEST"})


class OrdersByCustomer(GlobalSecondaryIndex):
    """A customer's orders, by the hash of their normalised email (rules.ids.customer_key): customer
    service's search reads it, no Scan, and the index holds no personal data."""
    Meta = _index_meta("by_customer")
    customer_key = UnicodeAttribute(hash_key=True)


class OrderModel(Model):
    Meta = _meta("ORDERS_TABLE")
    order_id = UnicodeAttribute(hash_key=True)
    customer: Document[Customer] = Document()
    customer_key = UnicodeAttribute()      # sha256 of the normalised email: no personal data in keys
    currency = UnicodeAttribute()
    placed_at = UnicodeAttribute(null=True)
    delivered_at = UnicodeAttribute(null=True)
    shipping_address: Document[Address | None] = Document(null=True)
    payment: Document[Payment] = Document()
    shipping_paid = NumberAttribute(null=True)  # what the customer paid for delivery (not refunded with items)
    lines = ListAttribute()                # [{sku, name, qty, unit_price, final_sale, paid_amount?, category?, tags?}]
    # return_id -> [{sku, qty}] held by that return (policy.holding). A list, never a map keyed by
    # sku: a one-key map whose key is a type tag ("N", "M", ...) is taken by PynamoDB as already
    # serialised. Orders written before keep {sku: qty} maps, still read (policy.held_quantities).
    reserved: Document[Reserved] = Document(default=dict)
    refunded_total = NumberAttribute(default=0)
    refund_holds: Document[RefundHolds] = Document(default=dict)  # hold key -> amount being paid right now
    instant_exchange = BooleanAttribute(default=False)
    # The withdrawal notices that opened a return of this order (rules.withdrawal.withdrawal_id): added
    # in the return's own transaction on the condition that the id is new, so a notice opens one return.
    withdrawals = UnicodeSetAttribute(null=True)
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    by_customer = OrdersByCustomer()


class ByOrder(GlobalSecondaryIndex):
    Meta = _index_meta("by_order")
    order_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ByStatus(GlobalSecondaryIndex):
    Meta = _index_meta("by_status", IncludeProjection(["order_id", "code", "resolution", "items"]))
    status = UnicodeAttribute(hash_key=True)
    status_since = UnicodeAttribute(range_key=True)


class ByCode(GlobalSecondaryIndex):
    Meta = _index_meta("by_code")
    code = UnicodeAttribute(hash_key=True)


class ByTracking(GlobalSecondaryIndex):
    Meta = _index_meta("by_tracking")
    tracking_number = UnicodeAttribute(hash_key=True)


class ByCustomer(GlobalSecondaryIndex):
    Meta = _index_meta("by_customer")
    customer_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ByWithdrawalDay(GlobalSecondaryIndex):
    """Sparse: only the returns a withdrawal notice opened carry `withdrawal_day` (finance's list)."""
    Meta = _index_meta("by_withdrawal_day")
    withdrawal_day = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ReturnModel(Model):
    Meta = _meta("RETURNS_TABLE")
    return_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute()
    code = UnicodeAttribute()              # what is printed on the label and scanned
    customer_key = UnicodeAttribute()
    status = UnicodeAttribute()
    status_since = UnicodeAttribute()
    created_at = UnicodeAttribute()
    resolution = UnicodeAttribute()
    currency = UnicodeAttribute()
    locale = UnicodeAttribute(default="en")
    items = ListAttribute()                # [{sku, name, qty, reason, comment, unit_price, paid, exchange_for,
    #                                          rule, keep_item, terms}]
    quote: Document[Quote] = Document()
    dropoff: Document[Dropoff] = Document()
    # The store's policy version the return was judged by (1: the built-in defaults), for its whole life;
    # what it decided for each item is on the item (`rule`, `keep_item`, `terms`).
    policy_version = NumberAttribute(null=True)
    deadline = UnicodeAttribute(null=True)
    tracking_number = UnicodeAttribute(null=True)
    label: Document[Label | None] = Document(null=True)
    inspection: Document[Inspection | None] = Document(null=True)
    approval: Document[Approval | None] = Document(null=True)
    refund: Document[Refund | None] = Document(null=True)
    # A dispute's resolution: decision, note, by, at, and its adjustment refund (amount, method, status,
    # reference, ledger_seq once paid by the Settle function): a second ledger entry of the return.
    dispute_resolution: Document[DisputeResolution | None] = Document(null=True)
    review: Document[Review | None] = Document(null=True)
    exchange_shipment: Document[ExchangeShipment | None] = Document(null=True)  # the replacement
    # An ops agent's exception (POST /returns by ops): reason, by, at, and the rules it waived
    # ([{sku, rule, message}]), also told in the timeline (`exception.granted`).
    exception: Document[OpsException | None] = Document(null=True)
    # The keys of the carrier events already applied (rules.carrier_moves.event_key), as many as
    # rules.carrier_moves.MAX_EVENTS_PER_RETURN allows: a set, added to in the write that applies the event.
    carrier_seen = UnicodeSetAttribute(null=True)
    carrier_events = ListAttribute(null=True)   # the same, as returns written before kept them: read, never written
    # The timeline lives in its own table (TimelineEntryModel), one item per entry: this counts them,
    # so the next entry's seq is known and the return's item stays the same size however long it gets.
    timeline_count = NumberAttribute(default=0)
    # Returns written before kept their timeline inline here; still read (store.timeline), never written.
    timeline = ListAttribute(null=True)
    task_token = UnicodeAttribute(null=True)
    waiting_for = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    # The withdrawal notice that opened this return (EU right of withdrawal): withdrawal_id, received_at,
    # refund_due_by, delivery_refund, lines; `withdrawal_day` (received_at's UTC day) keys its index.
    withdrawal: Document[Withdrawal | None] = Document(null=True)
    withdrawal_day = UnicodeAttribute(null=True)
    # api.md v3 "When the refund is paid, and risk": the score decided at the request (staff only), ops's
    # verdict, when the refund is paid (and, paid before the inspection, what triggered it), and when a
    # parcel refunded before it arrived was received (its status stays that of its money).
    risk: Document[Risk | None] = Document(null=True)
    risk_verdict: Document[RiskVerdict | None] = Document(null=True)
    refund_timing: Document[RefundTiming | None] = Document(null=True)
    parcel_received_at = UnicodeAttribute(null=True)
    version = VersionAttribute()

    by_order = ByOrder()
    by_status = ByStatus()
    by_code = ByCode()
    by_tracking = ByTracking()
    by_customer = ByCustomer()
    by_withdrawal_day = ByWithdrawalDay()

    @classmethod
    def load_many(cls, hits) -> list[ReturnModel]:
        """The full records of index hits (keys-only or partial), in the hits' order."""
        ids = list(dict.fromkeys(h.return_id for h in hits))
        found: dict[str, ReturnModel] = {}
        for start in range(0, len(ids), 100):   # BatchGetItem's limit
            found.update((r.return_id, r) for r in cls.batch_get(ids[start:start + 100], consistent_read=True))
        return [found[i] for i in ids if i in found]


class TimelineEntryModel(Model):
    """One entry of a return's timeline (rules.timeline.entry), written once, in the same transaction as
    the change it tells of (store.timeline), and never updated: append-only, like the ledger.

    `detail` is stored as JSON text: it holds what customers, staff and carriers wrote, and a map
    written through PynamoDB would take a one-key dict keyed by a type tag as already serialised."""
    Meta = _meta("TIMELINE_TABLE")
    return_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)   # 1, 2, ... in the order the changes were written
    at = UnicodeAttribute()
    type = UnicodeAttribute()
    actor = UnicodeAttribute()
    detail = JSONAttribute(null=True)
    # A claim's entries (store.claims) are kept here too, under the claim's id as `return_id`, and say
    # so: the customer's merged timeline tells a claim's entries from a return's.
    claim_id = UnicodeAttribute(null=True)

    def as_entry(self) -> dict:
        entry = {"at": self.at, "type": self.type, "actor": self.actor, "detail": self.detail}
        if self.claim_id:
            entry["claim_id"] = self.claim_id
        return entry


class ClaimsByStatus(GlobalSecondaryIndex):
    Meta = _index_meta("by_status")
    status = UnicodeAttribute(hash_key=True)
    status_since = UnicodeAttribute(range_key=True)


class ClaimsByOrder(GlobalSecondaryIndex):
    Meta = _index_meta("by_order")
    order_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ClaimsByCustomer(GlobalSecondaryIndex):
    Meta = _index_meta("by_customer")
    customer_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ClaimModel(Model):
    """A problem with an order that needs no return parcel (rules/claims.py). Its timeline is in the
    timeline table under its id (store.claims); its refund, once paid by the Settle function, is a
    `claim` entry of the ledger whose `return_id` is the claim's id."""
    Meta = _meta("CLAIMS_TABLE")
    claim_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute()
    customer_key = UnicodeAttribute()
    kind = UnicodeAttribute()
    lines = ListAttribute()                # [{sku, name, qty, paid}]: paid is what those units cost
    message = UnicodeAttribute()
    currency = UnicodeAttribute()
    locale = UnicodeAttribute(default="en")
    status = UnicodeAttribute()
    status_since = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    photos = ListAttribute(default=list)   # [{photo_id, s3_key, at}]: upload forms given out
    # Ops' decision: decision, note, by, at; a refund's amount, method, status (pending, succeeded) and,
    # once the Settle function paid it, provider, reference, issued_at and ledger_seq.
    resolution: Document[ClaimResolution | None] = Document(null=True)
    timeline_count = NumberAttribute(default=0)
    version = VersionAttribute()

    by_status = ClaimsByStatus()
    by_order = ClaimsByOrder()
    by_customer = ClaimsByCustomer()

    @classmethod
    def load_many(cls, hits) -> list[ClaimModel]:
        ids = list(dict.fromkeys(h.claim_id for h in hits))
        found: dict[str, ClaimModel] = {}
        for start in range(0, len(ids), 100):
            found.update((c.claim_id, c) for c in cls.batch_get(ids[start:start + 100], consistent_read=True))
        return [found[i] for i in ids if i in found]


class ByDay(GlobalSecondaryIndex):
    Meta = _index_meta("by_day", AllProjection())   # entries are written once: a full copy costs once
    issued_day = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)


class LedgerEntryModel(Model):
    """Append-only: written once with a condition that it does not exist, never updated."""
    Meta = _meta("LEDGER_TABLE")
    ledger = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    entry_id = UnicodeAttribute()          # one money movement: "<return_id>:refund:<n>", "<claim_id>:claim:1"
    kind = UnicodeAttribute()              # refund | store_credit | adjustment | claim
    return_id = UnicodeAttribute()         # the movement's owner: a return, or a claim (`claim` entries)
    order_id = UnicodeAttribute()
    amount = NumberAttribute()             # what the customer got, the store credit bonus included
    bonus = NumberAttribute(null=True)     # of it, the store's own money (store credit bonus): not from the capture
    currency = UnicodeAttribute()
    method = UnicodeAttribute()
    reference = UnicodeAttribute()
    inspected_by = UnicodeAttribute(null=True)
    approved_by = UnicodeAttribute(null=True)
    issued_at = UnicodeAttribute()
    issued_day = UnicodeAttribute()
    prev_hash = UnicodeAttribute()
    hash_scheme = NumberAttribute(null=True)   # rules/ledger_chain.py: 2 keyed, absent for the first entries
    hash = UnicodeAttribute()                  # the seal over every other attribute (rules/ledger_chain.py)

    by_day = ByDay()


class LedgerAnchorModel(Model):
    """The ledger's head, one item per appended entry, written in the entry's own transaction.

    Only the Settle function may touch its table, and only to add (PutItem) and read: an entry
    dropped from the ledger's tail leaves its anchor behind."""
    Meta = _meta("LEDGER_ANCHORS_TABLE")
    ledger = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    hash = UnicodeAttribute()


class CreditModel(Model):
    """Store-credit balance of one customer in one currency."""
    Meta = _meta("CREDITS_TABLE")
    customer_key = UnicodeAttribute(hash_key=True)
    currency = UnicodeAttribute(range_key=True)
    balance = NumberAttribute(default=0)
    updated_at = UnicodeAttribute()
    version = VersionAttribute()


class UnmatchedScanModel(Model):
    Meta = _meta("SCANS_TABLE")
    bucket = UnicodeAttribute(hash_key=True)     # "unmatched"
    scanned_key = UnicodeAttribute(range_key=True)  # "<scanned_at>#<code>"
    code = UnicodeAttribute()
    scanned_at = UnicodeAttribute()
    actor = UnicodeAttribute()


class RequestRecordModel(Model):
    """Idempotency-Key replays and lookup rate limits; expires by TTL."""
    Meta = _meta("IDEMPOTENCY_TABLE")
    id = UnicodeAttribute(hash_key=True)
    expiration = NumberAttribute()
    request_hash = UnicodeAttribute(null=True)
    status_code = NumberAttribute(null=True)
    body = UnicodeAttribute(null=True)
    count = NumberAttribute(default=0)


class PolicyVersionModel(Model):
    """One published version of the store's returns policy: put once, on the condition that the
    version does not exist, never updated or deleted (returns are judged by the version they name)."""
    Meta = _meta("POLICY_TABLE")
    policy = UnicodeAttribute(hash_key=True)     # "store": the one policy, its versions side by side
    version = NumberAttribute(range_key=True)    # 2, 3, ... (1 is the built-in defaults, never stored)
    document = JSONAttribute()                   # JSON text: rule ids and skus are the store's strings
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class ConversationInbox(GlobalSecondaryIndex):
    """Sparse: only a conversation waiting for customer service carries `inbox` ("open"), keyed by when
    its wait began: GET /ops/inbox and the first-response sweep read it oldest first, no Scan."""
    Meta = _index_meta("inbox", IncludeProjection(["return_id", "claim_id", "last_message_at",
                                                   "first_response_due", "assigned_to", "escalation"]))
    inbox = UnicodeAttribute(hash_key=True)
    waiting_since = UnicodeAttribute(range_key=True)


class ConversationModel(Model):
    """The conversation of one return or claim (store/conversations.py): who holds it, whether an answer
    is due, how many messages it has. Its messages are items of the same partition (MessageModel)."""
    Meta = _meta("CONVERSATIONS_TABLE")
    conversation = UnicodeAttribute(hash_key=True)   # the return's or the claim's id
    item = UnicodeAttribute(range_key=True, default="state")
    return_id = UnicodeAttribute(null=True)
    claim_id = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute()
    locale = UnicodeAttribute(default="en")
    message_count = NumberAttribute(default=0)
    last_message_at = UnicodeAttribute(null=True)
    inbox = UnicodeAttribute(null=True)              # "open" while the customer waits for an answer
    waiting_since = UnicodeAttribute(null=True)      # the customer's first unanswered message
    first_response_due = UnicodeAttribute(null=True)
    overdue_alerted = BooleanAttribute(null=True)    # the sweep told ops once for this wait
    assigned_to = UnicodeAttribute(null=True)        # the agent who took it
    escalation: Document[dict | None] = Document(null=True)   # {reason, by, at}: for a lead
    proactive_sent = UnicodeSetAttribute(null=True)  # "<kind>:<status_since>" (rules/proactive.py), told once
    version = VersionAttribute()

    inbox_index = ConversationInbox()


class MessageModel(Model):
    """One message, written once (condition: it does not exist) in the same transaction as the
    conversation's count, and never changed. `item` = "m#<seq>" keeps them in order, oldest first."""
    Meta = _meta("CONVERSATIONS_TABLE")
    conversation = UnicodeAttribute(hash_key=True)
    item = UnicodeAttribute(range_key=True)
    message_id = UnicodeAttribute()
    at = UnicodeAttribute()
    sender = UnicodeAttribute(attr_name="from")      # customer | agent | note (staff only)
    body = UnicodeAttribute()
    actor = UnicodeAttribute()
    channel = UnicodeAttribute()                     # portal | email | ops
    reply_id = UnicodeAttribute(null=True)
    attachments = JSONAttribute(null=True)           # [{photo_id, s3_key, content_type, size}]


class ReplyModel(Model):
    """A ready-made reply as an agent edited it (`conversation` = "replies#<locale>"); the seeded ones
    (rules/ready_replies.py) apply until edited."""
    Meta = _meta("CONVERSATIONS_TABLE")
    conversation = UnicodeAttribute(hash_key=True)
    item = UnicodeAttribute(range_key=True)          # the reply id
    title = UnicodeAttribute()
    body = UnicodeAttribute()
    updated_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class FeedbackModel(Model):
    """What satisfaction analytics read, one partition per UTC day (`conversation` = "<kind>#<day>"):
    a customer's score (kind "score", one per return, put on the condition that it does not exist) or a
    conversation's first response time (kind "first_response")."""
    Meta = _meta("CONVERSATIONS_TABLE")
    conversation = UnicodeAttribute(hash_key=True)
    item = UnicodeAttribute(range_key=True)          # the return's id (score), "<conversation>#<at>" (response)
    at = UnicodeAttribute()
    score = NumberAttribute(null=True)
    reasons = UnicodeSetAttribute(null=True)
    seconds = NumberAttribute(null=True)
