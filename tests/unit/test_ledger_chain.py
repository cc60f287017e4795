"""The ledger's seal and chain rules without a database: every attribute the model stores is sealed
(so an attribute added to LedgerEntryModel is covered without anyone listing it), and any single edit,
insertion or deletion of a stored entry, the last one's included, is found."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from returns_core.rules import ledger_chain
from returns_core.rules.ledger_chain import Anchor, check_head, verify
from returns_core.store import ledger
from returns_core.store.models import LedgerEntryModel

KEY = b"k" * 48
ATTRIBUTES = sorted(LedgerEntryModel.get_attributes())


def _chain(n: int) -> list[LedgerEntryModel]:
    """n entries as ledger.append seals them (keyed), chained from the genesis hash."""
    out, prev = [], ledger_chain.GENESIS
    for seq in range(1, n + 1):
        entry = LedgerEntryModel(
            "refunds", seq, entry_id=f"R{seq}:refund:1", kind="store_credit" if seq % 2 else "refund",
            return_id=f"R{seq}", order_id=f"O{seq % 3}", amount=1000 + seq, bonus=seq % 2 * 50, currency="EUR",
            method="stripe", reference=f"re_{seq}", inspected_by="wh:bob", approved_by="fin:ann" if seq % 3 else None,
            issued_at=f"2026-11-0{1 + seq % 9}T10:00:00.000Z", issued_day=f"2026-11-0{1 + seq % 9}", prev_hash=prev)
        out.append(ledger.seal(entry, KEY))
        prev = entry.hash
    return out


def _stored(entries: list[LedgerEntryModel]) -> list[dict]:
    return [ledger.stored(e) for e in entries]


def _found(stored: list[dict], anchors: dict[int, str]) -> bool:
    """Whether verify or the head check objects to the ledger `stored` whose anchors are `anchors`."""
    links = [ledger.link(LedgerEntryModel.from_raw_data(item)) for item in stored]
    links.sort(key=lambda link: link.seq)
    head = Anchor(max(anchors), anchors[max(anchors)]) if anchors else None
    chained = verify(links, KEY, prev_hash=ledger_chain.GENESIS, first_seq=1, keyed_from=min(anchors, default=None),
                     anchors=anchors)
    return not chained.ok or check_head(links[-1] if links else None, head) is not None


def _anchors(entries: list[LedgerEntryModel]) -> dict[int, str]:
    return {int(e.seq): e.hash for e in entries}


def test_every_attribute_of_the_model_but_the_seal_is_sealed():
    """Fails when LedgerEntryModel gains an attribute the seal does not cover."""
    [entry] = _chain(1)
    stored = ledger.stored(entry)
    assert set(stored) == set(ATTRIBUTES)   # this entry has every attribute, the seal included
    for name, attribute in LedgerEntryModel.get_attributes().items():
        if name == ledger_chain.SEAL:
            continue
        edited = dict(stored)
        edited[name] = {attribute.attr_type: "1" if attribute.attr_type == "N" else "edited"}
        if edited[name] == stored.get(name):
            edited[name] = {attribute.attr_type: "2"}
        assert ledger_chain.keyed_hash(edited, KEY) != entry.hash, f"{name} is not sealed"


def test_the_seal_needs_the_key():
    [entry] = _chain(1)
    assert ledger_chain.keyed_hash(ledger.stored(entry), b"another key") != entry.hash
    assert int(entry.hash_scheme) == ledger_chain.SCHEME_KEYED


def test_an_untouched_chain_verifies():
    entries = _chain(5)
    assert not _found(_stored(entries), _anchors(entries))


def _edited_value(attr_type: str, current: dict | None, draw) -> dict:
    """A different value, as DynamoDB would store it: a number in its canonical form (DynamoDB keeps
    no "00"; a tamperer's edit through its API reads back as a number like any other)."""
    value = draw(st.integers(0, 10**9).map(str) if attr_type == "N" else st.text(min_size=0, max_size=8))
    new = {attr_type: value}
    if current == new:
        new = {attr_type: str(int(value) + 1) if attr_type == "N" else value + "x"}
    return new


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_single_edit_insertion_or_deletion_is_found(data):
    entries = _chain(data.draw(st.integers(1, 6), label="entries"))
    stored, anchors = _stored(entries), _anchors(entries)
    kind = data.draw(st.sampled_from(["edit", "remove_attribute", "delete_entry", "insert_entry"]), label="kind")
    at = data.draw(st.integers(0, len(stored) - 1), label="entry")
    if kind == "delete_entry":
        del stored[at]
    elif kind == "insert_entry":
        # A copy of an entry (or a new one) at a free or taken sequence number, sealed without the key.
        forged = dict(stored[at])
        seq = data.draw(st.integers(1, len(stored) + 2), label="seq")
        forged["seq"] = {"N": str(seq)}
        forged["amount"] = {"N": str(data.draw(st.integers(0, 10**6)))}
        model = LedgerEntryModel.from_raw_data(forged)
        if data.draw(st.booleans(), label="unkeyed"):
            model.hash_scheme = None
            model.hash = ledger_chain.legacy_hash(ledger_chain.legacy_fields(ledger.stored(model)), model.prev_hash)
        else:
            ledger.seal(model, b"a guessed key")
        stored = [s for s in stored if s["seq"] != forged["seq"]] + [ledger.stored(model)]
    else:
        name = data.draw(st.sampled_from(ATTRIBUTES), label="attribute")
        attribute = LedgerEntryModel.get_attributes()[name]
        if kind == "remove_attribute" and name in stored[at] and attribute.null:
            del stored[at][name]
        else:
            stored[at][name] = _edited_value(attribute.attr_type, stored[at].get(name), data.draw)
    assert _found(stored, anchors), (kind, at)


def test_a_deleted_tail_is_named_by_the_head_check():
    entries = _chain(3)
    links = [ledger.link(e) for e in entries[:2]]
    head = Anchor(3, entries[2].hash)
    assert verify(links, KEY, prev_hash=ledger_chain.GENESIS, first_seq=1, keyed_from=1,
                  anchors=_anchors(entries)).ok   # what is left is a valid chain...
    verdict = check_head(links[-1], head)            # ...that stops short of the anchored head
    assert (verdict.first_bad_seq, verdict.reason) == (3, ledger_chain.MISSING_ENTRY)
    assert check_head(None, head).first_bad_seq == 1
