"""The refund ledger's chain: how an entry is sealed, and how a run of entries and the chain's
anchored head are checked. Pure: the store hands in what it read, the caller the key.

Scheme 2 (every entry written now, `hash_scheme: 2`): HMAC-SHA256 under a key only the Settle
function can read, over every attribute the entry stores except the seal itself — its key,
`issued_day`, `prev_hash`, `bonus`, `hash_scheme` and any attribute the model gains later, since
the input is the item as stored, not a list of names. Without the key nobody can edit a field
and recompute the chain.

Scheme 1 (entries written before, no `hash_scheme`): SHA-256 over a fixed list of fields and the
previous hash. It still verifies those entries, and only those: only up to a configured sequence
number (`LEDGER_LEGACY_LAST_SEQ`, 0 on a deployment that never had them), never inferred from the
table, since a tamperer who drops every anchor and re-chains the entries unkeyed controls the table.

The head: every keyed append also records (seq, hash) in an anchor table that nobody may update
or delete (template.yaml), in the same transaction. The ledger's last entry must be the last
anchor, so dropping the tail, or adding past it, is seen. Anyone with write access to both tables
can still drop the tail with its anchors (or wipe both): so the same transaction also overwrites
one keyed checkpoint of the head (HMAC of seq and hash, kept beside the orders, not in either
ledger table). Without the key nobody can write a checkpoint for a shorter head, so a ledger that
ends before its checkpoint is missing its tail.

Entries are checked as stored items, typed as DynamoDB holds them (`parse`), so an attribute of a
wrong type is named (`malformed_entry`) instead of failing the check, and one nobody declared is
covered by the seal.

Several chains: the entries are spread over chains by issue day and a shard of the order
(`refunds/<day>/s<n>`, store/ledger.py), each with its own sequence numbers, anchors and keyed
checkpoint, so appends race only within their chain. The first chain, `refunds`, holds the entries
written before (it is closed: nothing appends to it any more) and keeps its checkpoint's MAC without
a chain name; every other checkpoint's MAC names its chain, so one chain's checkpoint is never valid
as another's. A chain removed whole (entries, anchors and checkpoint) is caught by the periodic
anchor over every chain's head (`heads_mac`): a keyed, append-only record of (chain, seq, hash).

Beside the chain, the money: an order's `refunded_total` must be the sum of what its entries took
from the capture, and every return's and claim's record of a movement must name its own entry
(`check_orders`), so an entry deleted with everything that pointed at it still shows in the order.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

GENESIS = "0" * 64
SCHEME_LEGACY = 1
SCHEME_KEYED = 2
SEAL = "hash"            # the one stored attribute the seal does not cover: it is the seal
_KEYED_DOMAIN = b"returns/refund-ledger/entry/v2\n"   # an entry's MAC is never valid as another message's
_CHECKPOINT_DOMAIN = b"returns/refund-ledger/head/v1\n"  # nor an entry's as a checkpoint's, and back
_CHAIN_CHECKPOINT_DOMAIN = b"returns/refund-ledger/chain-head/v1\n"  # a day/shard chain's head: names the chain
_HEADS_DOMAIN = b"returns/refund-ledger/heads/v1\n"     # the periodic anchor over every chain's head
_VERIFIED_DOMAIN = b"returns/refund-ledger/verified/v1\n"  # the verification job's own checkpoints
LEGACY_CHAIN = "refunds"   # the first chain: every entry before the day/shard chains

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
MALFORMED_ENTRY = "malformed_entry"      # an attribute missing or of the wrong type (an amount stored as text)
UNKNOWN_ATTRIBUTE = "unknown_attribute"  # the seal fails and the entry holds an attribute no append writes
MISSING_TAIL = "missing_tail"            # the keyed checkpoint names a later head: the tail and its anchors
                                         # were removed, or both tables wiped
MISSING_CHECKPOINT = "missing_checkpoint"  # keyed entries or anchors, and no checkpoint of their head
BAD_CHECKPOINT = "bad_checkpoint"        # the checkpoint's MAC fails: written without the key
STALE_CHECKPOINT = "stale_checkpoint"    # the checkpoint is behind the anchored head: an old one put back
ORDER_TOTAL_MISMATCH = "order_total_mismatch"  # an order's refunded_total is not the sum of its entries
RECORD_MISMATCH = "record_mismatch"      # a return's or claim's record names an entry that is missing or not its own
UNRECORDED_ENTRY = "unrecorded_entry"    # an entry its return's or claim's record does not name
MALFORMED_RECORD = "malformed_record"    # an order's total or a record's ledger_seq/amount is not a number
MISSING_CHAIN = "missing_chain"          # a chain the heads anchor recorded is gone (or shorter than recorded)
BAD_HEADS = "bad_heads"                  # a heads anchor record whose MAC fails or that does not follow the last
BAD_VERIFICATION = "bad_verification_checkpoint"  # the verification job's checkpoint fails its MAC
REASONS = (MISSING_ENTRY, BROKEN_LINK, BAD_SEAL, UNKEYED_ENTRY, UNKNOWN_SCHEME, ANCHOR_MISMATCH, UNANCHORED_ENTRY,
           MALFORMED_ENTRY, UNKNOWN_ATTRIBUTE, MISSING_TAIL, MISSING_CHECKPOINT, BAD_CHECKPOINT, STALE_CHECKPOINT,
           ORDER_TOTAL_MISMATCH, RECORD_MISMATCH, UNRECORDED_ENTRY, MALFORMED_RECORD, MISSING_CHAIN, BAD_HEADS,
           BAD_VERIFICATION)


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
class BadItem:
    """A stored entry that is not an entry's shape (`parse`): named, never a failed check.
    `seq`: its sequence number when that is a whole number, else None (placed by its neighbours)."""
    seq: int | None
    attribute: str


Item = Link | BadItem


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str


@dataclass(frozen=True)
class Checkpoint:
    """The head as the last append left it, with its MAC under the ledger key."""
    seq: int
    hash: str
    mac: str


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    order_id: str | None = None     # the order whose total or records disagree with the ledger
    record: str | None = None       # "return <id> refund", "claim <id> resolution": the record that disagrees
    chain: str | None = None        # the chain of first_bad_seq (or of the finding), when one is named


def _binary(value: Any) -> str:
    # A binary attribute (no append writes one) read back as bytes: encoded, so it is sealed like the rest.
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"{type(value).__name__} is not a stored attribute value")


def canonical(stored: Mapping[str, Mapping[str, Any]]) -> bytes:
    """Every stored attribute but the seal, typed as stored, in one byte string."""
    body = {name: value for name, value in stored.items() if name != SEAL}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_binary).encode()


def keyed_hash(stored: Mapping[str, Mapping[str, Any]], key: bytes) -> str:
    """Scheme 2's seal."""
    if not key:
        raise ValueError("the ledger key is empty")
    return hmac.new(key, _KEYED_DOMAIN + canonical(stored), hashlib.sha256).hexdigest()


