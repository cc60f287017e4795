"""The refund ledger's table: append-only, one entry per money movement, each sealed with a keyed
hash and chained to the one before (rules/ledger_chain.py), its head anchored in a second table.

Several chains: an entry goes to the chain of its issue day and of its order's shard
(`refunds/2026-12-06/s3`: a hash of the order id modulo `LEDGER_SHARDS`), each chain with its own
sequence numbers, anchors and keyed checkpoint. Appends race only with appends of the same chain, so
they scale with writers; an order's appends all land in the same chain of a day (they race on the
order's total anyway). The first chain, `refunds` (every entry before chains), is closed: it is
verified as it is and nothing appends to it. The chains of a day are listed beside the orders
(`chains_id(day)`, and the days in DAYS_ID), written by a chain's first append in its transaction;
a record of a movement names its entry by `ledger_chain` and `ledger_seq`.

An entry is written in one transaction with (a) a condition that its sequence
number is free, (b) its anchor, on the same condition in the anchor table, (c) the
order's refunded total, conditioned on the version read and on staying within the
captured amount, and (d) the return's refund record, conditioned on not being
recorded yet. So a movement lands once, in order, and never beyond what was
captured, even when writers race; and the next sequence number and previous hash
come from the anchors, which nobody can delete, so an entry dropped from the
ledger's tail is never silently replaced. The same transaction overwrites the keyed
checkpoint of the head (rules/ledger_chain.py), an item of the orders table: a tamperer
who removes the tail with its anchors, or empties both ledger tables, leaves it behind.

Verification reads the stored items as DynamoDB holds them (the low-level client, not
the models): the seal covers every stored attribute, an attribute of the wrong type is
named instead of failing the read, and an attribute the model does not declare is still
in what is checked.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from .. import aws, config
from ..rules import clock, ledger_chain
from ..rules.errors import UnprocessableError
from ..rules.ledger_chain import (
    GENESIS,
    LEGACY_CHAIN,
    MALFORMED_ENTRY,
    MALFORMED_RECORD,
    MISSING_ENTRY,
    SCHEME_KEYED,
    SCHEME_LEGACY,
    Anchor,
    BadItem,
    Checkpoint,
    Item,
    Link,
    OrderBook,
    Record,
    Verdict,
    check_checkpoint,
    check_entry,
    check_head,
    check_orders,
    keyed_hash,
    verify,
)
from . import writes
from .models import ClaimModel, CreditModel, LedgerAnchorModel, LedgerEntryModel, OrderModel, ReturnModel, _meta

LEDGER = LEGACY_CHAIN   # the first chain: closed, verified as it is
CHAIN_PREFIX = "refunds/"
DEFAULT_SHARDS = 16
# The checkpoint's key in the orders table: longer than the 64 characters an order id may have
# (PUT /orders/{order_id}), so no order can land on it, and beside the orders rather than in the
# ledger's own tables, so emptying those two leaves it behind.
CHECKPOINT_ID = "#refund-ledger-checkpoint/refunds/kept-by-the-settle-function/not-an-order"
assert len(CHECKPOINT_ID) > 64
# The days that have chains, and per day its chains: beside the orders too (emptying both ledger
# tables leaves the list of what was there, and each chain's checkpoint says how long it was).
DAYS_ID = "#refund-ledger-days/kept-by-the-settle-function/not-an-order/every-day-with-a-chain"
assert len(DAYS_ID) > 64


def shard_count() -> int:
    """How many chains a day's appends are spread over (a setting of the Settle function)."""
    return max(1, config.int_setting("LEDGER_SHARDS", DEFAULT_SHARDS))


def shard_of(order_id: str) -> int:
    return int.from_bytes(hashlib.sha256(order_id.encode()).digest()[:8], "big") % shard_count()


def chain_for(order_id: str, day: str) -> str:
    """The chain an order's movement issued on `day` (YYYY-MM-DD) is appended to."""
    return f"{CHAIN_PREFIX}{day}/s{shard_of(order_id)}"


def day_of(chain: str) -> str | None:
    return chain.split("/")[1] if chain.startswith(CHAIN_PREFIX) else None


def checkpoint_id(chain: str) -> str:
    if chain == LEDGER:
        return CHECKPOINT_ID
    return f"#refund-ledger-checkpoint/{chain}/kept-by-the-settle-function/not-an-order"


