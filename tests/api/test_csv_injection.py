"""CSV exports never hand a spreadsheet a formula (OWASP, CSV Injection).

An order id comes from the store, a manual refund's reference from finance's typing, an inspector's
name from the staff directory: any text cell may start with `=`, `+`, `-`, `@`, a tab or a carriage
return. Every CSV export goes through outbound.exports.write_csv, which prefixes such a cell with a
single quote; separators, quotes and line breaks inside a cell are the csv module's quoting. The
class is driven through the real route, GET /finance/refunds.csv, from ledger entries as stored.
"""
from __future__ import annotations

import csv
import io
import itertools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.api.support import auth

DAY = "2026-11-03"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Any text after the first character, separators, quotes and line breaks included (no NUL: the csv
# module refuses it, and no id, name or reference that reaches the ledger may hold one).
_TAIL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
hostile = st.builds(lambda first, rest: first + rest, st.sampled_from(FORMULA_STARTS), _TAIL)
_seq = itertools.count(1)


def _ledger_entry(order_id: str, reference: str, inspector: str, approver: str) -> int:
    """An entry as the settle step stores it (the export reads the ledger by day, not the chain)."""
    from returns_core.store.models import LedgerEntryModel

    seq = next(_seq)
    LedgerEntryModel("refunds", seq, entry_id=f"r{seq}:refund:1", kind="refund", return_id=f"ret_{seq}",
                     order_id=order_id, amount=1299, bonus=0, currency="EUR", method="manual", reference=reference,
                     inspected_by=inspector, approved_by=approver, issued_at=f"{DAY}T10:00:00.000Z",
                     issued_day=DAY, prev_hash="0" * 64, hash_scheme=2, hash=f"{seq:064x}").save()
    return seq


def _export(api) -> list[dict]:
    res = api.http.get(f"/finance/refunds.csv?from={DAY}&to={DAY}", headers={**auth("finance"), "Accept": "text/csv"})
    assert res.status_code == 200, res.body[:300]
    assert res.headers["Content-Type"].startswith("text/csv")
    text = res.body.decode() if isinstance(res.body, bytes) else res.body
    return list(csv.DictReader(io.StringIO(text, newline="")))


# slow: forty generated refunds, each exported
@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order_id=hostile, reference=hostile, inspector=hostile, approver=hostile)
def test_no_text_cell_of_the_refunds_csv_starts_a_formula(api, order_id, reference, inspector, approver):
    seq = _ledger_entry(order_id, reference, inspector, approver)
    rows = _export(api)
    row = next(r for r in rows if r["seq"] == str(seq))
    # The value, read back whole (commas, quotes and line breaks inside it survive), behind one quote.
    assert (row["order_id"], row["reference"], row["inspected_by"], row["approved_by"]) == \
        ("'" + order_id, "'" + reference, "'" + inspector, "'" + approver)
    for r in rows:
        assert not any(cell.startswith(FORMULA_STARTS) for cell in r.values() if cell), r


def test_plain_cells_and_numbers_are_left_as_they_are(api):
    seq = _ledger_entry("ORD-1001", 'bank transfer, "March"', "warehouse:bob", "finance:eve")
    row = next(r for r in _export(api) if r["seq"] == str(seq))
    assert (row["order_id"], row["reference"], row["inspected_by"], row["amount"]) == \
        ("ORD-1001", 'bank transfer, "March"', "warehouse:bob", "1299")


def test_every_csv_the_api_writes_goes_through_the_one_writer():
    """No module of the API or the domain writes CSV around outbound.exports.write_csv."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    writers = [str(p.relative_to(root)) for base in ("functions", "layers")
               for p in (root / base).rglob("*.py")
               if "csv.writer" in (src := p.read_text()) or "csv.DictWriter" in src]
    assert writers == ["layers/returns_core/python/returns_core/outbound/exports.py"]
