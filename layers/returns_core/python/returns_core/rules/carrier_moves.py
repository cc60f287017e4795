"""What a carrier tracking event does to a return: late, repeated or out of order, never a move backwards."""
from __future__ import annotations

from datetime import UTC

from . import clock, statuses

EVENTS = ("dropped_off", "in_transit", "delivered", "lost")
# A parcel's journey is a handful of scans (dropped off, a few hubs, delivered); 200 is far beyond any
# real one. Past it a carrier is looping or replaying: the events that would only add to the timeline are
# refused (429, not stored), so what a return keeps of its carrier events stays bounded. An event that
# moves the return is still applied: there are at most two (MOVES leave two statuses, never back).
MAX_EVENTS_PER_RETURN = 200
# The status each event moves a return to, and from which statuses it may; the others only
# go in the timeline.
MOVES: dict[str, tuple[str, frozenset[str]]] = {
    "dropped_off": (statuses.IN_TRANSIT, frozenset({statuses.AWAITING_DROPOFF})),
    "in_transit": (statuses.IN_TRANSIT, frozenset({statuses.AWAITING_DROPOFF})),
    "lost": (statuses.LOST, frozenset({statuses.IN_TRANSIT})),
}


def instant(occurred_at: str) -> str:
    """The moment a carrier names, as one text whatever its spelling: UTC, `Z`, milliseconds (microseconds
    when it has them). `...10:00:00Z`, `...10:00:00+00:00`, `...10:00:00.000Z` and `...11:00:00+01:00`
    are one instant. ValueError when it is not a timestamp, or not an instant that exists in UTC."""
    moment = clock.parse(occurred_at.strip())
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:   # 0001-01-01T00:00+01:00, 9999-12-31T23:30-01:00
        raise ValueError("is outside the dates a timestamp can have") from None
    spec = "milliseconds" if utc.microsecond % 1000 == 0 else "microseconds"
    return utc.isoformat(timespec=spec).replace("+00:00", "Z")


def event_key(event: str, occurred_at: str) -> str:
    """A carrier event is known by what happened at which instant: a repeat has the same key, however the
    carrier spelled the time. ValueError for a time that is not an instant (see `instant`)."""
    return f"{event}@{instant(occurred_at)}"


def _as_instant_key(key: str) -> str:
    """A stored key in today's form; keys stored before were `event@<the string as sent>`."""
    event, _, occurred_at = key.partition("@")
    try:
        return event_key(event, occurred_at)
    except ValueError:
        return key


def over_limit(stored: list[str] | None) -> bool:
    """Whether a return already holds as many carrier events as it may (MAX_EVENTS_PER_RETURN)."""
    return len(stored or []) >= MAX_EVENTS_PER_RETURN


def seen(key: str, stored: list[str] | None) -> bool:
    """Whether the event keyed `key` (from `event_key`) is among a return's stored keys."""
    stored = stored or []
    return key in stored or any(_as_instant_key(k) == key for k in stored)
