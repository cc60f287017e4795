"""/finance/refunds.csv for any range: small ranges answer the CSV itself; a range past what a
Lambda response can carry is streamed to S3 and answered with a presigned link.

The 25,000-row case drives the export's writer with rows made here: moto's DynamoDB answers a
Query at about 60 ms per item (its response serializer), so 25,000 rows read through the ledger
would take twenty minutes; the route itself is tested end to end past a lowered inline limit."""
from __future__ import annotations

import csv
import io
from urllib.parse import urlparse

from tests.api.support import ENV, auth, boto

ROWS = 25_000   # > 20,000, and past one 5 MiB part
DAYS = ("2026-11-02", "2026-11-03", "2026-11-04")


def _row(seq: int, day: str) -> dict:
    return {"seq": seq, "return_id": f"R-{seq:06d}", "order_id": f"O-{seq:06d}", "amount": 1000 + seq % 977,
            "currency": "EUR", "method": "stripe", "reference": f"re_{seq:024d}", "inspected_by": "wh:bob",
            "approved_by": None, "issued_at": f"{day}T10:00:00.000Z", "hash": f"{seq:064x}",
            "prev_hash": f"{seq - 1:064x}", "bonus": 0}


def _write_ledger(rows: int) -> None:
    """`rows` entries over three days, written through the model (the export reads the ledger by
    day; it does not verify the chain)."""
    from returns_core.store.models import LedgerEntryModel

    with LedgerEntryModel.batch_write() as batch:
        for seq in range(1, rows + 1):
            day = DAYS[(seq - 1) * len(DAYS) // rows]
            fields = {k: v for k, v in _row(seq, day).items() if k not in ("seq",)}
            batch.save(LedgerEntryModel("refunds", seq, entry_id=f"k{seq}", kind="refund", issued_day=day,
                                        hash_scheme=2, **fields))


def _object_behind(url: str) -> bytes:
    parsed = urlparse(url)
    assert "Signature=" in parsed.query and "Expires=" in parsed.query, url
    bucket, key = parsed.netloc.split(".")[0], parsed.path.lstrip("/")
    assert bucket == ENV["LABELS_BUCKET"] and key.startswith("exports/"), url
    return boto("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def _exports() -> list[dict]:
    return boto("s3").list_objects_v2(Bucket=ENV["LABELS_BUCKET"], Prefix="exports/").get("Contents") or []


def test_a_csv_of_more_than_twenty_thousand_rows_is_streamed_to_s3_in_parts(api):
    from chalicelib import finance
    from returns_core.outbound import exports

    rows = (_row(seq, DAYS[0]) for seq in range(1, ROWS + 1))
    written = finance.write_csv(rows, finance.REFUND_FIELDS, "refunds-big.csv")
    assert written.rows == ROWS and written.text is None
    stored = boto("s3").get_object(Bucket=ENV["LABELS_BUCKET"], Key=written.key)
    body = stored["Body"].read()
    assert len(body) > finance.CSV_INLINE_MAX_BYTES and len(body) > exports.PART_BYTES   # really multipart
    assert stored["ContentType"].startswith("text/csv")
    assert stored["ContentDisposition"] == 'attachment; filename="refunds-big.csv"'
    parsed = list(csv.DictReader(io.StringIO(body.decode())))
    assert [int(r["seq"]) for r in parsed] == list(range(1, ROWS + 1))
    assert parsed[-1]["return_id"] == f"R-{ROWS:06d}" and parsed[0]["amount"] == "1001"
    assert list(parsed[0])[:4] == ["seq", "return_id", "order_id", "amount"]
    assert list(parsed[0])[-2:] == ["bonus", "kind"]


def test_a_range_past_the_inline_limit_is_a_presigned_link_to_the_whole_csv(api, monkeypatch):
    from chalicelib import finance

    _write_ledger(60)
    monkeypatch.setattr(finance, "CSV_INLINE_MAX_BYTES", 2048)   # about ten rows
    path = f"/finance/refunds.csv?from={DAYS[0]}&to={DAYS[-1]}"
    res = api.http.get(path, headers={**auth("finance"), "Accept": "application/json"})
    assert res.status_code == 200, res.body[:300]
    assert res.json_body["rows"] == 60 and res.json_body["expires_in"] == finance.CSV_LINK_SECONDS
    parsed = list(csv.DictReader(io.StringIO(_object_behind(res.json_body["url"]).decode())))
    assert [int(r["seq"]) for r in parsed] == list(range(1, 61))

    # A browser (no JSON asked for) is sent on to the file.
    redirect = api.http.get(path, headers=auth("finance"))
    assert redirect.status_code == 303
    assert len(_object_behind(redirect.headers["Location"]).splitlines()) == 61


def test_a_small_range_is_still_the_csv_itself(api):
    _write_ledger(30)
    res = api.http.get(f"/finance/refunds.csv?from={DAYS[0]}&to={DAYS[-1]}",
                       headers={**auth("finance"), "Accept": "application/json"})
    assert res.status_code == 200 and res.headers["Content-Type"].startswith("text/csv")
    assert len(res.body.decode().splitlines()) == 31
    assert _exports() == []