def chains_id(day: str) -> str:
    return f"#refund-ledger-chains/{day}/kept-by-the-settle-function/not-an-order"


class LedgerNamesModel(Model):
    """A set of names beside the orders: the days that have chains (DAYS_ID), or a day's chains
    (chains_id(day)). Added to by a chain's first append, in its transaction."""
    Meta = _meta("ORDERS_TABLE")
    order_id = UnicodeAttribute(hash_key=True)
    names = UnicodeSetAttribute(null=True)


class LedgerCheckpointModel(Model):
    """A chain's head as its last append left it (seq, hash) with its MAC under the ledger key:
    one item per chain, overwritten in every append's transaction, in the orders table
    (CHECKPOINT_ID for the first chain, checkpoint_id(chain) for the others)."""
    Meta = _meta("ORDERS_TABLE")
    order_id = UnicodeAttribute(hash_key=True)
    ledger = UnicodeAttribute()
    head_seq = NumberAttribute()
    head_hash = UnicodeAttribute()
    mac = UnicodeAttribute()


class OverRefund(UnprocessableError):
    """Recording this movement would refund more than the order captured."""

    def __init__(self, message: str):
        super().__init__(message, code="over_refund")


class LedgerBusy(Exception):
    """Every append of this movement lost a race to other appends for the whole time budget. Nothing
    was written: the caller's step is run again (the provider's payment is idempotent by its key)."""


# Appends race on the chain's head: a loser reads the new head and tries again, for this long (the
# Settle function's timeout is 60 s; the provider call before the append needs the rest).
APPEND_BUDGET_SECONDS = 30.0


class Contention:
    """Lost races of the appends in this process, for the Settle step's metric and the bench."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.lost = 0

    def lost_one(self) -> None:
        with self._lock:
            self.lost += 1


contention = Contention()


class AlreadyRecorded(Exception):
    """The return's refund is already in the ledger."""


class UnanchoredEntry(Exception):
    """The ledger holds an entry at the next sequence number that no append anchored: someone wrote
    past the head. Appending stops (not retried) until ops looks; /finance/ledger/verify names it."""

    def __init__(self, seq: int, chain: str = LEDGER):
        super().__init__(f"ledger {chain} seq {seq} is taken by an entry no append anchored")
        self.seq = seq
        self.chain = chain


@dataclass(frozen=True)
class Movement:
    entry_id: str
    kind: str
    return_id: str
    order_id: str
    amount: int
    currency: str
    method: str
    reference: str
    inspected_by: str | None
    approved_by: str | None
    bonus: int = 0   # of `amount`, the store's own money (store credit bonus): not from the capture

    @property
    def from_capture(self) -> int:
        return self.amount - self.bonus


def last_entry(ledger: str = LEDGER) -> LedgerEntryModel | None:
    for entry in LedgerEntryModel.query(ledger, scan_index_forward=False, limit=1, consistent_read=True):
        return entry
    return None


def _anchor_at_end(newest: bool, ledger: str = LEDGER) -> Anchor | None:
    for anchor in LedgerAnchorModel.query(ledger, scan_index_forward=not newest, limit=1, consistent_read=True):
        return Anchor(int(anchor.seq), anchor.hash)
    return None


def head(ledger: str = LEDGER) -> Anchor | None:
    """The last anchored entry: where the next append continues the chain."""
    return _anchor_at_end(newest=True, ledger=ledger)


def _anchor(seq: int, ledger: str = LEDGER) -> Anchor | None:
    try:
        anchor = LedgerAnchorModel.get(ledger, seq, consistent_read=True)
    except LedgerAnchorModel.DoesNotExist:
        return None
    return Anchor(int(anchor.seq), anchor.hash)


def _continues_from(chain: str) -> tuple[int, str]:
    """(next seq, previous hash) from the chain's anchored head; before any anchor exists (a new
    chain, or the first one of scheme 1 entries only), from the chain's last entry."""
    anchored = head(chain)
    if anchored is not None:
        return anchored.seq + 1, anchored.hash
    prev = last_entry(chain)
    return ((int(prev.seq) + 1, prev.hash) if prev else (1, GENESIS))


