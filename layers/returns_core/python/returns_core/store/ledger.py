"""The refund ledger's table: append-only, one entry per money movement, chained by SHA-256
(rules/ledger_chain.py).

An entry is written in one transaction with (a) a condition that its sequence
number is free, (b) the order's refunded total, conditioned on the version read
and on staying within the captured amount, and (c) the return's refund record,
conditioned on not being recorded yet. So a movement lands once, in order, and
never beyond what was captured, even when writers race.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from pynamodb.transactions import TransactWrite

from .. import aws
from ..rules import clock
from ..rules.errors import UnprocessableError
from ..rules.ledger_chain import GENESIS, chain_hash, entry_fields, verify
from . import writes
from .models import CreditModel, LedgerEntryModel, OrderModel, ReturnModel, plain

LEDGER = "refunds"


class OverRefund(UnprocessableError):
    """Recording this movement would refund more than the order captured."""

    def __init__(self, message: str):
        super().__init__(message, code="over_refund")


class AlreadyRecorded(Exception):
    """The return's refund is already in the ledger."""


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


def append(movement: Movement, ret: ReturnModel, order: OrderModel, refund_record: dict,
           credit: CreditModel | None = None, attempts: int = 10) -> LedgerEntryModel:
    """Write the entry, the order's total and the return's refund record, all or nothing.

    Run again only when the transaction lost a race (another entry took the chain's head, or the
    order or return changed since read); any other error is raised as it came.
    """
    def attempt() -> LedgerEntryModel:
        order.refresh(consistent_read=True)
        ret.refresh(consistent_read=True)
        if (plain(ret.refund) or {}).get("ledger_seq") is not None:
            raise AlreadyRecorded(ret.return_id)
        captured = int(order.payment["captured_amount"])
        new_total = int(order.refunded_total or 0) + movement.from_capture
        if new_total > captured:
            raise OverRefund(f"order {order.order_id}: {new_total} would exceed the captured {captured}")
        prev = last_entry()
        seq = (int(prev.seq) + 1) if prev else 1
        issued_at = clock.iso()
        fields = {**movement.__dict__, "seq": seq, "issued_at": issued_at}
        entry = LedgerEntryModel(
            LEDGER, seq, issued_day=issued_at[:10], prev_hash=prev.hash if prev else GENESIS,
            **{k: v for k, v in fields.items() if k != "seq"},
        )
        entry.hash = chain_hash(entry_fields(entry), entry.prev_hash)
        record = {**refund_record, "ledger_seq": seq, "issued_at": issued_at, "reference": movement.reference}
        holds = dict(plain(order.refund_holds) or {})
        holds.pop(ret.return_id, None)
        with TransactWrite(connection=aws.dynamodb_connection()) as tx:
            tx.save(entry, condition=LedgerEntryModel.seq.does_not_exist())
            tx.update(order, actions=[OrderModel.refunded_total.set(new_total),
                                      OrderModel.refund_holds.set(holds),
                                      OrderModel.updated_at.set(issued_at)])
            tx.update(ret, actions=[ReturnModel.refund.set(record)],
                      condition=ReturnModel.refund["ledger_seq"].does_not_exist())
            if credit is not None:
                tx.update(credit, actions=[CreditModel.balance.add(movement.amount),
                                           CreditModel.updated_at.set(issued_at)])
        return entry

    return writes.transact(attempt, attempts=attempts,
                           busy=lambda: RuntimeError("ledger busy: could not append after several attempts"))


def entries(ledger: str = LEDGER, since_seq: int = 0, limit: int | None = None) -> Iterator[LedgerEntryModel]:
    """Entries after `since_seq`, in sequence order (one paged Query on the ledger's partition)."""
    cond = LedgerEntryModel.seq > since_seq
    yield from LedgerEntryModel.query(ledger, cond, consistent_read=True, limit=limit)


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


def verify_range(days: list[str] | None = None) -> dict:
    """Recompute the chain over the entries of these days (all entries when None).

    Reads only the range, the entry just before it (its hash starts the chain) and the
    first entry after it (whose prev_hash must be the range's last hash), so an edit or a
    deletion inside, just before or just after the range is named by its sequence number.
    """
    picked = list(entries()) if days is None else entries_on_days(days)
    if not picked:
        return {"ok": True, "checked": 0, "first_bad_seq": None}
    first = int(picked[0].seq)
    prev_hash = GENESIS
    if first > 1:
        prev = get(first - 1)
        if prev is None:
            return {"ok": False, "checked": 0, "first_bad_seq": first - 1}
        prev_hash = prev.hash
    ok, checked, bad = verify(picked, prev_hash)
    if ok:
        last = picked[-1]
        following = next(entries(since_seq=int(last.seq), limit=1), None)
        if following is not None and (int(following.seq) != int(last.seq) + 1 or following.prev_hash != last.hash):
            ok, bad = False, int(last.seq) + 1
    return {"ok": ok, "checked": checked, "first_bad_seq": bad}
