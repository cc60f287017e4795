"""Finance API on the real stack: manual refunds through the workflow, paging by day, CSV,
range verify, reconciliation, analytics, and the 4xx of each."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from returns_core.edge import auth
from returns_core.store import ledger
from returns_core.store.models import ReturnModel
from returns_core.usecases import settlement

from tests.conftest import GatewayClient
from tests.workflow.helpers import Http, carrier_event, order_payload, roll_up_finance, wait_for
from tests.workflow.refund_fixtures import make_order, make_return


@pytest.fixture
def http(stack):
    yield Http(GatewayClient())



def _fin():
    return auth.mint("finance", "fin:ann")


def _range() -> str:
    today = date.today()
    return f"from={(today - timedelta(days=1)).isoformat()}&to={(today + timedelta(days=1)).isoformat()}"


def test_a_manual_refund_waits_for_finance_then_the_workflow_ledgers_it(stack, http):
    store, wh = auth.mint("store", "shop"), auth.mint("warehouse", "wh:bob")
    assert http.call("PUT", "/orders/ORD-M", order_payload(provider="manual"), token=store)[0] == 201
    customer = http.call("POST", "/returns/lookup", {"order_id": "ORD-M", "email": "ana@example.com"})[1]["token"]
    status, ret, _ = http.call("POST", "/returns", {
        "order_id": "ORD-M", "items": [{"sku": "JEANS-32", "qty": 1, "reason": "defective"}],
        "resolution": "refund", "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, ret
    rid = ret["return_id"]
    ret = wait_for(lambda: ReturnModel.get(rid, consistent_read=True), lambda r: r.status == "awaiting_dropoff")
    assert carrier_event(http, ret.label["tracking_number"], "dropped_off")[0] == 202
    wait_for(lambda: ReturnModel.get(rid, consistent_read=True).status, lambda s: s == "in_transit")
    assert http.call("POST", "/warehouse/scans", {"code": ret.label["code"]}, token=wh)[0] == 200
    assert http.call("POST", f"/returns/{rid}/inspection",
                     {"items": [{"sku": "JEANS-32", "qty": 1, "condition": "resellable"}]}, token=wh)[0] == 200
    parked = wait_for(lambda: ReturnModel.get(rid, consistent_read=True), lambda r: r.waiting_for == "manual_refund",
                      what="the manual refund wait")
    assert parked.status == "refunding" and parked.refund["status"] == "pending_manual"

    assert http.call("POST", f"/returns/{rid}/refund/manual", {"reference": "BANK-1"}, token=wh)[0] == 403
    status, body, _ = http.call("POST", f"/returns/{rid}/refund/manual", {"reference": "  "}, token=_fin())
    assert status == 422 and body["error"]["details"]["field"] == "reference", body
    status, body, _ = http.call("POST", f"/returns/{rid}/refund/manual", {}, token=_fin())
    assert status == 400 and body["error"]["details"]["field"] == "reference", body
    status, body, _ = http.call("POST", f"/returns/{rid}/refund/manual", {"reference": "BANK-1"}, token=_fin())
    assert status == 200, body
    done = wait_for(lambda: ReturnModel.get(rid, consistent_read=True), lambda r: r.status == "refunded",
                    what="the ledgered manual refund")
    assert done.refund["reference"] == "BANK-1" and done.refund["ledger_seq"] == 1

    status, page, _ = http.call("GET", f"/finance/refunds?{_range()}", token=_fin())
    assert status == 200 and [(i["return_id"], i["method"], i["reference"]) for i in page["items"]] == \
        [(rid, "manual", "BANK-1")]
    roll_up_finance(stack)
    status, recon, _ = http.call("GET", f"/finance/reconciliation?{_range()}", token=_fin())
    assert status == 200 and recon["over_refunded"] == []
    [line] = recon["orders"]
    assert line["order_id"] == "ORD-M" and line["refunded"] == done.refund["amount"]
    assert line["remaining"] == line["captured"] - line["refunded"]
    status, stats, _ = http.call("GET", f"/analytics/returns?{_range()}", token=auth.mint("ops", "ops:eve"))
    assert status == 200, stats
    assert stats["by_reason"] == {"defective": 1} and stats["by_sku"] == {"JEANS-32": 1}
    assert stats["by_status"] == {"refunded": 1} and stats["return_rate"] == 0.25   # 1 of 4 units ordered
    assert stats["median_dropoff_to_refund_seconds"] is not None


def test_refunds_page_by_day_with_a_cursor_and_the_csv_has_a_header(stack, http):
    make_order("O-P", captured=100_000, units=20)
    rids = [make_return(f"R-P{i}", "O-P", 1000 + i).return_id for i in range(5)]
    for rid in rids:
        assert settlement.settle(rid) == "refunded"
    seen, cursor = [], None
    for _ in range(5):
        url = f"/finance/refunds?{_range()}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page, _ = http.call("GET", url, token=_fin())
        assert status == 200, page
        seen += [i["seq"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [1, 2, 3, 4, 5]
    status, _, resp = http.call("GET", f"/finance/refunds.csv?{_range()}", token=_fin())
    assert status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.body.decode())))
    assert rows[0][:3] == ["seq", "return_id", "order_id"] and len(rows) == 6
    assert rows[0][3] == "amount" and rows[0][-2:] == ["bonus", "kind"] and all(r[-2] == "0" for r in rows[1:])
    status, verify, _ = http.call("GET", f"/finance/ledger/verify?{_range()}", token=_fin())
    assert status == 200 and verify == {"ok": True, "checked": 5, "first_bad_seq": None, "reason": None,
                                        "anchored_seq": 5}


def test_the_api_checks_the_ledger_through_the_settle_function_and_sees_a_deleted_last_entry(stack, http):
    """The API holds no ledger key: its verify route asks the Settle function, which does."""
    import os

    import boto3

    api_env = stack.function("ApiFunction").environment
    assert "LEDGER_KEY_SECRET_ARN" not in api_env and "LEDGER_ANCHORS_TABLE" not in api_env
    make_order("O-T", captured=100_000)
    for i in range(3):
        make_return(f"R-T{i}", "O-T", 1000 + i)
        assert settlement.settle(f"R-T{i}") == "refunded"
    status, verify, _ = http.call("GET", "/finance/ledger/verify", token=_fin())
    assert status == 200 and (verify["ok"], verify["checked"], verify["anchored_seq"]) == (True, 3, 3)
    boto3.resource("dynamodb", region_name="us-east-1").Table(os.environ["LEDGER_TABLE"]).delete_item(
        Key={"ledger": next(ledger.entries()).ledger, "seq": 3})
    for query in ("", f"?{_range()}"):
        status, verify, _ = http.call("GET", f"/finance/ledger/verify{query}", token=_fin())
        assert status == 200 and (verify["ok"], verify["first_bad_seq"], verify["reason"]) == \
            (False, 3, "missing_entry"), verify


@pytest.mark.parametrize("query,code,field", [
    ("", 400, "from"), ("from=2026-11-02", 400, "to"), ("from=2026-11-02&to=2026-11-01", 422, "to"),
    ("from=2026-01-01&to=2026-12-31", 422, "to"), ("from=2026-11-01&to=2026-11-02&cursor=bogus", 400, "cursor"),
])
def test_bad_ranges_and_cursors_are_4xx_naming_the_field(stack, http, query, code, field):
    status, body, _ = http.call("GET", f"/finance/refunds?{query}", token=_fin())
    assert status == code and body["error"]["details"]["field"] == field, body


def test_finance_routes_need_the_finance_role(stack, http):
    wh = auth.mint("warehouse", "wh:bob")
    for path in ("/finance/refunds", "/finance/refunds.csv", "/finance/reconciliation", "/finance/ledger/verify",
                 "/analytics/returns"):
        assert http.call("GET", f"{path}?{_range()}", token=wh)[0] == 403
        assert http.call("GET", f"{path}?{_range()}")[0] == 401