def stored(entry: LedgerEntryModel) -> dict:
    """The entry as DynamoDB stores it (typed attribute values): what its seal covers."""
    return entry.serialize(null_check=False)


def link(entry: LedgerEntryModel) -> Link:
    return Link(int(entry.seq), entry.prev_hash, entry.hash,
                int(entry.hash_scheme) if entry.hash_scheme is not None else SCHEME_LEGACY, stored(entry))


def seal(entry: LedgerEntryModel, key: bytes) -> LedgerEntryModel:
    entry.hash_scheme = SCHEME_KEYED
    entry.hash = None
    entry.hash = keyed_hash(stored(entry), key)
    return entry


def append(movement: Movement, ret: ReturnModel, order: OrderModel, refund_record: dict, key: bytes,
           credit: CreditModel | None = None,
           budget_seconds: float = APPEND_BUDGET_SECONDS, *, recorded_in: str = "refund",
           hold: str | None = None) -> LedgerEntryModel:
    """Write the entry, its anchor, the order's total and the return's refund record, all or nothing.

    `key`: the ledger key (only the Settle function can read it). Run again only when the
    transaction lost a race (another entry took the chain's head, or the order or return changed
    since read), with jittered backoff, for `budget_seconds`; then LedgerBusy. A lost race is
    never a refusal: the money may already be paid. Any other error is raised as it came.

    Other movements than a return's refund (a dispute's adjustment, a claim's refund) say where their
    record is: `ret` is then the record that owns the movement (a return or a claim), `recorded_in` the
    name of its map attribute that gets the record (once: on `ledger_seq` not existing yet) and `hold`
    the key of the order's refund hold the movement releases (default: the return's id).
    """
    record_attr = getattr(type(ret), recorded_in)
    hold_key = hold if hold is not None else ret.return_id

    def attempt() -> LedgerEntryModel:
        order.refresh(consistent_read=True)
        ret.refresh(consistent_read=True)
        if credit is not None:
            # Every record the transaction conditions on is read again: a balance raised by another
            # refund of the same customer would otherwise fail this append's version check forever.
            try:
                credit.refresh(consistent_read=True)
            except CreditModel.DoesNotExist:
                pass   # still new: this transaction creates it
        record_now = getattr(ret, recorded_in) or {}
        # Another movement's record may hold more than the payment (a resolution's decision and note):
        # it is kept beside it. A return's refund record is the payment only, as before.
        given = refund_record if recorded_in == "refund" else {**record_now, **refund_record}
        if record_now.get("ledger_seq") is not None:
            raise AlreadyRecorded(hold_key)
        captured = int(order.payment["captured_amount"])
        new_total = int(order.refunded_total or 0) + movement.from_capture
        if new_total > captured:
            raise OverRefund(f"order {order.order_id}: {new_total} would exceed the captured {captured}")
        issued_at = clock.iso()
        day = issued_at[:10]
        chain = chain_for(order.order_id, day)
        seq, prev_hash = _continues_from(chain)
        entry = seal(LedgerEntryModel(chain, seq, issued_at=issued_at, issued_day=day,
                                      prev_hash=prev_hash, **movement.__dict__), key)
        record = {**given, "ledger_seq": seq, "ledger_chain": chain, "issued_at": issued_at,
                  "reference": movement.reference}
        holds = dict(order.refund_holds or {})
        holds.pop(hold_key, None)
        try:
            with TransactWrite(connection=aws.dynamodb_connection()) as tx:
                tx.save(entry, condition=LedgerEntryModel.seq.does_not_exist())
                tx.save(LedgerAnchorModel(chain, seq, hash=entry.hash),
                        condition=LedgerAnchorModel.seq.does_not_exist())
                # No condition: the anchor's already orders the appends, and an edited checkpoint
                # must not stop them (it is simply overwritten with the true head).
                mark = ledger_chain.checkpoint(seq, entry.hash, key, chain)
                tx.save(LedgerCheckpointModel(checkpoint_id(chain), ledger=chain, head_seq=mark.seq,
                                              head_hash=mark.hash, mac=mark.mac))
                if seq == 1:   # the chain's first entry lists it (the seq's condition makes it once)
                    tx.update(LedgerNamesModel(DAYS_ID), actions=[LedgerNamesModel.names.add({day})])
                    tx.update(LedgerNamesModel(chains_id(day)), actions=[LedgerNamesModel.names.add({chain})])
                tx.update(order, actions=[OrderModel.refunded_total.set(new_total),
                                          OrderModel.refund_holds.set(holds),
                                          OrderModel.updated_at.set(issued_at)])
                tx.update(ret, actions=[record_attr.set(record)],
                          condition=record_attr["ledger_seq"].does_not_exist())
                if credit is not None:
                    tx.update(credit, actions=[CreditModel.balance.add(movement.amount),
                                               CreditModel.updated_at.set(issued_at)])
        except TransactWriteError as exc:
            # Lost a race, or the seq is held by an entry no append anchored (written past the head):
            # retrying would lose forever, so say what it is.
            if writes.lost_race(exc) and get(seq, chain) is not None and _anchor(seq, chain) is None:
                raise UnanchoredEntry(seq, chain) from exc
            raise
        return entry

    return writes.transact(attempt, backoff=writes.Backoff(budget_seconds), on_lost=contention.lost_one,
                           busy=lambda: LedgerBusy(f"ledger busy: {movement.entry_id} not appended within "
                                                   f"{budget_seconds:g} s; the step is retried"))


