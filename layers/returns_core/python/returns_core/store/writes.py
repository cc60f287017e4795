"""Conditional writes that may lose a race, written once.

A record is read, a decision is made on what was read, and the write carries a condition
on it (PynamoDB's VersionAttribute adds one on the version read). When another writer got
there first the record is read again and the decision made again; any other error is the
caller's, never retried here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from . import timeline

MAX_ATTEMPTS = 8
CONFLICT = "ConditionalCheckFailedException"
# Cancellation reasons of a transaction that lost a race rather than failed.
_RACE_REASONS = frozenset({None, "", "None", "ConditionalCheckFailed", "TransactionConflict"})

T = TypeVar("T")


@dataclass
class Update:
    """One attempt's write: its actions, its condition, what the caller wants back if it lands, and the
    timeline entries (rules.timeline.entry) that tell of it, written in the same transaction."""
    actions: list
    condition: Any = None
    memo: Any = None
    timeline: list[dict] = field(default_factory=list)


def is_conflict(exc: Exception) -> bool:
    """A conditional write lost to another writer (read again and decide again)."""
    return isinstance(exc, (PutError, UpdateError)) and getattr(exc, "cause_response_code", None) == CONFLICT


def lost_race(exc: TransactWriteError) -> bool:
    """The transaction was cancelled only by conditions others made false (or a concurrent
    transaction on the same items), not by throttling, validation or any other error."""
    if getattr(exc, "cause_response_code", None) != "TransactionCanceledException":
        return False
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return all((getattr(r, "code", None) if r else None) in _RACE_REASONS for r in reasons)


def update(record: Any, decide: Callable[[Any], Update | None], *, busy: Callable[[], Exception],
           attempts: int = MAX_ATTEMPTS) -> Update | None:
    """Write what `decide(record)` says until it lands; None when `decide` found nothing to write.

    `decide` reads only `record` (fresh on every attempt) and may raise to refuse. `busy()` is the
    error raised when every attempt lost.
    """
    for _ in range(attempts):
        write = decide(record)
        if write is None:
            return None
        if update_once(record, write.actions, write.condition, write.timeline):
            return write
        record.refresh(consistent_read=True)
    raise busy()


def update_once(record: Any, actions: list, condition: Any, entries: list[dict] | None = None) -> bool:
    """One conditional write that a racing writer may already have made: True if this one landed,
    False if the condition was already false (nothing is retried: the other write stands).

    With timeline `entries` (a return's), the update and the entries are one transaction (store.timeline)."""
    try:
        if entries:
            timeline.write_with(record, actions, condition, entries)
        else:
            record.update(actions=actions, condition=condition)
        return True
    except UpdateError as exc:
        if not is_conflict(exc):
            raise
        return False
    except TransactWriteError as exc:
        if not lost_race(exc):
            raise
        return False


def transact(attempt: Callable[[], T], *, busy: Callable[[], Exception], attempts: int = MAX_ATTEMPTS) -> T:
    """Run `attempt` (it reads what it needs, then writes one TransactWrite) until it lands;
    run again only when the transaction lost a race."""
    for _ in range(attempts):
        try:
            return attempt()
        except TransactWriteError as exc:
            if not lost_race(exc):
                raise
    raise busy()
