"""A conversation with the customer: what a message may hold, who said it, and when an answer is due.

A return or a claim owns one conversation. Its messages are plain text whatever their origin (the
portal, an agent, an email): nothing here or downstream renders a message as markup, so HTML a
customer types is shown as the characters they typed.

The first answer is due a number of service hours after the customer's message that opened the wait
(`first_response_due`); the store's service hours are a setting (config.service_hours), e.g.
``mon-fri 09:00-18:00 Europe/Paris``: outside them the clock stops.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .errors import UnprocessableError

# 20 kB of text, counted in UTF-8 bytes as the issue states it ("empty or 20 kB bodies: 422").
MAX_BODY_BYTES = 20_000
# The most messages a conversation keeps: a Query reads at most this many (bounded reads), and one more
# is refused. A long email thread is still far below it.
MAX_MESSAGES = 500
MAX_NOTE_CHARS = 2000

CUSTOMER, AGENT, NOTE = "customer", "agent", "note"   # who a message is from; a note is staff-only
FROMS = (CUSTOMER, AGENT, NOTE)
CHANNELS = ("portal", "email", "ops")


def checked_body(body: str | None, field: str = "body") -> str:
    """The message's text, trimmed; empty or over MAX_BODY_BYTES is a 422 naming `field`."""
    text = (body or "").strip()
    if not text:
        raise UnprocessableError("the message is empty", field=field)
    if len(text.encode("utf-8")) > MAX_BODY_BYTES:
        raise UnprocessableError(f"the message may be at most {MAX_BODY_BYTES} bytes", field=field)
    return text


def visible_to_customer(message: dict[str, object]) -> bool:
    return message.get("from") != NOTE


# ---------------------------------------------------------------- service hours

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(?P<d1>[A-Za-z]{3})(?:-(?P<d2>[A-Za-z]{3}))?\s+(?P<h1>\d{1,2}):(?P<m1>\d{2})-"
                    r"(?P<h2>\d{1,2}):(?P<m2>\d{2})\s+(?P<zone>[A-Za-z_/+-]+)\s*$")


@dataclass(frozen=True)
class ServiceHours:
    """When customer service answers: the week days (0 Monday), the opening and closing time, the zone."""
    days: frozenset[int]
    opens: time
    closes: time
    zone: str

    @classmethod
    def parse(cls, text: str) -> ServiceHours:
        """``mon-fri 09:00-18:00 Europe/Paris`` (a single day, ``sat 10:00-12:00 UTC``, also works)."""
        found = _HOURS.match(text)
        d1, d2 = (found["d1"].lower(), (found["d2"] or found["d1"]).lower()) if found else ("", "")
        if not found or d1 not in _DAYS or d2 not in _DAYS:
            raise ValueError(f"service hours must read like 'mon-fri 09:00-18:00 Europe/Paris', not {text!r}")
        first, last = _DAYS.index(d1), _DAYS.index(d2)
        days = frozenset(range(first, last + 1)) if first <= last else frozenset([*range(first, 7), *range(last + 1)])
        opens, closes = time(int(found["h1"]), int(found["m1"])), time(int(found["h2"]), int(found["m2"]))
        if closes <= opens:
            raise ValueError("service hours close after they open")
        ZoneInfo(found["zone"])   # an unknown zone fails here, at the setting, not at the first message
        return cls(days, opens, closes, found["zone"])

    def add(self, start: datetime, hours: float) -> datetime:
        """`start` plus `hours` of service time: the clock runs only while customer service is open."""
        zone = ZoneInfo(self.zone)
        moment = start.astimezone(zone)
        left = timedelta(hours=hours)
        for _ in range(366 * 2):   # a year of days at most; a setting always has one open day
            day = moment.date()
            opening = datetime.combine(day, self.opens, zone)
            closing = datetime.combine(day, self.closes, zone)
            if day.weekday() in self.days and moment < closing:
                begin = max(moment, opening)
                if begin + left <= closing:
                    return begin + left
                left -= closing - begin
            moment = datetime.combine(day + timedelta(days=1), time(0), zone)
        raise ValueError("service hours with no open day")


def first_response_due(asked_at: datetime, hours: ServiceHours, sla_hours: float) -> datetime:
    return hours.add(asked_at, sla_hours)


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