def days() -> list[str]:
    """The days that have chains, in order (one GetItem)."""
    try:
        return sorted(LedgerNamesModel.get(DAYS_ID, consistent_read=True).names or ())
    except LedgerNamesModel.DoesNotExist:
        return []


def chains_on(day: str) -> list[str]:
    """The chains of a day, in shard order (one GetItem)."""
    try:
        names = LedgerNamesModel.get(chains_id(day), consistent_read=True).names or ()
    except LedgerNamesModel.DoesNotExist:
        return []
    return sorted(names, key=lambda c: (len(c), c))


def chains() -> list[str]:
    """Every chain: the first, then the day/shard chains by day and shard (a GetItem per day)."""
    return [LEDGER] + [chain for day in days() for chain in chains_on(day)]


def entries(ledger: str | None = None, since_seq: int = 0, limit: int | None = None) -> Iterator[LedgerEntryModel]:
    """A chain's entries after `since_seq`, in sequence order (one paged Query on its partition);
    without a chain, every chain's, one after the other (chains())."""
    cond = LedgerEntryModel.seq > since_seq
    for chain in ([ledger] if ledger is not None else chains()):
        yield from LedgerEntryModel.query(chain, cond, consistent_read=True, limit=limit)


def get(seq: int, ledger: str = LEDGER) -> LedgerEntryModel | None:
    try:
        return LedgerEntryModel.get(ledger, seq, consistent_read=True)
    except LedgerEntryModel.DoesNotExist:
        return None


def entries_on_days(days: list[str]) -> list[LedgerEntryModel]:
    """The entries issued on these days (YYYY-MM-DD): one Query on the by_day index per day; in the
    order they were issued (chains interleave: their sequence numbers are each chain's own)."""
    out: list[LedgerEntryModel] = []
    for day in days:
        out.extend(LedgerEntryModel.by_day.query(day))
    return sorted(out, key=lambda e: (e.issued_at, e.ledger, int(e.seq)))


# -- verification: stored items, read with the low-level client --------------------------------------

# What an append writes, by attribute: (DynamoDB type, may be absent), from the model.
SHAPE = {name: (attribute.attr_type, bool(attribute.null))
         for name, attribute in LedgerEntryModel.get_attributes().items()}
_NAMES = {"#p": "ledger", "#s": "seq"}


def _names(condition: str) -> dict:
    return {k: v for k, v in _NAMES.items() if k in condition}


def legacy_last_seq() -> int:
    """The last sequence number written before the keyed scheme (a setting, 0 on a new deployment):
    scheme 1 entries are accepted up to it and nowhere else, whatever the tables say."""
    return max(0, config.int_setting("LEDGER_LEGACY_LAST_SEQ", 0))


