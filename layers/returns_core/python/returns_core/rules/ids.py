"""Identifiers: opaque, unguessable return ids and short scannable label codes."""
from __future__ import annotations

import hashlib
import secrets

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _b32(data: bytes, length: int) -> str:
    n = int.from_bytes(data, "big")
    out = []
    for _ in range(length):
        n, r = divmod(n, 32)
        out.append(_CROCKFORD[r])
    return "".join(out)


def new_return_id() -> str:
    return "ret_" + _b32(secrets.token_bytes(16), 20).lower()


def return_code(return_id: str) -> str:
    """8 Crockford characters derived from the id: a scanner types it, staff can read it aloud."""
    return "RT-" + _b32(hashlib.sha256(return_id.encode()).digest(), 8)


def customer_key(email: str) -> str:
    """Keys and indexes hold this hash, never the address itself."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def new_claim_id() -> str:
    """A claim's id: as unguessable as a return's, and never equal to one (its timeline shares the table)."""
    return "clm_" + _b32(secrets.token_bytes(16), 20).lower()


def new_photo_id() -> str:
    return "pho_" + _b32(secrets.token_bytes(10), 16).lower()
