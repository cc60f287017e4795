"""The ledger's seal and chain rules without a database: every attribute the model stores is sealed
(so an attribute added to LedgerEntryModel is covered without anyone listing it), and any single edit,
insertion or deletion of a stored entry, the last one's included, is found."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

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


# -- stored items, the keyed checkpoint and the money (issue 28 item 5) ------------------------------

SHAPE = ledger.SHAPE


def _parsed(entries: list[LedgerEntryModel]) -> list:
    return [ledger_chain.parse(item, SHAPE) for item in _stored(entries)]


def test_a_stored_entry_parses_to_its_link_and_one_of_the_wrong_shape_is_named():
    [entry] = _chain(1)
    item = ledger.stored(entry)
    assert ledger_chain.parse(item, SHAPE) == ledger.link(entry)
    for name, (attr_type, optional) in SHAPE.items():
        other = "S" if attr_type == "N" else "N"
        bad = ledger_chain.parse({**item, name: {other: "1"}}, SHAPE)
        assert bad == ledger_chain.BadItem(None if name == "seq" else 1, name), name
        if not optional:
            assert ledger_chain.parse({k: v for k, v in item.items() if k != name}, SHAPE).attribute == name
    assert ledger_chain.parse({**item, "amount": {"N": "10.5"}}, SHAPE).attribute == "amount"
    assert ledger_chain.parse({**item, "seq": {"N": "1.5"}}, SHAPE) == ledger_chain.BadItem(None, "seq")
    verdict = verify([ledger_chain.parse({**item, "amount": {"S": "1001"}}, SHAPE)], KEY, prev_hash=None, first_seq=1)
    assert (verdict.ok, verdict.first_bad_seq, verdict.reason) == (False, 1, ledger_chain.MALFORMED_ENTRY)


def test_an_added_attribute_is_named_and_a_binary_one_is_sealed_too():
    [entry] = _chain(1)
    anchors = _anchors([entry])
    for value in ({"S": "x"}, {"B": b"\x00"}, {"NULL": True}, {"M": {"a": {"N": "1"}}}):
        link = ledger_chain.parse({**ledger.stored(entry), "note": value}, SHAPE)
        assert ledger_chain.check_entry(link, KEY, 1, anchors, SHAPE) == ledger_chain.UNKNOWN_ATTRIBUTE
        assert ledger_chain.check_entry(link, KEY, 1, anchors) == ledger_chain.BAD_SEAL
    # Scheme 1 does not hash it: named all the same.
    legacy = dict(ledger.stored(entry))
    del legacy["hash_scheme"]
    legacy["hash"] = {"S": ledger_chain.legacy_hash(ledger_chain.legacy_fields(legacy), legacy["prev_hash"]["S"])}
    link = ledger_chain.parse({**legacy, "note": {"S": "x"}}, SHAPE)
    assert ledger_chain.check_entry(link, KEY, None, None, SHAPE) == ledger_chain.UNKNOWN_ATTRIBUTE


def _head(entries: list[LedgerEntryModel]) -> Anchor | None:
    return Anchor(int(entries[-1].seq), entries[-1].hash) if entries else None


def test_the_checkpoint_names_a_tail_removed_with_its_anchors_and_cannot_be_shortened_without_the_key():
    entries = _chain(3)
    mark = ledger_chain.checkpoint(3, entries[2].hash, KEY)
    links = _parsed(entries)
    assert ledger_chain.check_checkpoint(mark, _head(entries), links[-1], KEY) is None
    for kept in (2, 1, 0):   # the tail and its anchors removed, down to both tables wiped
        verdict = ledger_chain.check_checkpoint(mark, _head(entries[:kept]), links[kept - 1] if kept else None, KEY)
        assert (verdict.first_bad_seq, verdict.reason) == (kept + 1, ledger_chain.MISSING_TAIL)
    shorter = ledger_chain.checkpoint(2, entries[1].hash, b"a guessed key")
    verdict = ledger_chain.check_checkpoint(shorter, _head(entries[:2]), links[1], KEY)
    assert verdict.reason == ledger_chain.BAD_CHECKPOINT
    older = ledger_chain.checkpoint(2, entries[1].hash, KEY)   # one kept from before and put back
    verdict = ledger_chain.check_checkpoint(older, _head(entries), links[-1], KEY)
    assert (verdict.first_bad_seq, verdict.reason) == (3, ledger_chain.STALE_CHECKPOINT)
    assert ledger_chain.check_checkpoint(None, _head(entries), links[-1], KEY).reason == ledger_chain.MISSING_CHECKPOINT
    assert ledger_chain.check_checkpoint(None, None, None, KEY) is None   # nothing appended yet


def _book(entries: list, total: int | None, records: list | None = None) -> dict:
    if records is None:
        records = [ledger_chain.Record("return", _text(e, "return_id"), "refund", _text(e, "order_id"), e.seq,
                                       int(e.stored["amount"]["N"])) for e in entries]
    return {"O": ledger_chain.OrderBook("O", total, records)}


def _text(link, name):
    return link.stored[name]["S"]


def _one_order(n: int) -> list:
    """n entries of order O, as parsed links."""
    entries = _chain(n)
    items = []
    for entry in entries:
        entry.order_id = "O"
        entry.kind = "refund"
        items.append(ledger.seal(entry, KEY))
    return [ledger_chain.parse(ledger.stored(e), SHAPE) for e in items]


def test_an_order_total_and_its_records_are_checked_against_its_entries():
    links = _one_order(3)
    total = sum(ledger_chain.from_capture_of(link) for link in links)
    everything = {link.seq: link for link in links}
    assert ledger_chain.check_orders(links, _book(links, total), everything) is None
    assert ledger_chain.check_orders(links[1:], _book(links, total), everything) is None   # a range: the rest by record
    for wrong in (total - 1, total + 1, None):
        verdict = ledger_chain.check_orders(links, _book(links, wrong), everything)
        assert (verdict.reason, verdict.order_id) == (ledger_chain.ORDER_TOTAL_MISMATCH, "O"), wrong
    # The tail entry gone (its anchor and checkpoint too): its record still names it.
    verdict = ledger_chain.check_orders(links[:2], _book(links, total), {1: links[0], 2: links[1]})
    assert (verdict.first_bad_seq, verdict.reason) == (3, ledger_chain.RECORD_MISMATCH)
    # A record naming another's entry, or saying another amount; an entry no record names.
    moved = _book(links, total)["O"].records
    swapped = [moved[0], moved[1].__class__(**{**moved[1].__dict__, "ledger_seq": 3}), moved[2]]
    assert ledger_chain.check_orders(links, {"O": ledger_chain.OrderBook("O", total, swapped)}, everything).reason \
        == ledger_chain.RECORD_MISMATCH
    assert ledger_chain.check_orders(links, _book(links, total, moved[:2]), everything).reason \
        == ledger_chain.UNRECORDED_ENTRY
    # Scheme 1 entries (at or below the boundary) count in the sum but need no record.
    assert ledger_chain.check_orders(links, _book(links, total, moved[1:]), everything, legacy_last_seq=1) is None