def _query(table: str, condition: str, values: dict, *, names: dict | None = None, index: str | None = None,
           newest_first: bool = False, limit: int | None = None) -> Iterator[dict]:
    request: dict[str, Any] = {"TableName": table, "KeyConditionExpression": condition,
                               "ExpressionAttributeValues": values, "ScanIndexForward": not newest_first}
    if names:
        request["ExpressionAttributeNames"] = names
    if index:
        request["IndexName"] = index
    else:
        request["ConsistentRead"] = True
    if limit:
        request["Limit"] = limit
    client = aws.client("dynamodb")
    while True:
        page = client.query(**request)
        yield from page.get("Items", [])
        if limit or "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _seq_of(item: dict) -> Decimal:
    """An item's sort key as stored (the table's key schema makes it a number)."""
    return Decimal(item["seq"]["N"])


def _raw_entries(chain: str, lo: Decimal | int | None = None, hi: Decimal | int | None = None,
                 newest_first: bool = False, limit: int | None = None) -> list[dict]:
    values: dict[str, Any] = {":p": {"S": chain}}
    condition = "#p = :p"
    if lo is not None and hi is not None:
        condition += " AND #s BETWEEN :lo AND :hi"
        values.update({":lo": {"N": str(lo)}, ":hi": {"N": str(hi)}})
    return list(_query(LedgerEntryModel.Meta.table_name, condition, values, names=_names(condition),
                       newest_first=newest_first, limit=limit))


def _parse(item: dict) -> Item:
    return ledger_chain.parse(item, SHAPE)


def _anchor_of(item: dict) -> Anchor:
    # An anchor no append wrote (a fraction for a seq, a hash of another type) still names a place:
    # rounded up, it stands past what it follows, and a hash that is not text matches no entry.
    value = item.get("hash")
    text = value.get("S") if isinstance(value, dict) else None
    return Anchor(math.ceil(_seq_of(item)), text if isinstance(text, str) else "")


def _anchors(chain: str, lo: int, hi: int | None = None) -> dict[int, str]:
    values: dict[str, Any] = {":p": {"S": chain}, ":lo": {"N": str(lo)}}
    condition = "#p = :p AND #s >= :lo"
    if hi is not None:
        condition = "#p = :p AND #s BETWEEN :lo AND :hi"
        values[":hi"] = {"N": str(hi)}
    return {a.seq: a.hash for a in map(_anchor_of, _query(LedgerAnchorModel.Meta.table_name, condition, values,
                                                           names=_names(condition)))}


def _anchored_head(chain: str) -> Anchor | None:
    for item in _query(LedgerAnchorModel.Meta.table_name, "#p = :p", {":p": {"S": chain}}, names=_names("#p"),
                       newest_first=True, limit=1):
        return _anchor_of(item)
    return None


def _anchor_at(chain: str, seq: int) -> Anchor | None:
    item = aws.client("dynamodb").get_item(TableName=LedgerAnchorModel.Meta.table_name, ConsistentRead=True,
                                           Key={"ledger": {"S": chain}, "seq": {"N": str(seq)}}).get("Item")
    return _anchor_of(item) if item else None


def _entry_at(chain: str, seq: int) -> Item | None:
    item = aws.client("dynamodb").get_item(TableName=LedgerEntryModel.Meta.table_name, ConsistentRead=True,
                                           Key={"ledger": {"S": chain}, "seq": {"N": str(seq)}}).get("Item")
    return _parse(item) if item else None


def _checkpoint(chain: str) -> Checkpoint | BadItem | None:
    item = aws.client("dynamodb").get_item(TableName=OrderModel.Meta.table_name, ConsistentRead=True,
                                           Key={"order_id": {"S": checkpoint_id(chain)}}).get("Item")
    if item is None:
        return None
    try:
        return Checkpoint(int(item["head_seq"]["N"]), item["head_hash"]["S"], item["mac"]["S"])
    except (KeyError, TypeError, ValueError):
        return BadItem(None, "checkpoint")


def _in_order(items: list[dict]) -> list[tuple[Decimal, Item]]:
    return [(_seq_of(item), _parse(item)) for item in items]


def _keyed_from(chain: str) -> int:
    """Where only keyed entries may be: after the legacy entries in the first chain, anywhere else."""
    return legacy_last_seq() + 1 if chain == LEDGER else 1


