"""Identifiers: opaque, unguessable return ids and short scannable label codes; the store's order ids,
checked by one rule wherever one comes in."""
from __future__ import annotations

import contextlib
import contextvars
import hashlib
import re
import secrets
from collections.abc import Iterator

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _b32(data: bytes, length: int) -> str:
    n = int.from_bytes(data, "big")
    out = []
    for _ in range(length):
        n, r = divmod(n, 32)
        out.append(_CROCKFORD[r])
    return "".join(out)


# The request being served under an Idempotency-Key (functions/api/chalicelib/idempotency.py): the ids it
# makes are derived from its key instead of drawn at random, so the same request run again after a crash
# (its first run made the return, then died before answering) finds what the first run made instead of
# making a second one. Still unguessable: the seed is a hash of the caller, the route and their key.
_seed: contextvars.ContextVar[str | None] = contextvars.ContextVar("id_seed", default=None)


@contextlib.contextmanager
def seeded(seed: str) -> Iterator[None]:
    token = _seed.set(seed)
    try:
        yield
    finally:
        _seed.reset(token)


def is_seeded() -> bool:
    return _seed.get() is not None


def _random_or_seeded(kind: bytes, size: int, attempt: int = 0) -> bytes:
    seed = _seed.get()
    if seed is None:
        return secrets.token_bytes(size)
    return hashlib.sha256(kind + b"\n" + seed.encode() + b"\n" + str(attempt).encode()).digest()[:size]


def new_return_id(attempt: int = 0) -> str:
    """`attempt`: under a seed, the n-th id of the same request (its earlier attempt's return was
    withdrawn, e.g. the workflow could not start, and the client was told to send it again)."""
    return "ret_" + _b32(_random_or_seeded(b"return", 16, attempt), 20).lower()


def return_code(return_id: str) -> str:
    """8 Crockford characters derived from the id: a scanner types it, staff can read it aloud."""
    return "RT-" + _b32(hashlib.sha256(return_id.encode()).digest(), 8)


def customer_key(email: str) -> str:
    """Keys and indexes hold this hash, never the address itself."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def new_claim_id() -> str:
    """A claim's id: as unguessable as a return's, and never equal to one (its timeline shares the table)."""
    return "clm_" + _b32(_random_or_seeded(b"claim", 16), 20).lower()


def new_message_id() -> str:
    return "msg_" + _b32(secrets.token_bytes(10), 16).lower()


def new_photo_id() -> str:
    return "pho_" + _b32(secrets.token_bytes(10), 16).lower()


# A store's order id, as every route takes it (PUT /orders/{order_id}, lookups, returns, claims,
# withdrawals, searches): letters, digits and `. _ : # -`, starting with a letter, a digit or `#`
# (a Shopify order's name, "#1001"). An id ends up in URLs, S3 keys, logs and CSV cells: no `/`,
# no `..`, no whitespace, control character or NUL, no leading `=`, `+`, `-`, `@`.
ORDER_ID_MAX = 64
ORDER_ID_PATTERN = rf"^[A-Za-z0-9#][A-Za-z0-9._:#-]{{0,{ORDER_ID_MAX - 1}}}$"
ORDER_ID_RULE = f"must be 1-{ORDER_ID_MAX} letters, digits or . _ : # -, starting with a letter, a digit or #"
_ORDER_ID = re.compile(ORDER_ID_PATTERN)


def is_order_id(value: object) -> bool:
    # fullmatch: `$` alone would also match before a final newline.
    return isinstance(value, str) and _ORDER_ID.fullmatch(value) is not None
