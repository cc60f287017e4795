"""A return's timeline, one item per entry (TimelineEntryModel), keyed by the return and a sequence number.

Why its own items: an item holds at most 400 KB, and a timeline only ever grows (a carrier may send
hundreds of tracking events). Kept on the return, it once made every later write of that return fail;
here the return keeps only `timeline_count`, so its size does not depend on how long its story is.

An entry is written in the same transaction as the change it tells of (`write_with`): the return's
conditional update (its version, its status...) and the entries' puts land together or not at all,
so there is never an entry for a change that did not happen, nor a change without its entry. The
next numbers come from `timeline_count` as read; the version condition makes two writers that read
the same count race, and the loser reads again (store.writes).

An entry that changes nothing else (a message sent, a side effect that failed: a record, not a change)
needs no transaction (issue 20: a transaction bills both writes twice). `append_record` claims its
number with the return's versioned update (the same serialisation point as a change: whoever wins the
version owns the next number), then puts the entry alone, on the condition that it does not exist.
A crash between the two leaves a number unused: the Query skips it, and no change is ever without
its entry, since changes never take this path.

Returns written before this kept their entries inline (`ReturnModel.timeline`): they are read first,
then the items; nothing writes the inline list any more.
"""
from __future__ import annotations

from typing import Any

from pynamodb.transactions import TransactWrite

from .. import aws
from .models import ReturnModel, TimelineEntryModel


def _owner(record: Any) -> tuple[str, str | None]:
    """(the partition of the record's entries, the claim id they carry): a return's entries live under
    its id; a claim's (store.models.ClaimModel) under the claim's id, and name it."""
    claim_id = getattr(record, "claim_id", None)
    return (claim_id, claim_id) if claim_id else (record.return_id, None)


def entries(ret: Any) -> list[dict]:
    """The whole timeline, oldest first: one Query on the record's partition (paged by PynamoDB when long),
    read consistently so a reader sees what was just written."""
    inline = getattr(ret, "timeline", None) or []
    if not int(ret.timeline_count or 0):
        return list(inline)
    items = TimelineEntryModel.query(_owner(ret)[0], consistent_read=True)
    return [*inline, *(item.as_entry() for item in items)]


def _items(record: Any, written: int, new: list[dict]) -> list[TimelineEntryModel]:
    """The new entries as items, numbered after the `written` ones."""
    partition, claim_id = _owner(record)
    return [TimelineEntryModel(partition, written + n, at=e["at"], type=e["type"], actor=e["actor"],
                               detail=e.get("detail"), claim_id=claim_id) for n, e in enumerate(new, start=1)]


def save_with(tx: TransactWrite, ret: ReturnModel, new: list[dict]) -> None:
    """Put the entries of a return being created in its creating transaction (`ret.timeline_count` set by
    the caller to len(new))."""
    for item in _items(ret, 0, new):
        tx.save(item, condition=TimelineEntryModel.seq.does_not_exist())


def write_with(ret: Any, actions: list, condition, new: list[dict]) -> None:
    """One transaction: the return's conditional update (`actions`, `condition`, its version) and the new
    entries, numbered after those already written. Raises TransactWriteError as DynamoDB cancels it
    (store.writes tells a lost race from a failure); on success `ret` is read again, as an update
    returning ALL_NEW would have left it."""
    items = _items(ret, int(ret.timeline_count or 0), new)
    with TransactWrite(connection=aws.dynamodb_connection()) as tx:
        tx.update(ret, actions=[*actions, type(ret).timeline_count.set(int(items[-1].seq))], condition=condition)
        for item in items:
            tx.save(item, condition=TimelineEntryModel.seq.does_not_exist())
    ret.refresh(consistent_read=True)


def append_record(ret: Any, entry: dict) -> None:
    """Add one entry that records something without changing the return (see the module's docstring):
    a versioned update claims the next number, then a single put writes it. Raises UpdateError
    (ConditionalCheckFailed: another writer changed the return since it was read; nothing written,
    read again and retry) as the claim fails."""
    claimed = int(ret.timeline_count or 0) + 1
    ret.update(actions=[type(ret).timeline_count.set(claimed)])   # + the version condition (PynamoDB)
    item, = _items(ret, claimed - 1, [entry])
    item.save(condition=TimelineEntryModel.seq.does_not_exist())