def _verify_span(chain: str, lo: int, hi: int, key: bytes, keyed_from: int) -> tuple[Verdict, list[Link]]:
    """The chain's entries lo..hi read by key (not from the index: an entry whose day was edited is
    still read), with the entry before (its hash starts the chain) and the one after (it must link to hi)."""
    read = _in_order(_raw_entries(chain, max(lo - 1, 1), hi + 1))
    anchors = _anchors(chain, max(lo - 1, 1), hi + 1)
    known = frozenset(SHAPE)
    prev_hash = GENESIS
    if lo > 1:
        before = next((item for at, item in read if at == lo - 1), None)
        if before is None:
            return Verdict(False, 0, lo - 1, MISSING_ENTRY), []
        if isinstance(before, BadItem):
            return Verdict(False, 0, lo - 1, MALFORMED_ENTRY), []
        wrong = check_entry(before, key, keyed_from, anchors, known)
        if wrong:
            return Verdict(False, 0, lo - 1, wrong), []
        prev_hash = before.hash
    span = [item for at, item in read if lo <= at <= hi]
    verdict = verify(span, key, prev_hash=prev_hash, first_seq=lo, keyed_from=keyed_from, anchors=anchors,
                     known=known)
    if not verdict.ok:
        return verdict, []
    if verdict.checked < hi - lo + 1:
        return Verdict(False, verdict.checked, hi, MISSING_ENTRY), []
    links = [item for item in span if isinstance(item, Link)]
    after = [item for at, item in read if hi < at <= hi + 1]
    if after:
        following = verify(after[:1], key, prev_hash=links[-1].hash, first_seq=hi + 1, keyed_from=keyed_from,
                           anchors=anchors, known=known)
        if not following.ok:
            return Verdict(False, verdict.checked, following.first_bad_seq, following.reason), []
    return verdict, links


def _check_tail(chain: str, key: bytes) -> tuple[Verdict | None, Anchor | None]:
    """The chain's last entry, the anchored head and the keyed checkpoint, read in that order.

    An append landing between two reads is anchored and checkpointed in the same transaction, so
    a later read that runs ahead of an earlier one is read again at its own sequence number."""
    anchored = _anchored_head(chain)
    newest = _raw_entries(chain, newest_first=True, limit=1)
    last = _parse(newest[0]) if newest else None
    if isinstance(last, BadItem):
        return Verdict(False, 0, last.seq, MALFORMED_ENTRY), anchored
    if anchored is not None and last is not None and last.seq > anchored.seq:
        anchored = _anchor_at(chain, last.seq) or anchored
    tail = check_head(last, anchored)
    if tail is not None:
        return tail, anchored
    mark = _checkpoint(chain)
    if isinstance(mark, Checkpoint) and mark.seq > (anchored.seq if anchored else 0):
        later, entry = _anchor_at(chain, mark.seq), _entry_at(chain, mark.seq)
        if later is not None and isinstance(entry, Link) and later.hash == entry.hash:
            anchored, last = later, entry   # appended while this check ran
    return check_checkpoint(mark, anchored, last, key, chain), anchored


# -- the money around the entries -----------------------------------------------------------------

_RECORDS = {"return": (ReturnModel, "return_id", ("refund", "dispute_resolution")),
            "claim": (ClaimModel, "claim_id", ("resolution",))}


class _Malformed(Exception):
    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def _whole(value: Any, what: str) -> int:
    """A stored number as an int, or _Malformed naming where it was found."""
    try:
        number = Decimal(value["N"]) if isinstance(value, dict) else None
    except (InvalidOperation, KeyError, TypeError, ValueError):
        number = None
    if number is None or number != number.to_integral_value():
        raise _Malformed(what)
    return int(number)


def _chain_of(fields: dict, label: str) -> str:
    value = fields.get("ledger_chain")
    if value is None:
        return LEDGER    # recorded before chains: the first chain
    text = value.get("S") if isinstance(value, dict) else None
    if not isinstance(text, str) or not text:
        raise _Malformed(label)
    return text


def _records_of(owner: str, item: dict) -> list[Record]:
    model, key_name, names = _RECORDS[owner]
    owner_id = (item.get(key_name) or {}).get("S", "")
    order_id = (item.get("order_id") or {}).get("S", "")
    out = []
    for name in names:
        value = item.get(name)
        fields = value.get("M") if isinstance(value, dict) else None
        if not isinstance(fields, dict) or "ledger_seq" not in fields:
            continue   # nothing recorded, or a record still waiting for its payment
        label = f"{owner} {owner_id} {name}"
        seq = _whole(fields["ledger_seq"], label)
        if seq > 0:    # 0: nothing was paid, no entry
            out.append(Record(owner, owner_id, name, order_id, seq, _whole(fields.get("amount"), label),
                              _chain_of(fields, label)))
    return out


