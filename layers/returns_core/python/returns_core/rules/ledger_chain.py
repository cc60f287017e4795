"""The refund ledger's chain: how an entry is sealed, and how a run of entries and the chain's
anchored head are checked. Pure: the store hands in what it read, the caller the key.

Scheme 2 (every entry written now, `hash_scheme: 2`): HMAC-SHA256 under a key only the Settle
function can read, over every attribute the entry stores except the seal itself — its key,
`issued_day`, `prev_hash`, `bonus`, `hash_scheme` and any attribute the model gains later, since
the input is the item as stored, not a list of names. Without the key nobody can edit a field
and recompute the chain.

Scheme 1 (entries written before, no `hash_scheme`): SHA-256 over a fixed list of fields and the
previous hash. It still verifies those entries, and only those: an entry at or after the first
anchored sequence number must be keyed, so a keyed entry cannot be rewritten as a scheme 1 one.

The head: every keyed append also records (seq, hash) in an anchor table that nobody may update
or delete (template.yaml), in the same transaction. The ledger's last entry must be the last
anchor, so dropping the tail, or adding past it, is seen.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

GENESIS = "0" * 64
SCHEME_LEGACY = 1
SCHEME_KEYED = 2
SEAL = "hash"            # the one stored attribute the seal does not cover: it is the seal
_KEYED_DOMAIN = b"returns/refund-ledger/entry/v2\n"   # an entry's MAC is never valid as another message's

# Scheme 1's fields (frozen: they are what the entries of that scheme were hashed over).
LEGACY_FIELDS = ("seq", "entry_id", "kind", "return_id", "order_id", "amount", "currency", "method",
                 "reference", "inspected_by", "approved_by", "issued_at")
LEGACY_LATER_FIELDS = ("bonus",)   # hashed by scheme 1 only when present
_LEGACY_NUMBERS = ("seq", "amount", "bonus")

# Why an entry failed (the `reason` of a verdict).
MISSING_ENTRY = "missing_entry"          # a sequence number with no entry: deleted (the tail included)
BROKEN_LINK = "broken_link"              # prev_hash is not the previous entry's hash
BAD_SEAL = "hash_mismatch"               # a field (or the seal) was edited
UNKEYED_ENTRY = "unkeyed_entry"          # a scheme 1 entry where only keyed ones may be
UNKNOWN_SCHEME = "unknown_scheme"
ANCHOR_MISMATCH = "anchor_mismatch"      # the entry is not the one the anchor recorded
UNANCHORED_ENTRY = "unanchored_entry"    # an entry past the anchored head: not written by an append
REASONS = (MISSING_ENTRY, BROKEN_LINK, BAD_SEAL, UNKEYED_ENTRY, UNKNOWN_SCHEME, ANCHOR_MISMATCH, UNANCHORED_ENTRY)


@dataclass(frozen=True)
class Link:
    """One stored entry as the chain sees it: `stored` is the item in DynamoDB's typed form
    ({"amount": {"N": "600"}, ...}), the seal included."""
    seq: int
    prev_hash: str
    hash: str
    scheme: int
    stored: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


def canonical(stored: Mapping[str, Mapping[str, Any]]) -> bytes:
    """Every stored attribute but the seal, typed as stored, in one byte string."""
    body = {name: value for name, value in stored.items() if name != SEAL}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def keyed_hash(stored: Mapping[str, Mapping[str, Any]], key: bytes) -> str:
    """Scheme 2's seal."""
    if not key:
        raise ValueError("the ledger key is empty")
    return hmac.new(key, _KEYED_DOMAIN + canonical(stored), hashlib.sha256).hexdigest()


def legacy_fields(stored: Mapping[str, Mapping[str, Any]]) -> dict:
    """Scheme 1's hashed fields, from the stored item (numbers as int, absent as None)."""
    def plain(name: str) -> Any:
        value = stored.get(name)
        if not value:
            return None
        if "N" in value:
            return int(value["N"]) if name in _LEGACY_NUMBERS else value["N"]
        return value.get("S")

    return {name: plain(name) for name in LEGACY_FIELDS + LEGACY_LATER_FIELDS}


