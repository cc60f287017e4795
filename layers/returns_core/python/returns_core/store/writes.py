"""Conditional writes that may lose a race, written once.

A record is read, a decision is made on what was read, and the write carries a condition
on it (PynamoDB's VersionAttribute adds one on the version read). When another writer got
there first the record is read again and the decision made again; any other error is the
caller's, never retried here.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

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


@dataclass(frozen=True)
class Backoff:
    """How long racing writers keep trying: until `within_seconds` have passed, waiting between
    attempts a random time up to `base_seconds` * 2^n, at most `cap_seconds` ("full jitter": writers
    that collided do not collide again in step). Used where giving up costs more than waiting."""
    within_seconds: float
    base_seconds: float = 0.005
    cap_seconds: float = 0.25

    def pause(self, lost: int) -> float:
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * (2 ** min(lost, 16))))


def transact(attempt: Callable[[], T], *, busy: Callable[[], Exception], attempts: int = MAX_ATTEMPTS,
             backoff: Backoff | None = None, on_lost: Callable[[], None] | None = None) -> T:
    """Run `attempt` (it reads what it needs, then writes one TransactWrite) until it lands;
    run again only when the transaction lost a race. Without `backoff`, at most `attempts` times at
    once; with it, for as long as its time budget allows, pausing between attempts. `on_lost` is told
    of every lost race (a metric)."""
    deadline = time.monotonic() + backoff.within_seconds if backoff else None
    lost = 0
    while True:
        try:
            return attempt()
        except TransactWriteError as exc:
            if not lost_race(exc):
                raise
        lost += 1
        if on_lost is not None:
            on_lost()
        if backoff is None:
            if lost >= attempts:
                raise busy()
            continue
        pause = backoff.pause(lost)
        if time.monotonic() + pause >= deadline:
            raise busy()
        time.sleep(pause)


def forget_key(record: Any, attribute: Any, key: str, extra: list | None = None) -> None:
    """Remove `key` from one of `record`'s map attributes, idempotently, as a versioned write on the record
    as read (then read again on a lost race). Never a blind write: a blind update of a versioned record
    sets its version to 1, and a reader still holding that old number could then write over newer data."""
    def decide(record: Any) -> Update | None:
        if key not in (getattr(record, attribute.attr_name) or {}):
            return None
        return Update([attribute[key].remove(), *(extra or [])])

    update(record, decide, busy=lambda: RuntimeError(f"could not remove {key} from {attribute.attr_name}"))