def _get_all(keys: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """Items by key, read together: in one TransactGetItems per hundred, so an order and its returns'
    records are read at one instant (an append changes them in one transaction). None when absent."""
    from botocore.exceptions import ClientError

    client = aws.client("dynamodb")
    out: list[tuple[str, dict]] = []
    for start in range(0, len(keys), 100):
        chunk = keys[start:start + 100]
        for attempt in range(_READ_ATTEMPTS):
            try:
                answer = client.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key}}
                                                                  for table, key in chunk])
                break
            except ClientError as exc:
                # Cancelled while an append was writing one of these items: read again after it.
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException" \
                        or attempt == _READ_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2 ** attempt)
        # TransactGetItems answers one response per item, in the request's order.
        out.extend((table, response.get("Item"))
                   for (table, _), response in zip(chunk, answer["Responses"], strict=True))
    return out


_READ_ATTEMPTS = 5


def _owners(order_id: str) -> list[tuple[str, dict]]:
    """The keys of the order's returns and claims (their by_order indexes: a Query each)."""
    keys: list[tuple[str, dict]] = []
    for owner, (model, key_name, _) in _RECORDS.items():
        for item in _query(model.Meta.table_name, "#o = :o", {":o": {"S": order_id}}, names={"#o": "order_id"},
                           index="by_order"):
            if key_name in item:
                keys.append((owner, {key_name: item[key_name]}))
    return keys


def _book(order_id: str) -> OrderBook:
    owners = _owners(order_id)
    tables = {owner: _RECORDS[owner][0].Meta.table_name for owner in _RECORDS}
    read = _get_all([(OrderModel.Meta.table_name, {"order_id": {"S": order_id}})]
                    + [(tables[owner], key) for owner, key in owners])
    order = read[0][1]
    total = None if order is None else (_whole(order["refunded_total"], f"order {order_id}")
                                        if "refunded_total" in order else 0)
    records: list[Record] = []
    for (owner, _), (_, item) in zip(owners, read[1:], strict=True):
        if item is not None:
            records.extend(_records_of(owner, item))
    return OrderBook(order_id, total, records)


def _entries_at(places: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Item]:
    """Entries by (chain, seq), parsed; absent ones left out. A GetItem each (the Settle role may
    only put, get and query the ledger): records name few entries outside the checked range."""
    out: dict[tuple[str, int], Item] = {}
    for chain, seq in sorted(set(places)):
        entry = _entry_at(chain, seq)
        if entry is not None:
            out[(chain, seq)] = entry
    return out


def _check_money(checked: list[Link], legacy_last: int) -> Verdict | None:
    """The orders the checked entries touch, their returns' and claims' records, and the entries
    those name: bounded by the range (a Query per index, one transaction read per order)."""
    books: dict[str, OrderBook] = {}
    for link in checked:
        order_id = link.stored["order_id"]["S"]
        legacy = ledger_chain.where_of(link)[0] == LEDGER and link.seq <= legacy_last
        if not legacy and order_id not in books:
            try:
                books[order_id] = _book(order_id)
            except _Malformed as bad:
                return Verdict(False, 0, None, MALFORMED_RECORD, order_id=order_id, record=bad.what)
    entries: dict[tuple[str, int], Item] = {ledger_chain.where_of(link): link for link in checked}
    named = {r.where for book in books.values() for r in book.records}
    entries.update(_entries_at(named - set(entries)))
    return check_orders(checked, books, entries, legacy_last)


def _answer(verdict: Verdict, anchored_seq: int | None) -> dict:
    answer = {"ok": verdict.ok, "checked": verdict.checked, "first_bad_seq": verdict.first_bad_seq,
              "reason": verdict.reason, "anchored_seq": anchored_seq}
    # Named only when they say something: ids of chains, orders, returns and claims, never a customer's data.
    answer.update({k: v for k, v in (("chain", verdict.chain), ("order_id", verdict.order_id),
                                     ("record", verdict.record)) if v is not None})
    return answer


