"""The ledger key and the ledger check, both in the Settle function: the key seals every entry
it appends and verifies them, and no other function's role can read it (template.yaml)."""
from __future__ import annotations

from ..outbound import secret_store
from ..store import ledger


def ledger_key() -> bytes:
    """The HMAC key of the ledger's entries (Secrets Manager, cached for the process)."""
    return secret_store.get("LEDGER_KEY_SECRET").encode()


def verify(days: list[str] | None) -> dict:
    """`/finance/ledger/verify`'s answer: the entries of these days (all when None) and the tail."""
    return ledger.verify_range(ledger_key(), days)
