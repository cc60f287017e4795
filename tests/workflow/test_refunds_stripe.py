"""Refunds through a real localstripe: paid once when Settle is retried, when the Lambda
"crashes" after Stripe paid, and when two approvals (and two Settles) race."""
from __future__ import annotations

import json
import threading

import pytest

from infra.local import faults
from returns_core.edge import auth
from returns_core.store import ledger
from returns_core.store.models import ReturnModel
from returns_core.usecases import ledger_audit, settlement

from tests.conftest import GatewayClient
from tests.payments_support import create_captured_payment_intent, list_refunds

from .helpers import Http, carrier_event, order_payload, wait_for


@pytest.fixture
def http(stripe_stack):
    yield Http(GatewayClient())


def _to_inspection(http: Http, order_id: str, pi: str, lines: list, captured: int) -> str:
    """A stripe-paid order, a `refund` return of its first line, dropped off, received and inspected."""
    store, wh = auth.mint("store", "shop"), auth.mint("warehouse", "wh:bob")
    order = order_payload(provider="stripe", captured=captured, lines=lines)
    order["payment"]["reference"] = pi
    assert http.call("PUT", f"/orders/{order_id}", order, token=store)[0] == 201
    customer = http.call("POST", "/returns/lookup", {"order_id": order_id, "email": "ana@example.com"})[1]["token"]
    sku = lines[0]["sku"]
    status, ret, _ = http.call("POST", "/returns", {
        "order_id": order_id, "items": [{"sku": sku, "qty": 1, "reason": "defective"}], "resolution": "refund",
        "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, ret
    rid = ret["return_id"]
    ret = wait_for(lambda: ReturnModel.get(rid, consistent_read=True), lambda r: r.status == "awaiting_dropoff",
                   timeout=30, what="the label")
    assert carrier_event(http, ret.label["tracking_number"], "dropped_off")[0] == 202
    wait_for(lambda: ReturnModel.get(rid, consistent_read=True).status, lambda s: s == "in_transit", timeout=30)
    assert http.call("POST", "/warehouse/scans", {"code": ret.label["code"]}, token=wh)[0] == 200
    status, body, _ = http.call("POST", f"/returns/{rid}/inspection",
                                {"items": [{"sku": sku, "qty": 1, "condition": "resellable"}]}, token=wh)
    assert status == 200, body
    return rid


def _status(rid: str) -> str:
    return ReturnModel.get(rid, consistent_read=True).status


def _ledger() -> list:
    return list(ledger.entries())


LINES = [{"sku": "COAT", "name": "Coat", "qty": 2, "unit_price": 8999, "final_sale": False}]


def test_a_retried_settle_step_pays_once(stripe_stack, http, localstripe_url):
    pi = create_captured_payment_intent(localstripe_url, amount=17998)
    rid = _to_inspection(http, "ORD-S1", pi, LINES, 17998)
    wait_for(lambda: _status(rid), lambda s: s == "refunded", timeout=30, what="the refund")
    # The step runs again (a Step Functions retry, a duplicate delivery): nothing more is paid or written.
    assert settlement.settle(rid) == "refunded"
    assert settlement.settle(rid) == "refunded"
    paid = list_refunds(localstripe_url, pi)
    assert [(r["amount"], r["metadata"]["idempotency_key"]) for r in paid] == [(ret_amount(rid), f"{rid}:refund:1")]
    entries = _ledger()
    assert [(e.return_id, e.reference, e.method) for e in entries] == [(rid, paid[0]["id"], "stripe")]
    assert ledger_audit.verify(None)["ok"] is True


def ret_amount(rid: str) -> int:
    return int(ReturnModel.get(rid, consistent_read=True).quote["refund_amount"])


def _writes_a_ledger_entry(body: str) -> bool:
    items = json.loads(body).get("TransactItems", [])
    return any(item.get("Put", {}).get("TableName", "").endswith("-LedgerTable") for item in items)


def test_a_crash_after_stripe_paid_is_recovered_by_the_ops_retry(stripe_stack, http, localstripe_url):
    # Between the Stripe call and the ledger write, DynamoDB fails every ledger transaction (as a
    # crash there would leave it): the settle step, its retries included, ends refund_failed.
    pi = create_captured_payment_intent(localstripe_url, amount=17998)
    with faults.fail("dynamodb", "TransactWriteItems", "InternalServerError", "injected: ledger unavailable",
                     times=1000, when=_writes_a_ledger_entry) as ledger_down:
        rid = _to_inspection(http, "ORD-S2", pi, LINES, 17998)
        wait_for(lambda: _status(rid), lambda s: s == "refund_failed", timeout=60, what="the failed refund")
    assert ledger_down.hits
    assert len(list_refunds(localstripe_url, pi)) == 1      # Stripe paid...
    assert _ledger() == []                                   # ...and nothing was written

    ops = auth.mint("ops", "ops:eve")
    status, body, _ = http.call("POST", f"/returns/{rid}/refund/retry", {}, token=ops)
    assert status == 200, body
    wait_for(lambda: _status(rid), lambda s: s == "refunded", timeout=30, what="the recovered refund")
    paid = list_refunds(localstripe_url, pi)
    assert len(paid) == 1, paid                              # recovered by key, not paid again
    assert [(e.return_id, e.reference) for e in _ledger()] == [(rid, paid[0]["id"])]
    assert ReturnModel.get(rid).refund["reference"] == paid[0]["id"]


def test_racing_approvals_and_settles_pay_once(stripe_stack, http, localstripe_url):
    lines = [{"sku": "SOFA", "name": "Sofa", "qty": 1, "unit_price": 89900, "final_sale": False}]
    pi = create_captured_payment_intent(localstripe_url, amount=89900)
    rid = _to_inspection(http, "ORD-S3", pi, lines, 89900)
    wait_for(lambda: _status(rid), lambda s: s == "awaiting_approval", timeout=30, what="the approval wait")

    results: list = []
    barrier = threading.Barrier(4)

    def approve(who: str) -> None:
        barrier.wait()
        results.append(("approve", http.call("POST", f"/returns/{rid}/refund/approve", {"note": who},
                                             token=auth.mint("finance", who))[0]))

    def settle() -> None:
        barrier.wait()
        try:
            results.append(("settle", settlement.settle(rid)))
        except (settlement.SettleInProgress, Exception) as exc:  # noqa: BLE001 - the loser may see any of these
            results.append(("settle", type(exc).__name__))

    threads = [threading.Thread(target=approve, args=("fin:ann",)), threading.Thread(target=approve, args=("fin:bo",)),
               threading.Thread(target=settle), threading.Thread(target=settle)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(code in (200, 409) for kind, code in results if kind == "approve"), results
    assert any(code == 200 for kind, code in results if kind == "approve"), results
    wait_for(lambda: _status(rid), lambda s: s == "refunded", timeout=30, what="the refund")
    for _ in range(2):
        settlement.settle(rid)
    paid = list_refunds(localstripe_url, pi)
    assert len(paid) == 1, paid
    entries = _ledger()
    assert len(entries) == 1 and entries[0].reference == paid[0]["id"]
    assert entries[0].approved_by in ("fin:ann", "fin:bo")
