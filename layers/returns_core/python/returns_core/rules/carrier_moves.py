"""What a carrier tracking event does to a return: late, repeated or out of order, never a move backwards."""
from __future__ import annotations

from . import statuses

EVENTS = ("dropped_off", "in_transit", "delivered", "lost")
# The status each event moves a return to, and from which statuses it may; the others only
# go in the timeline.
MOVES: dict[str, tuple[str, frozenset[str]]] = {
    "dropped_off": (statuses.IN_TRANSIT, frozenset({statuses.AWAITING_DROPOFF})),
    "in_transit": (statuses.IN_TRANSIT, frozenset({statuses.AWAITING_DROPOFF})),
    "lost": (statuses.LOST, frozenset({statuses.IN_TRANSIT})),
}


def event_key(event: str, occurred_at: str) -> str:
    """A carrier event is known by what happened when: a repeat has the same key."""
    return f"{event}@{occurred_at}"
