"""How many wrong order-number + email guesses the lookup tolerates, and from whom.

A lookup answers with a customer token, so guessing must be slow. The limits count failures
three ways within one window: per client (its source address), per order id and per email.
(A window's counts are added to the previous window's, so the limits hold across a window's edge.)
A client that guesses too much is stopped, on every order and email, and only that client.
An order id or email under attack (many failures from anywhere) is not locked: a client with
a clean record may still try it, so a stranger's guesses never lock the real customer out;
only clients that have already guessed wrong are stopped there. An attacker spreading the
guesses over many addresses thus gets a few tries per address, not a thousand per client.
"""
from __future__ import annotations

from dataclasses import dataclass

WINDOW_SECONDS = 15 * 60
# One client's failed lookups in a window before it must wait (a person mistyping gets many tries).
CLIENT_FAILURES = 20
# Failures on one order id or one email (from any client) that mark it as under attack.
TARGET_FAILURES = 10
# Under attack, a client with fewer failures than this may still try (the real customer's typos).
CLEAN_CLIENT_FAILURES = 3


@dataclass(frozen=True)
class Failures:
    client: int
    order: int
    email: int


def allowed(seen: Failures) -> bool:
    if seen.client >= CLIENT_FAILURES:
        return False
    under_attack = seen.order >= TARGET_FAILURES or seen.email >= TARGET_FAILURES
    return not under_attack or seen.client < CLEAN_CLIENT_FAILURES


def window(now: int) -> int:
    return now // WINDOW_SECONDS


def retry_after(now: int) -> int:
    """Seconds until the current window ends (then the previous window's failures stop counting)."""
    return WINDOW_SECONDS - now % WINDOW_SECONDS
