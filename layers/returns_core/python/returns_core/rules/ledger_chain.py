"""The refund ledger's chain: each entry's SHA-256 covers its fields and the previous entry's
hash, so any edit or deletion is detectable."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "entry_id", "kind", "return_id", "order_id", "amount", "currency", "method",
                 "reference", "inspected_by", "approved_by", "issued_at")
# Fields added later: hashed when the entry has them, so entries written before still verify.
LATER_FIELDS = ("bonus",)
NUMBERS = ("seq", "amount", "bonus")


def canonical(fields: dict) -> bytes:
    hashed = {k: fields.get(k) for k in HASHED_FIELDS}
    hashed.update({k: fields[k] for k in LATER_FIELDS if fields.get(k) is not None})
    return json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(fields: dict, prev_hash: str) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(fields)).hexdigest()


def entry_fields(entry: Any) -> dict:
    """The hashed fields of a stored entry (numbers come back from the store as Decimals or floats)."""
    out = {k: getattr(entry, k, None) for k in HASHED_FIELDS + LATER_FIELDS}
    return {k: (int(v) if k in NUMBERS and v is not None else v) for k, v in out.items()}


def from_capture(entry: Any) -> int:
    """What an entry took from the order's capture: its amount less the store's own bonus."""
    return int(entry.amount) - int(getattr(entry, "bonus", None) or 0)


def verify(items: Iterable[Any], prev_hash: str | None) -> tuple[bool, int, int | None]:
    """Recompute the chain over consecutive entries; (ok, checked, first bad seq)."""
    checked = 0
    expected_seq = None
    for entry in items:
        seq = int(entry.seq)
        if expected_seq is not None and seq != expected_seq:
            return False, checked, expected_seq   # a deleted entry leaves a gap
        if prev_hash is not None and entry.prev_hash != prev_hash:
            return False, checked, seq
        if chain_hash(entry_fields(entry), entry.prev_hash) != entry.hash:
            return False, checked, seq
        checked += 1
        prev_hash, expected_seq = entry.hash, seq + 1
    return True, checked, None
