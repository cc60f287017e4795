"""The refund ledger's table: append-only, one entry per money movement, each sealed with a keyed
hash and chained to the one before (rules/ledger_chain.py), its head anchored in a second table.

An entry is written in one transaction with (a) a condition that its sequence
number is free, (b) its anchor, on the same condition in the anchor table, (c) the
order's refunded total, conditioned on the version read and on staying within the
captured amount, and (d) the return's refund record, conditioned on not being
recorded yet. So a movement lands once, in order, and never beyond what was
captured, even when writers race; and the next sequence number and previous hash
come from the anchors, which nobody can delete, so an entry dropped from the
ledger's tail is never silently replaced.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Iterator

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from .. import aws
from ..rules import clock
from ..rules.errors import UnprocessableError
from ..rules.ledger_chain import (GENESIS, MISSING_ENTRY, SCHEME_KEYED, SCHEME_LEGACY, Anchor, Link, Verdict,
                                  check_entry, check_head, keyed_hash, verify)
from . import writes
from .models import CreditModel, LedgerAnchorModel, LedgerEntryModel, OrderModel, ReturnModel, plain

LEDGER = "refunds"


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

    def __init__(self, seq: int):
        super().__init__(f"ledger seq {seq} is taken by an entry no append anchored")
        self.seq = seq


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


def _continues_from() -> tuple[int, str]:
    """(next seq, previous hash) from the anchored head; before any anchor exists (a new ledger, or
    one of scheme 1 entries only), from the ledger's last entry."""
    anchored = head()
    if anchored is not None:
        return anchored.seq + 1, anchored.hash
    prev = last_entry()
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
        record_now = plain(getattr(ret, recorded_in)) or {}
        # Another movement's record may hold more than the payment (a resolution's decision and note):
        # it is kept beside it. A return's refund record is the payment only, as before.
        given = refund_record if recorded_in == "refund" else {**record_now, **refund_record}
        if record_now.get("ledger_seq") is not None:
            raise AlreadyRecorded(hold_key)
        captured = int(order.payment["captured_amount"])
        new_total = int(order.refunded_total or 0) + movement.from_capture
        if new_total > captured:
            raise OverRefund(f"order {order.order_id}: {new_total} would exceed the captured {captured}")
        seq, prev_hash = _continues_from()
        issued_at = clock.iso()
        entry = seal(LedgerEntryModel(LEDGER, seq, issued_at=issued_at, issued_day=issued_at[:10],
                                      prev_hash=prev_hash, **movement.__dict__), key)
        record = {**given, "ledger_seq": seq, "issued_at": issued_at, "reference": movement.reference}
        holds = dict(plain(order.refund_holds) or {})
        holds.pop(hold_key, None)
        try:
            with TransactWrite(connection=aws.dynamodb_connection()) as tx:
                tx.save(entry, condition=LedgerEntryModel.seq.does_not_exist())
                tx.save(LedgerAnchorModel(LEDGER, seq, hash=entry.hash),
                        condition=LedgerAnchorModel.seq.does_not_exist())
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
            if writes.lost_race(exc) and get(seq) is not None and _anchor(seq) is None:
                raise UnanchoredEntry(seq) from exc
            raise
        return entry

    return writes.transact(attempt, backoff=writes.Backoff(budget_seconds), on_lost=contention.lost_one,
                           busy=lambda: LedgerBusy(f"ledger busy: {movement.entry_id} not appended within "
                                                   f"{budget_seconds:g} s; the step is retried"))


def entries(ledger: str = LEDGER, since_seq: int = 0, limit: int | None = None) -> Iterator[LedgerEntryModel]:
    """Entries after `since_seq`, in sequence order (one paged Query on the ledger's partition)."""
    cond = LedgerEntryModel.seq > since_seq
    yield from LedgerEntryModel.query(ledger, cond, consistent_read=True, limit=limit)


def _between(lo: int, hi: int, ledger: str = LEDGER) -> list[LedgerEntryModel]:
    return list(LedgerEntryModel.query(ledger, LedgerEntryModel.seq.between(lo, hi), consistent_read=True))