def legacy_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """Scheme 1's seal: unkeyed, so anyone can recompute it; kept to verify old entries only."""
    hashed = {k: fields.get(k) for k in LEGACY_FIELDS}
    hashed.update({k: fields[k] for k in LEGACY_LATER_FIELDS if fields.get(k) is not None})
    body = json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


def expected_seal(link: Link, key: bytes) -> str | None:
    if link.scheme == SCHEME_KEYED:
        return keyed_hash(link.stored, key)
    if link.scheme == SCHEME_LEGACY:
        return legacy_hash(legacy_fields(link.stored), link.prev_hash)
    return None


def check_entry(link: Link, key: bytes, keyed_from: int | None, anchors: Mapping[int, str] | None) -> str | None:
    """What is wrong with this entry on its own (None: nothing): its scheme, its seal, its anchor.
    `anchors`: the anchors recorded over the entries' span (None: not compared); every keyed
    entry has one, written in its own transaction."""
    if link.scheme not in (SCHEME_LEGACY, SCHEME_KEYED):
        return UNKNOWN_SCHEME
    if link.scheme != SCHEME_KEYED and keyed_from is not None and link.seq >= keyed_from:
        return UNKEYED_ENTRY
    # As bytes: a stored hash edited to non-ASCII text is a mismatch, not a TypeError.
    if not hmac.compare_digest((expected_seal(link, key) or "").encode(), (link.hash or "").encode()):
        return BAD_SEAL
    if anchors is not None:
        anchored = anchors.get(link.seq)
        if anchored is None and link.scheme == SCHEME_KEYED:
            return UNANCHORED_ENTRY
        if anchored is not None and anchored != link.hash:
            return ANCHOR_MISMATCH
    return None


def verify(links: Iterable[Link], key: bytes, *, prev_hash: str | None, first_seq: int | None = None,
           keyed_from: int | None = None, anchors: Mapping[int, str] | None = None) -> Verdict:
    """Check consecutive entries: each present (no gap from `first_seq`), linked to the one before
    (`prev_hash`: the hash the first must link to; None when unknown), sealed, and matching its anchor.
    `keyed_from`: the first anchored sequence number (None: nothing anchored yet)."""
    checked, expected = 0, first_seq
    for link in links:
        if expected is not None and link.seq != expected:
            return Verdict(False, checked, expected, MISSING_ENTRY)
        if prev_hash is not None and link.prev_hash != prev_hash:
            return Verdict(False, checked, link.seq, BROKEN_LINK)
        wrong = check_entry(link, key, keyed_from, anchors)
        if wrong:
            return Verdict(False, checked, link.seq, wrong)
        checked += 1
        prev_hash, expected = link.hash, link.seq + 1
    return Verdict(True, checked)


def check_head(last: Link | None, head: Anchor | None) -> Verdict | None:
    """The ledger's last entry against the anchored head (None: they agree).

    Legitimate appends write the entry and its anchor in one transaction, so the two only
    disagree when someone removed entries at the tail or wrote one past the head."""
    if head is None:
        if last is not None and last.scheme == SCHEME_KEYED:
            return Verdict(False, 0, last.seq, UNANCHORED_ENTRY)
        return None   # nothing keyed yet: a ledger of scheme 1 entries only
    last_seq = last.seq if last is not None else 0
    if last_seq < head.seq:
        return Verdict(False, 0, last_seq + 1, MISSING_ENTRY)
    if last_seq > head.seq:
        return Verdict(False, 0, head.seq + 1, UNANCHORED_ENTRY)
    if last is not None and last.hash != head.hash:
        return Verdict(False, 0, last.seq, ANCHOR_MISMATCH)
    return None


def from_capture(entry: Any) -> int:
    """What an entry took from the order's capture: its amount less the store's own bonus."""
    return int(entry.amount) - int(getattr(entry, "bonus", None) or 0)
