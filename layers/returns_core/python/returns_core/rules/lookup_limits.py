"""How many wrong order-number + email guesses the lookup tolerates, and from whom.

A lookup answers with a customer token, so guessing must be slow; but one address is often many
people (an office, a mobile carrier's NAT), so a guesser's failures must not lock out the real
customer who shares it. Failures are counted within one window (a window's counts are added to
the previous window's, so the limits hold across a window's edge), in these ways:

- per (order id, email) pair: the same wrong pair tried again and again stops early;
- per address, with a ceiling far above what a person mistyping reaches: it only slows a guesser
  walking order numbers, and everyone behind that address with them once it is reached;
- per order id and per email from anywhere: a target with many failures is "under attack", and
  there an address that has itself already failed on that target several times is stopped. A
  guesser spreading guesses over many addresses gets a few per address; a guesser walking other
  order numbers beside the real customer does not touch the customer's order or email at all.

A lookup that carries a proof that the caller is the order's customer (a token the customer signed
in to that order with: a portal session, opened from our email, or an earlier lookup) is not held
by the address or the under-attack limits: what those limits guard against, guessing, is what
the proof rules out. The pair limit still holds (it never stops the right pair: that one succeeds).
"""
from __future__ import annotations

from dataclasses import dataclass

WINDOW_SECONDS = 15 * 60
# The same order id and email tried wrong this often: that pair waits.
PAIR_FAILURES = 5
# One address's failed lookups in a window before everyone there without a proof must wait: an office
# or a carrier's NAT is many customers, each mistyping a few times.
ADDRESS_FAILURES = 100
# Failures on one order id or one email (from any address) that mark it as under attack.
TARGET_FAILURES = 10
# Under attack, an address with fewer failures than this on that target may still try (typos).
CLEAN_ADDRESS_FAILURES = 3


@dataclass(frozen=True)
class Failures:
    """The counts one lookup is judged by: its pair's, its address's, its order id's and email's from
    anywhere, and its address's on that order id and on that email."""
    pair: int = 0
    address: int = 0
    order: int = 0
    email: int = 0
    address_on_order: int = 0
    address_on_email: int = 0


def allowed(seen: Failures, proven: bool = False) -> bool:
    if seen.pair >= PAIR_FAILURES:
        return False
    if proven:
        return True
    if seen.address >= ADDRESS_FAILURES:
        return False
    if seen.order >= TARGET_FAILURES and seen.address_on_order >= CLEAN_ADDRESS_FAILURES:
        return False
    return not (seen.email >= TARGET_FAILURES and seen.address_on_email >= CLEAN_ADDRESS_FAILURES)


def window(now: int) -> int:
    return now // WINDOW_SECONDS


def retry_after(now: int) -> int:
    """Seconds until the current window ends (then the previous window's failures stop counting)."""
    return WINDOW_SECONDS - now % WINDOW_SECONDS