def _anchors(lo: int, hi: int | None = None, ledger: str = LEDGER) -> dict[int, str]:
    cond = LedgerAnchorModel.seq >= lo if hi is None else LedgerAnchorModel.seq.between(lo, hi)
    return {int(a.seq): a.hash for a in LedgerAnchorModel.query(ledger, cond, consistent_read=True)}


def get(seq: int, ledger: str = LEDGER) -> LedgerEntryModel | None:
    try:
        return LedgerEntryModel.get(ledger, seq, consistent_read=True)
    except LedgerEntryModel.DoesNotExist:
        return None


def entries_on_days(days: list[str]) -> list[LedgerEntryModel]:
    """The entries issued on these days (YYYY-MM-DD): one Query on the by_day index per day."""
    out: list[LedgerEntryModel] = []
    for day in days:
        out.extend(LedgerEntryModel.by_day.query(day))
    return sorted(out, key=lambda e: int(e.seq))


def _verify_span(lo: int, hi: int, key: bytes, keyed_from: int | None) -> Verdict:
    """The entries lo..hi read by key (not from the index: an entry whose day was edited is still
    read), with the entry before (its hash starts the chain) and the one after (it must link to hi)."""
    read = {int(e.seq): link(e) for e in _between(max(lo - 1, 1), hi + 1)}
    anchors = _anchors(max(lo - 1, 1), hi + 1)
    prev_hash = GENESIS
    if lo > 1:
        before = read.get(lo - 1)
        if before is None:
            return Verdict(False, 0, lo - 1, MISSING_ENTRY)
        wrong = check_entry(before, key, keyed_from, anchors)
        if wrong:
            return Verdict(False, 0, lo - 1, wrong)
        prev_hash = before.hash
    span = [read[s] for s in sorted(read) if lo <= s <= hi]
    verdict = verify(span, key, prev_hash=prev_hash, first_seq=lo, keyed_from=keyed_from, anchors=anchors)
    if not verdict.ok:
        return verdict
    if verdict.checked < hi - lo + 1:
        return Verdict(False, verdict.checked, hi, MISSING_ENTRY)
    after = read.get(hi + 1)
    if after is not None:
        following = verify([after], key, prev_hash=read[hi].hash, keyed_from=keyed_from, anchors=anchors)
        if not following.ok:
            return Verdict(False, verdict.checked, following.first_bad_seq, following.reason)
    return verdict


def _head_and_last() -> tuple[Anchor | None, Link | None]:
    """The anchored head and the ledger's last entry, read in that order; an append that lands
    between the two reads is anchored by then, so its anchor is read instead."""
    anchored = head()
    last = last_entry()
    if anchored is not None and last is not None and int(last.seq) > anchored.seq:
        anchored = _anchor(int(last.seq)) or anchored
    return anchored, (link(last) if last is not None else None)


def verify_range(key: bytes, days: list[str] | None = None) -> dict:
    """Check the entries of these days (all entries when None) and the ledger's tail against the
    anchored head: an edit, an insertion or a deletion, the last entry's included, is named by
    its sequence number, with the reason (rules/ledger_chain.py)."""
    first = _anchor_at_end(newest=False)
    keyed_from = first.seq if first else None
    if days is None:
        links = [link(e) for e in entries()]
        verdict = verify(links, key, prev_hash=GENESIS, first_seq=1, keyed_from=keyed_from,
                         anchors=_anchors(1))
    else:
        seqs = [int(e.seq) for e in entries_on_days(days)]
        verdict = _verify_span(seqs[0], seqs[-1], key, keyed_from) if seqs else Verdict(True, 0)
    anchored, last = _head_and_last()
    if verdict.ok:
        tail = check_head(last, anchored)
        if tail is not None:
            verdict = Verdict(False, verdict.checked, tail.first_bad_seq, tail.reason)
    return {"ok": verdict.ok, "checked": verdict.checked, "first_bad_seq": verdict.first_bad_seq,
            "reason": verdict.reason, "anchored_seq": anchored.seq if anchored else None}
