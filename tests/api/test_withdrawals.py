"""Issue 18: the EU right of withdrawal through the API: POST /withdrawals previews then confirms a
notice, opens its return (reason `withdrawal`, `refund_due_by`), acknowledges it by email at once, and
finance lists it. In-process app on moto; the workflow's own deadline engine is tested in tests/workflow."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.support import auth, customer, error_of, order_body, send

SHIPPING = 590
CAPTURED = 2 * 2499 + 7999 + SHIPPING


@pytest.fixture(autouse=True)
def ses(aws):
    """The sender and the templates, as the template.yaml deploy makes them."""
    from infra.mail.ses_templates import ses_template_definitions

    from tests.api.support import ENV, boto

    boto("ses").verify_email_identity(EmailAddress=ENV["SENDER_EMAIL"])
    for definition in ses_template_definitions(ENV["SES_TEMPLATE_PREFIX"]):
        if "withdrawal_received" in definition["TemplateName"]:
            boto("ses").create_template(Template=definition)


def _order(api, days_ago: int = 3, country: str = "FR", **overrides) -> str:
    delivered = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    body = order_body(delivered_at=delivered, placed_at=delivered, shipping_paid=SHIPPING,
                      payment={"provider": "stripe", "reference": "pi_123", "captured_amount": CAPTURED},
                      shipping_address={"line1": "1 rue Oberkampf", "postcode": "75011", "city": "Paris",
                                        "country": country}, **overrides)
    res = send(api, "PUT", "/orders/o-1", body, auth("store"))
    assert res.status_code in (200, 201), res.body
    return "o-1"


def _withdraw(api, confirm: bool, lines=None, key: str | None = None):
    body = {"order_id": "o-1", "confirm": confirm, **({"lines": lines} if lines else {})}
    headers = {**customer("o-1"), **({"Idempotency-Key": key} if key else {})}
    return send(api, "POST", "/withdrawals", body, headers)


def _sent() -> list:
    from moto.ses.models import ses_backends

    return [m for m in ses_backends["123456789012"]["us-east-1"].sent_messages if hasattr(m, "template")]


def _sent_templates() -> list[str]:
    return [m.template[0] if isinstance(m.template, list) else m.template for m in _sent()]


def test_a_whole_order_withdrawn_is_previewed_confirmed_acknowledged_and_refunds_delivery(api):
    _order(api)
    preview = _withdraw(api, confirm=False)
    assert preview.status_code == 200, preview.body
    shown = preview.json_body["preview"]
    assert [(x["sku"], x["qty"]) for x in shown["lines"]] == [("TSHIRT-M", 2), ("JEANS-32", 1)]
    assert shown["refund_estimate"] == {"amount": CAPTURED, "currency": "EUR", "items_total": CAPTURED - SHIPPING,
                                        "delivery_refund": SHIPPING}
    assert _sent_templates() == []   # a preview sends and stores nothing

    res = _withdraw(api, confirm=True, key="w-1")
    assert res.status_code == 201, res.body
    notice = res.json_body
    assert set(notice) == {"withdrawal_id", "order_id", "received_at", "refund_due_by", "return_id", "lines"}
    received = datetime.fromisoformat(notice["received_at"].replace("Z", "+00:00"))
    due = datetime.fromisoformat(notice["refund_due_by"].replace("Z", "+00:00"))
    assert due - received == timedelta(days=14)

    ret = send(api, "GET", f"/returns/{notice['return_id']}", None, customer("o-1")).json_body
    assert {i["reason"] for i in ret["items"]} == {"withdrawal"}
    assert ret["withdrawal"] == {k: notice[k] for k in ("withdrawal_id", "received_at", "refund_due_by")}
    assert ret["quote"]["delivery_refund"] == SHIPPING and ret["quote"]["refund_amount"] == CAPTURED
    assert ret["quote"]["return_shipping_fee"] == 0
    kinds = [t["type"] for t in ret["timeline"]]
    assert kinds[0] == "withdrawal.received" and ret["timeline"][0]["at"] == notice["received_at"]
    assert ret["timeline"][0]["detail"]["lines"] == [{"sku": "TSHIRT-M", "qty": 2}, {"sku": "JEANS-32", "qty": 1}]
    # Acknowledged at once, on a durable medium, before any workflow step ran.
    assert _sent_templates() == ["api-test-withdrawal_received-fr"]
    data = json.loads(_sent()[0].template_data[0] if isinstance(_sent()[0].template_data, list)
                      else _sent()[0].template_data)
    assert data["received_at"].endswith("UTC") and " à " in data["received_at"]   # date, time and zone, in French
    assert [(i["sku"], i["qty"]) for i in data["items"]] == [("TSHIRT-M", "2"), ("JEANS-32", "1")]
    assert {"type": "message.sent"}.items() <= next(t for t in ret["timeline"] if t["type"] == "message.sent").items()

    # The same key replays; the same notice without a key finds the first: one return, never two.
    assert _withdraw(api, confirm=True, key="w-1").json_body == notice
    again = _withdraw(api, confirm=True, lines=[{"sku": "JEANS-32", "qty": 1}, {"sku": "TSHIRT-M", "qty": 2}])
    assert again.status_code == 200 and again.json_body == notice
    assert len(send(api, "GET", "/orders/o-1/returns", None, customer("o-1")).json_body["items"]) == 1


def test_a_partial_withdrawal_refunds_no_delivery_and_covers_a_final_sale_line(api):
    lines = order_body()["lines"]
    lines[1]["final_sale"] = True   # a commercial term: the statutory right still covers the line
    _order(api, lines=lines)
    res = _withdraw(api, confirm=True, lines=[{"sku": "JEANS-32", "qty": 1}])
    assert res.status_code == 201, res.body
    ret = send(api, "GET", f"/returns/{res.json_body['return_id']}", None, customer("o-1")).json_body
    assert ret["quote"]["delivery_refund"] == 0 and ret["quote"]["refund_amount"] == 7999


def test_not_shipped_to_the_eu_is_not_applicable(api):
    _order(api, country="US")
    res = _withdraw(api, confirm=False)
    assert res.status_code == 422 and error_of(res)["code"] == "not_applicable"


def test_after_the_withdrawal_period_is_422_and_the_store_window_extends_it(api):
    _order(api, days_ago=31)   # the built-in policy's window is 30 days, longer than the 14 of the law
    res = _withdraw(api, confirm=True)
    assert res.status_code == 422 and error_of(res)["code"] == "withdrawal_period_over"
    _order(api, days_ago=20)
    assert _withdraw(api, confirm=False).status_code == 200


def test_finance_lists_the_notices_of_the_range_with_their_deadline(api):
    _order(api)
    notice = _withdraw(api, confirm=True).json_body
    today = datetime.now(UTC).date()
    res = send(api, "GET", f"/finance/withdrawals?from={today - timedelta(days=1)}&to={today}", None, auth("finance"))
    assert res.status_code == 200, res.body
    assert res.json_body == {"items": [{**{k: notice[k] for k in ("withdrawal_id", "order_id", "return_id",
                                                                    "received_at", "refund_due_by")},
                                        "refunded_at": None, "on_time": None}], "next_cursor": None}
    assert send(api, "GET", f"/finance/withdrawals?from={today}&to={today}", None,
                customer("o-1")).status_code == 403


def test_a_line_that_cannot_be_withdrawn_is_a_422_naming_it_and_nothing_is_written(api):
    _order(api)
    res = _withdraw(api, confirm=True, lines=[{"sku": "JEANS-32", "qty": 1}, {"sku": "NOPE", "qty": 1}])
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "lines[1].sku"
    res = _withdraw(api, confirm=True, lines=[{"sku": "JEANS-32", "qty": 2}])
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "lines[0].qty"
    assert send(api, "GET", "/orders/o-1/returns", None, customer("o-1")).json_body["items"] == []
    assert _sent_templates() == []