def _named(verdict: Verdict, chain: str | None) -> Verdict:
    """The verdict with the chain it is about (a finding of the money names its own when it has one)."""
    if verdict.ok or verdict.chain is not None or chain is None:
        return verdict
    return Verdict(False, verdict.checked, verdict.first_bad_seq, verdict.reason, verdict.order_id,
                   verdict.record, chain)


TAIL_ONLY = "tail"


def verify_chain(chain: str, key: bytes, span: tuple[int, int] | str | None = None
                 ) -> tuple[Verdict, list[Link], Anchor | None]:
    """One chain: its entries (all when `span` is None, lo..hi, or none for TAIL_ONLY), then its last
    entry against its anchored head and its keyed checkpoint. The verdict names the chain when it fails."""
    keyed_from = _keyed_from(chain)
    checked: list[Link] = []
    if span is None:
        items = [item for _, item in _in_order(_raw_entries(chain))]
        verdict = verify(items, key, prev_hash=GENESIS, first_seq=1, keyed_from=keyed_from,
                         anchors=_anchors(chain, 1), known=frozenset(SHAPE))
        checked = [item for item in items if isinstance(item, Link)] if verdict.ok else []
    elif span == TAIL_ONLY:
        verdict = Verdict(True, 0)
    else:
        lo, hi = span
        verdict, checked = _verify_span(chain, lo, hi, key, keyed_from)
    tail, anchored = _check_tail(chain, key)
    if verdict.ok and tail is not None:
        verdict = Verdict(False, verdict.checked, tail.first_bad_seq, tail.reason)
    return _named(verdict, chain), checked, anchored


def _spans_of_days(days: list[str]) -> dict[str, tuple[int, int] | str]:
    """Per chain, the span of its entries issued on these days (the by_day index: a Query per day),
    and every chain listed for those days (and the first chain) with its tail at least."""
    found: dict[str, list[Decimal]] = {}
    for day in days:
        for item in _query(LedgerEntryModel.Meta.table_name, "#d = :d", {":d": {"S": day}},
                           names={"#d": "issued_day"}, index="by_day"):
            chain = (item.get("ledger") or {}).get("S")
            if isinstance(chain, str):
                found.setdefault(chain, []).append(_seq_of(item))
    spans: dict[str, tuple[int, int] | str] = {LEDGER: TAIL_ONLY}
    for day in days:
        spans.update({chain: TAIL_ONLY for chain in chains_on(day)})
    for chain, seqs in found.items():
        spans[chain] = (max(1, math.floor(min(seqs))), math.ceil(max(seqs)))
    return spans


def verify_range(key: bytes, days: list[str] | None = None) -> dict:
    """Check the entries of these days (every chain's when None), each chain's tail against its
    anchored head and keyed checkpoint, and the orders and records of the checked entries: an
    edit, an insertion or a deletion, the last entry's included, is named by its chain and sequence
    number (or its order), with the reason (rules/ledger_chain.py). Bad data is a verdict, never an error.

    `anchored_seq`: the anchored head of the chain named when one fails, else how many entries
    the checked chains' anchors record (their heads summed: with one chain, its head)."""
    legacy_last = legacy_last_seq()
    spans: dict[str, tuple[int, int] | str | None] = (
        {chain: None for chain in chains()} if days is None else dict(_spans_of_days(days)))
    checked: list[Link] = []
    count, heads = 0, None
    for chain in sorted(spans, key=lambda c: (c != LEDGER, day_of(c) or "", len(c), c)):
        verdict, links, anchored = verify_chain(chain, key, spans[chain])
        count += verdict.checked
        if not verdict.ok:
            return _answer(Verdict(False, count, verdict.first_bad_seq, verdict.reason, chain=chain),
                           anchored.seq if anchored else None)
        checked.extend(links)
        if anchored is not None:
            heads = (heads or 0) + anchored.seq
    verdict = Verdict(True, count)
    money = _check_money(checked, legacy_last)
    if money is not None:
        verdict = Verdict(False, count, money.first_bad_seq, money.reason, money.order_id, money.record, money.chain)
    return _answer(verdict, heads)