def legacy_fields(stored: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Scheme 1's hashed fields, from the stored item (numbers as int, absent as None)."""
    def stored_value(name: str) -> Any:
        value = stored.get(name)
        if not value:
            return None
        if "N" in value:
            return int(value["N"]) if name in _LEGACY_NUMBERS else value["N"]
        return value.get("S")

    return {name: stored_value(name) for name in LEGACY_FIELDS + LEGACY_LATER_FIELDS}


def legacy_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """Scheme 1's seal: unkeyed, so anyone can recompute it; kept to verify old entries only."""
    hashed = {k: fields.get(k) for k in LEGACY_FIELDS}
    hashed.update({k: fields[k] for k in LEGACY_LATER_FIELDS if fields.get(k) is not None})
    body = json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


_WHOLE = re.compile(r"-?[0-9]+")


def parse(item: Mapping[str, Any], shape: Mapping[str, tuple[str, bool]]) -> Item:
    """A stored item as the chain's Link, or a BadItem naming the first attribute that is not of its
    declared type. `shape`: name -> (DynamoDB type, may be absent), from the model. Every number an
    entry holds is a whole number (minor units, sequence numbers, the scheme). Attributes the shape does
    not name are left to the seal, which covers them."""
    raw_seq = item.get("seq")
    seq_text = raw_seq.get("N") if isinstance(raw_seq, Mapping) else None
    seq = int(seq_text) if isinstance(seq_text, str) and _WHOLE.fullmatch(seq_text) else None
    for name in sorted(shape):
        attr_type, optional = shape[name]
        value = item.get(name)
        if value is None:
            if optional:
                continue
            return BadItem(seq, name)
        if not isinstance(value, Mapping) or list(value) != [attr_type] or not isinstance(value[attr_type], str):
            return BadItem(seq, name)
        if attr_type == "N" and not _WHOLE.fullmatch(value["N"]):
            return BadItem(seq, name)
    scheme = item.get("hash_scheme")
    # The shape names `seq` (the table's range key), so it was checked above as a whole number.
    return Link(cast(int, seq), item["prev_hash"]["S"], item[SEAL]["S"],
                int(scheme["N"]) if scheme is not None else SCHEME_LEGACY, item)


def _number(link: Link, name: str) -> int:
    value = link.stored.get(name)
    return int(value["N"]) if value else 0


def _text(link: Link, name: str) -> str | None:
    value = link.stored.get(name)
    return value["S"] if value else None


def checkpoint_mac(seq: int, head_hash: str, key: bytes, chain: str | None = None) -> str:
    """The checkpoint's MAC: only the key's holder can say where a chain ends. `chain`: None for the
    first chain (its checkpoints were written before chains had names), else the chain's id."""
    if not key:
        raise ValueError("the ledger key is empty")
    if chain is None or chain == LEGACY_CHAIN:
        message = _CHECKPOINT_DOMAIN + f"{int(seq)}:{head_hash}".encode()
    else:
        message = _CHAIN_CHECKPOINT_DOMAIN + f"{chain}\n{int(seq)}:{head_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def checkpoint(seq: int, head_hash: str, key: bytes, chain: str | None = None) -> Checkpoint:
    return Checkpoint(int(seq), head_hash, checkpoint_mac(seq, head_hash, key, chain))


def _mac_of(domain: bytes, body: Any, key: bytes) -> str:
    if not key:
        raise ValueError("the ledger key is empty")
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(key, domain + text, hashlib.sha256).hexdigest()


def heads_mac(seq: int, at: str, heads: Mapping[str, tuple[int, str]], prev_mac: str, key: bytes) -> str:
    """The MAC of one periodic anchor over every chain's head: its place in the run of such records
    (`seq`, and `prev_mac`, the MAC of the record before), when it was taken, and (chain -> (seq, hash))."""
    return _mac_of(_HEADS_DOMAIN, {"seq": int(seq), "at": at, "prev": prev_mac,
                                   "heads": {c: [int(s), h] for c, (s, h) in heads.items()}}, key)


def verified_mac(state: Mapping[str, Any], key: bytes) -> str:
    """The MAC of the verification job's checkpoints: what it has verified, per chain (seq, hash),
    what the heads anchors told it to expect, and where it goes on from."""
    return _mac_of(_VERIFIED_DOMAIN, state, key)


def check_heads(recorded: Mapping[str, tuple[int, str]], anchored: Mapping[str, Anchor | None]) -> Verdict | None:
    """Every chain's head as a heads anchor recorded it against the chain as it is now (None: they agree).
    A chain goes on growing after the record: its anchor at the recorded seq must still hold the
    recorded hash; a chain gone, or shorter than recorded, is `missing_chain`."""
    for chain in sorted(recorded):
        seq, head_hash = recorded[chain]
        now = anchored.get(chain)
        if now is None or now.seq < seq:
            return Verdict(False, 0, (now.seq if now else 0) + 1, MISSING_CHAIN, chain=chain)
        if now.seq == seq and now.hash != head_hash:
            return Verdict(False, 0, seq, ANCHOR_MISMATCH, chain=chain)
    return None


def expected_seal(link: Link, key: bytes) -> str | None:
    if link.scheme == SCHEME_KEYED:
        return keyed_hash(link.stored, key)
    if link.scheme == SCHEME_LEGACY:
        return legacy_hash(legacy_fields(link.stored), link.prev_hash)
    return None


def check_entry(link: Link, key: bytes, keyed_from: int | None, anchors: Mapping[int, str] | None,
                known: Iterable[str] | None = None) -> str | None:
    """What is wrong with this entry on its own (None: nothing): its scheme, its seal, its anchor.
    `keyed_from`: the first sequence number where only keyed entries may be (None: anywhere).
    `anchors`: the anchors recorded over the entries' span (None: not compared); every keyed
    entry has one, written in its own transaction. `known`: the attributes an append writes, to
    name an added one (None: not named)."""
    if link.scheme not in (SCHEME_LEGACY, SCHEME_KEYED):
        return UNKNOWN_SCHEME
    if link.scheme != SCHEME_KEYED and keyed_from is not None and link.seq >= keyed_from:
        return UNKEYED_ENTRY
    added = known is not None and bool(set(link.stored) - set(known))
    # As bytes: a stored hash edited to non-ASCII text is a mismatch, not a TypeError.
    if not hmac.compare_digest((expected_seal(link, key) or "").encode(), (link.hash or "").encode()):
        return UNKNOWN_ATTRIBUTE if added else BAD_SEAL
    if added and link.scheme == SCHEME_LEGACY:
        return UNKNOWN_ATTRIBUTE    # scheme 1's fixed fields do not cover it
    if anchors is not None:
        anchored = anchors.get(link.seq)
        if anchored is None and link.scheme == SCHEME_KEYED:
            return UNANCHORED_ENTRY
        if anchored is not None and anchored != link.hash:
            return ANCHOR_MISMATCH
    return None


def verify(links: Iterable[Item], key: bytes, *, prev_hash: str | None, first_seq: int | None = None,
           keyed_from: int | None = None, anchors: Mapping[int, str] | None = None,
           known: Iterable[str] | None = None) -> Verdict:
    """Check consecutive entries: each of an entry's shape, present (no gap from `first_seq`), linked
    to the one before (`prev_hash`: the hash the first must link to; None when unknown), sealed, and
    matching its anchor. `keyed_from`: where scheme 1 entries stop being accepted (None: anywhere)."""
    checked, expected = 0, first_seq
    known = frozenset(known) if known is not None else None
    for link in links:
        if isinstance(link, BadItem):
            # Its own sequence number when it has a whole one, else the place it holds in the chain.
            at = link.seq if link.seq is not None and (expected is None or link.seq <= expected) else expected
            return Verdict(False, checked, at, MALFORMED_ENTRY)
        if expected is not None and link.seq != expected:
            return Verdict(False, checked, expected, MISSING_ENTRY)
        if prev_hash is not None and link.prev_hash != prev_hash:
            return Verdict(False, checked, link.seq, BROKEN_LINK)
        wrong = check_entry(link, key, keyed_from, anchors, known)
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


def check_checkpoint(mark: Checkpoint | BadItem | None, head: Anchor | None, last: Link | None,
                     key: bytes, chain: str | None = None) -> Verdict | None:
    """The keyed checkpoint against the anchored head (None: they agree). Run after check_head, so
    the head and the ledger's last entry already agree.

    The anchors and the entries can both be removed by anyone with access to their tables; the
    checkpoint can be removed too, but not rewritten to a shorter head without the key."""
    if mark is None:
        if head is not None or (last is not None and last.scheme == SCHEME_KEYED):
            return Verdict(False, 0, None, MISSING_CHECKPOINT)
        return None   # nothing appended under the key yet (a new ledger, or scheme 1 entries only)
    if isinstance(mark, BadItem):
        return Verdict(False, 0, None, BAD_CHECKPOINT)
    if not hmac.compare_digest(checkpoint_mac(mark.seq, mark.hash, key, chain).encode(), mark.mac.encode()):
        return Verdict(False, 0, None, BAD_CHECKPOINT)
    head_seq = head.seq if head is not None else 0
    if mark.seq > head_seq:
        return Verdict(False, 0, head_seq + 1, MISSING_TAIL)
    if mark.seq < head_seq:
        return Verdict(False, 0, mark.seq + 1, STALE_CHECKPOINT)
    if head is not None and head.hash != mark.hash:
        return Verdict(False, 0, head.seq, ANCHOR_MISMATCH)
    return None


# -- the money: orders and records against the entries -------------------------------------------

@dataclass(frozen=True)
class Record:
    """A return's or claim's record of one movement (`refund`, `dispute_resolution`, `resolution`):
    the entry it names and the amount it says was paid."""
    owner: str           # "return" | "claim"
    owner_id: str
    name: str            # the record's attribute
    order_id: str
    ledger_seq: int
    amount: int
    chain: str = LEGACY_CHAIN   # the chain holding ledger_seq (records written before chains: the first)

    @property
    def where(self) -> tuple[str, int]:
        return (self.chain, self.ledger_seq)

    @property
    def label(self) -> str:
        return f"{self.owner} {self.owner_id} {self.name}"


# Which record names an entry of each kind.
RECORD_OF_KIND = {"refund": ("return", "refund"), "store_credit": ("return", "refund"),
                  "adjustment": ("return", "dispute_resolution"), "claim": ("claim", "resolution")}


@dataclass
class OrderBook:
    """What the store read for one order: its refunded_total (None: no such order), the records of its
    returns and claims, and every entry those records or the checked range name."""
    order_id: str
    refunded_total: int | None
    records: list[Record] = field(default_factory=list)


Where = tuple[str, int]   # (chain, seq): an entry's place in the ledger


def where_of(link: Link) -> Where:
    """The entry's chain (its stored `ledger` key; the first chain when a test's link has none) and seq."""
    return (_text(link, "ledger") or LEGACY_CHAIN, link.seq)


def _is_legacy(where: Where, legacy_last_seq: int) -> bool:
    return where[0] == LEGACY_CHAIN and where[1] <= legacy_last_seq


def check_orders(checked: Iterable[Link], books: Mapping[str, OrderBook], entries: Mapping[Any, Item],
                 legacy_last_seq: int = 0) -> Verdict | None:
    """The money around the checked entries (None: it agrees). For each order a checked entry
    touches: every record of its returns and claims names an entry of its own with the amount it
    says, every checked entry is named by its record, and the order's refunded_total is the sum of
    what its entries took from the capture. Entries of scheme 1 (the first chain, at or below
    `legacy_last_seq`) were written before the records named them: they count in the sums and need
    no record. `entries`: by (chain, seq); a bare seq is the first chain's."""
    checked = list(checked)
    found: dict[Where, Item] = {(k if isinstance(k, tuple) else (LEGACY_CHAIN, int(k))): v for k, v in entries.items()}
    named: dict[Where, Record] = {}
    recorded = [link for link in checked if not _is_legacy(where_of(link), legacy_last_seq)]
    for order_id in dict.fromkeys(_text(link, "order_id") for link in recorded):
        book = books[cast(str, order_id)]   # every entry names its order (the model requires it)
        for record in book.records:
            entry = found.get(record.where)
            if isinstance(entry, BadItem):
                return Verdict(False, 0, record.ledger_seq, MALFORMED_ENTRY, chain=record.chain)
            kind = _text(entry, "kind") if entry is not None else None
            if (entry is None or _text(entry, "return_id") != record.owner_id
                    or _text(entry, "order_id") != record.order_id or _number(entry, "amount") != record.amount
                    or RECORD_OF_KIND.get(kind or "") != (record.owner, record.name)):
                return Verdict(False, 0, record.ledger_seq, RECORD_MISMATCH, order_id=order_id, record=record.label,
                               chain=record.chain)
            named[record.where] = record
    for link in recorded:
        if where_of(link) not in named:
            return Verdict(False, 0, link.seq, UNRECORDED_ENTRY, order_id=_text(link, "order_id"),
                           chain=where_of(link)[0])
    for order_id in dict.fromkeys(_text(link, "order_id") for link in recorded):
        book = books[cast(str, order_id)]
        ours: dict[Where, Item] = {where_of(link): link for link in checked if _text(link, "order_id") == order_id}
        ours.update({r.where: found[r.where] for r in book.records})
        total = sum(from_capture_of(link) for link in ours.values() if isinstance(link, Link))
        if book.refunded_total != total:
            return Verdict(False, 0, None, ORDER_TOTAL_MISMATCH, order_id=order_id)
    return None


def from_capture_of(link: Link) -> int:
    """What a stored entry took from the order's capture: its amount less the store's own bonus."""
    return _number(link, "amount") - _number(link, "bonus")


def from_capture(entry: Any) -> int:
    """What an entry took from the order's capture: its amount less the store's own bonus."""
    return int(entry.amount) - int(getattr(entry, "bonus", None) or 0)
