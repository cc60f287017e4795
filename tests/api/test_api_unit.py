"""The Chalice API in-process: chalice.test.Client against moto, tables from the PynamoDB models."""
from __future__ import annotations

import csv
import io
import json

import pytest

from tests.api.support import (
    ENV,
    auth,
    boto,
    customer,
    error_of,
    order_body,
    return_body,
    send,
    ship,
    signed,
    start_return,
    token,
)

# --- service ---------------------------------------------------------------------

def test_health_is_public(api):
    res = api.http.get("/health")
    assert res.status_code == 200
    assert res.json_body["ok"] is True and isinstance(res.json_body["version"], str)


def test_openapi_lists_exactly_the_routes_of_the_app(api):
    import app as app_module

    doc = api.http.get("/openapi.json").json_body
    assert doc["openapi"].startswith("3.0")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    registered = {(path, method) for path, methods in app_module.app.routes.items() for method in methods}
    assert documented == registered
    post = doc["paths"]["/returns"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ReturnCreate"
    item = doc["components"]["schemas"]["ReturnItem"]
    assert item["properties"]["qty"]["minimum"] == 1 and "too_small" in item["properties"]["reason"]["enum"]
    assert doc["paths"]["/health"]["get"]["security"] == []
    assert json.dumps(doc).count("$defs") == 0


def test_unsupported_method_gets_the_error_envelope(api):
    res = api.http.request("DELETE", "/health")
    assert res.status_code == 405
    assert error_of(res)["code"] == "MethodNotAllowedError"


# --- auth --------------------------------------------------------------------------

def test_protected_route_without_token_is_401(api, order):
    res = api.http.get("/orders/o-1/returns")
    assert res.status_code == 401 and error_of(res)["code"] == "unauthorized"
    assert "Bearer" in res.headers["WWW-Authenticate"]


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer "])
def test_bad_token_is_401(api, order, header):
    res = api.http.get("/orders/o-1/returns", headers={"Authorization": header})
    assert res.status_code == 401


def test_forged_and_expired_tokens_are_401(api, order, monkeypatch):
    expired = token("store", ttl=60, now=1_000_000)
    assert api.http.get("/orders/o-1/returns", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    good = token("store")
    monkeypatch.setenv("TOKEN_SECRET", "another-secret")
    assert api.http.get("/orders/o-1/returns", headers={"Authorization": f"Bearer {good}"}).status_code == 401


def test_wrong_role_is_403(api, order):
    res = send(api, "PUT", "/orders/o-1", order_body(), customer("o-1"))
    assert res.status_code == 403 and error_of(res)["code"] == "forbidden"
    res = send(api, "POST", "/warehouse/scans", {"code": "RT-XXXX"}, auth("finance"))
    assert res.status_code == 403


def test_customer_of_another_order_gets_404_never_the_data(api, order):
    ret = start_return(api)
    assert send(api, "PUT", "/orders/o-2", order_body(), auth("store")).status_code == 201
    other = customer("o-2")
    for path in (f"/returns/{ret['return_id']}", f"/returns/{ret['return_id']}/label", "/orders/o-1/returns"):
        res = api.http.get(path, headers=other)
        assert res.status_code == 404, path
        assert "TSHIRT" not in res.body.decode()
    res = send(api, "POST", f"/returns/{ret['return_id']}/cancel", {}, other)
    assert res.status_code == 404
    res = send(api, "POST", "/returns", return_body("o-1"), other)
    assert res.status_code == 404
    # unknown and not-yours look the same
    unknown = api.http.get("/returns/ret_doesnotexist", headers=other)
    assert unknown.status_code == 404 and error_of(unknown)["code"] == error_of(
        api.http.get(f"/returns/{ret['return_id']}", headers=other))["code"]


def test_owner_and_staff_read_a_return(api, order):
    ret = start_return(api)
    for headers in (customer("o-1"), auth("warehouse"), auth("finance"), auth("ops")):
        res = api.http.get(f"/returns/{ret['return_id']}", headers=headers)
        assert res.status_code == 200 and res.json_body["return_id"] == ret["return_id"]
    listed = api.http.get("/orders/o-1/returns", headers=auth("store")).json_body["items"]
    assert [r["return_id"] for r in listed] == [ret["return_id"]]


# --- store -------------------------------------------------------------------------------

def test_put_order_creates_then_updates(api):
    first = send(api, "PUT", "/orders/o-9", order_body(), auth("store"))
    assert first.status_code == 201 and first.json_body == {"order_id": "o-9", "created": True}
    again = send(api, "PUT", "/orders/o-9", order_body(currency="EUR"), auth("store"))
    assert again.status_code == 200 and again.json_body["created"] is False


def test_put_order_validation(api):
    bad_currency = send(api, "PUT", "/orders/o-9", order_body(currency="euro"), auth("store"))
    assert bad_currency.status_code == 422 and error_of(bad_currency)["details"]["field"] == "currency"
    lines = order_body()["lines"]
    lines[0]["unit_price"] = 24.99
    float_price = send(api, "PUT", "/orders/o-9", order_body(lines=lines), auth("store"))
    assert float_price.status_code == 422 and error_of(float_price)["details"]["field"] == "lines[0].unit_price"
    extra = send(api, "PUT", "/orders/o-9", {**order_body(), "admin": True}, auth("store"))
    assert extra.status_code == 400 and error_of(extra)["details"]["field"] == "admin"


def test_changing_lines_with_open_returns_is_409(api, order):
    start_return(api)
    lines = order_body()["lines"][:1]
    res = send(api, "PUT", "/orders/o-1", order_body(lines=lines), auth("store"))
    assert res.status_code == 409 and error_of(res)["code"] == "order_has_open_returns"


# --- lookup --------------------------------------------------------------------------------

def test_lookup_gives_a_customer_token_scoped_to_the_order(api, order):
    res = send(api, "POST", "/returns/lookup", {"order_id": "o-1", "email": " ANA@example.com "})
    assert res.status_code == 200, res.body
    body = res.json_body
    assert body["order"]["order_id"] == "o-1"
    assert {line["sku"]: line["returnable_qty"] for line in body["order"]["lines"]} == {"TSHIRT-M": 2, "JEANS-32": 1}
    assert body["policy"]["window_days"] == 30 and "return_shipping_fee" in body["policy"]
    from returns_core.edge import auth as core_auth

    who = core_auth.verify(body["token"])
    assert (who.role, who.order_id) == ("customer", "o-1")
    mine = api.http.get("/orders/o-1/returns", headers={"Authorization": f"Bearer {body['token']}"})
    assert mine.status_code == 200
    # the portal speaks the order's language and offers only the countries the carrier serves;
    # of the customer, only the locale (no name, email or phone)
    assert body["order"]["customer"] == {"locale": "fr-FR"}
    from returns_core.outbound.carriers import get_carrier

    # Issue 29: the demo carrier serves nine countries (it served FR and BE before).
    assert body["dropoff_countries"] == sorted(get_carrier().countries()) == [
        "AT", "BE", "DE", "ES", "FR", "IT", "LU", "NL", "PT"]


def test_lookup_is_the_same_404_for_unknown_order_and_wrong_email(api, order):
    wrong_email = send(api, "POST", "/returns/lookup", {"order_id": "o-1", "email": "eve@example.com"})
    unknown = send(api, "POST", "/returns/lookup", {"order_id": "o-404", "email": "ana@example.com"})
    assert wrong_email.status_code == unknown.status_code == 404
    assert wrong_email.json_body == unknown.json_body


# The lookup's limits on guessing: tests/api/test_lookup_limits.py.


# --- returns ---------------------------------------------------------------------------------

def test_create_return_201_with_the_whole_return(api, order):
    ret = start_return(api)
    assert ret["status"] == "requested" and ret["order_id"] == "o-1"
    assert ret["items"][0]["sku"] == "TSHIRT-M" and ret["items"][0]["qty"] == 1
    assert ret["quote"]["items_total"] == 2499 and ret["timeline"][0]["type"] == "return.requested"
    fetched = api.http.get(f"/returns/{ret['return_id']}", headers=customer("o-1")).json_body
    assert fetched["return_id"] == ret["return_id"]


def test_store_may_create_a_return_for_its_customer(api, order):
    res = send(api, "POST", "/returns", return_body(), auth("store", sub="store:backoffice"))
    assert res.status_code == 201
    assert res.json_body["timeline"][0]["actor"] == "store:backoffice"


def test_over_quantity_is_422_naming_the_field(api, order):
    res = send(api, "POST", "/returns", return_body(qty=3), customer("o-1"))
    assert res.status_code == 422
    err = error_of(res)
    assert err["code"] == "over_quantity" and err["details"]["field"] == "items[0].qty"


@pytest.mark.parametrize("qty,status", [(1.5, 422), ("1", 400), (True, 400), (0, 422), (-2, 422), (10**6, 422),
                                        (10**30, 422), (1e300, 422)])
def test_quantity_must_be_a_positive_integer(api, order, qty, status):
    res = send(api, "POST", "/returns", return_body(qty=qty), customer("o-1"))
    assert res.status_code == status, res.body
    assert error_of(res)["details"]["field"] == "items[0].qty"


def test_bad_enums_are_422_naming_the_field(api, order):
    body = return_body()
    body["items"][0]["reason"] = "bored"
    res = send(api, "POST", "/returns", body, customer("o-1"))
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "items[0].reason"
    res = send(api, "POST", "/returns", return_body(resolution="cash"), customer("o-1"))
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "resolution"
    res = send(api, "POST", "/returns", return_body(dropoff={"method": "drone"}), customer("o-1"))
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "dropoff.method"


def test_unknown_relay_point_is_422(api, order):
    res = send(api, "POST", "/returns", return_body(dropoff={"method": "relay_point", "relay_point_id": "nope"}),
               customer("o-1"))
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "dropoff.relay_point_id"


@pytest.mark.parametrize("raw", [b"{", b"not json", b"[1, 2]", b"", b'{"order_id": NaN}', b"\xff\xfe"])
def test_malformed_json_is_400(api, order, raw):
    res = send(api, "POST", "/returns", raw, customer("o-1"))
    assert res.status_code == 400, res.body
    assert error_of(res)["code"] in ("invalid_json", "invalid_request")


def test_body_over_256_kib_is_413(api, order):
    body = return_body()
    body["items"][0]["comment"] = "x" * (257 * 1024)
    res = send(api, "POST", "/returns", body, customer("o-1"))
    assert res.status_code == 413 and error_of(res)["code"] == "payload_too_large"


def test_long_comment_is_422(api, order):
    body = return_body()
    body["items"][0]["comment"] = "x" * 501
    res = send(api, "POST", "/returns", body, customer("o-1"))
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "items[0].comment"


# --- idempotency -------------------------------------------------------------------------------

def test_idempotency_key_replays_the_same_response_and_creates_one_return(api, order):
    headers = {**customer("o-1"), "Idempotency-Key": "k-123"}
    first = send(api, "POST", "/returns", return_body(), headers)
    # the same body serialised differently is still the same request
    second = send(api, "POST", "/returns", json.dumps(return_body(), indent=2), headers)
    assert first.status_code == second.status_code == 201
    assert first.json_body == second.json_body
    assert second.headers.get("Idempotent-Replayed") == "true"
    items = api.http.get("/orders/o-1/returns", headers=customer("o-1")).json_body["items"]
    assert len(items) == 1


def test_idempotency_key_with_another_body_is_422(api, order):
    headers = {**customer("o-1"), "Idempotency-Key": "k-1"}
    assert send(api, "POST", "/returns", return_body(), headers).status_code == 201
    res = send(api, "POST", "/returns", return_body(qty=2), headers)
    assert res.status_code == 422 and error_of(res)["code"] == "idempotency_key_reused"


def test_idempotency_key_is_scoped_to_the_principal(api, order):
    key = {"Idempotency-Key": "shared"}
    a = send(api, "POST", "/returns", return_body(), {**customer("o-1"), **key})
    b = send(api, "POST", "/returns", return_body(), {**auth("store"), **key})
    assert a.status_code == b.status_code == 201 and a.json_body["return_id"] != b.json_body["return_id"]


def test_racing_request_with_the_same_key_gets_409(api, order):
    """A claim held by a request still running: the second one must not run the effect."""
    from returns_core.store.models import RequestRecordModel

    headers = {**customer("o-1"), "Idempotency-Key": "race"}
    original = RequestRecordModel.save
    state = {}

    def save_then_race(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        if not state:
            state["racer"] = send(api, "POST", "/returns", return_body(), headers)
        return out

    RequestRecordModel.save = save_then_race
    try:
        winner = send(api, "POST", "/returns", return_body(), headers)
    finally:
        RequestRecordModel.save = original
    assert winner.status_code == 201
    assert state["racer"].status_code == 409 and error_of(state["racer"])["code"] == "request_in_progress"
    assert len(api.http.get("/orders/o-1/returns", headers=customer("o-1")).json_body["items"]) == 1
    # the finished request is then replayed
    assert send(api, "POST", "/returns", return_body(), headers).json_body == winner.json_body


def test_a_failed_request_releases_its_key(api, order):
    headers = {**customer("o-1"), "Idempotency-Key": "retry-me"}
    ret = start_return(api)
    ship(ret["return_id"], status="in_transit")
    res = send(api, "POST", f"/returns/{ret['return_id']}/cancel", {}, headers)
    assert res.status_code == 409
    assert send(api, "POST", f"/returns/{ret['return_id']}/cancel", {}, headers).status_code == 409


# --- lifecycle routes ---------------------------------------------------------------------------

def test_cancel_before_dropoff_then_409_in_transit(api, order):
    ret = start_return(api)
    res = send(api, "POST", f"/returns/{ret['return_id']}/cancel", None, customer("o-1"))
    assert res.status_code == 200 and res.json_body["status"] == "cancelled"
    lines = send(api, "POST", "/returns/lookup", {"order_id": "o-1", "email": "ana@example.com"}).json_body
    assert {x["sku"]: x["returnable_qty"] for x in lines["order"]["lines"]}["TSHIRT-M"] == 2
    other = start_return(api)
    ship(other["return_id"], status="in_transit")
    res = send(api, "POST", f"/returns/{other['return_id']}/cancel", {}, customer("o-1"))
    assert res.status_code == 409 and error_of(res)["details"]["status"] == "in_transit"


def test_confirm_and_dispute_are_409_before_the_refund(api, order):
    ret = start_return(api)
    res = send(api, "POST", f"/returns/{ret['return_id']}/confirm", {"satisfied": True}, customer("o-1"))
    assert res.status_code == 409
    res = send(api, "POST", f"/returns/{ret['return_id']}/dispute", {"message": "where is my money"},
               customer("o-1"))
    assert res.status_code == 409
    res = send(api, "POST", f"/returns/{ret['return_id']}/confirm", {"satisfied": "yes"}, customer("o-1"))
    assert res.status_code == 400 and error_of(res)["details"]["field"] == "satisfied"


def test_confirm_closes_a_refunded_return(api, order):
    ret = start_return(api)
    ship(ret["return_id"], status="refunded")
    res = send(api, "POST", f"/returns/{ret['return_id']}/confirm", {"satisfied": True, "comment": "thanks"},
               customer("o-1"))
    assert res.status_code == 200 and res.json_body["status"] == "closed"


def test_review_by_ops(api, order):
    from returns_core.store.models import ReturnModel

    ret = start_return(api)
    ReturnModel(ret["return_id"]).update(actions=[ReturnModel.status.set("in_review")], add_version_condition=False)
    assert send(api, "POST", f"/returns/{ret['return_id']}/review", {"decision": "approve"},
                auth("warehouse")).status_code == 403
    res = send(api, "POST", f"/returns/{ret['return_id']}/review", {"decision": "maybe"}, auth("ops"))
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "decision"
    res = send(api, "POST", f"/returns/{ret['return_id']}/review", {"decision": "approve", "note": "ok"}, auth("ops"))
    assert res.status_code == 200 and res.json_body["status"] == "requested"


def test_refund_approval_needs_four_eyes(api, order):
    from returns_core.store.models import ReturnModel

    ret = start_return(api)
    ReturnModel(ret["return_id"]).update(actions=[
        ReturnModel.status.set("awaiting_approval"),
        ReturnModel.inspection.set({"by": "finance:bob", "at": "2026-01-01T00:00:00Z", "items": []})],
        add_version_condition=False)
    path = f"/returns/{ret['return_id']}/refund/approve"
    res = send(api, "POST", path, {"note": "mine"}, auth("finance", sub="finance:bob"))
    assert res.status_code == 403 and error_of(res)["code"] == "four_eyes"
    res = send(api, "POST", path, {"note": "ok"}, auth("finance", sub="finance:carol"))
    assert res.status_code == 200 and res.json_body["status"] == "refunding"
    from returns_core.store.returns import get

    assert get(ret["return_id"]).approval["by"] == "finance:carol"


def _waiting_for_finance(return_id: str, status: str, inspector: str, refund: dict | None = None) -> None:
    from returns_core.store.models import ReturnModel

    actions = [ReturnModel.status.set(status), ReturnModel.status_since.set("2026-01-01T00:00:00Z"),
               ReturnModel.inspection.set({"by": inspector, "at": "2026-01-01T00:00:00Z", "items": []})]
    if refund is not None:
        actions.append(ReturnModel.refund.set(refund))
    ReturnModel(return_id).update(actions=actions, add_version_condition=False)


def test_finance_queue_lists_what_waits_for_finance(api, order):
    to_approve, manual = start_return(api), start_return(api)
    paying = send(api, "POST", "/returns", return_body(items=[{"sku": "JEANS-32", "qty": 1, "reason": "too_small"}]),
                  customer("o-1")).json_body
    _waiting_for_finance(to_approve["return_id"], "awaiting_approval", "wh:bob")
    _waiting_for_finance(manual["return_id"], "refunding", "wh:bob",
                         {"amount": 2004, "method": "refund", "status": "pending_manual", "provider": "manual"})
    _waiting_for_finance(paying["return_id"], "refunding", "wh:bob",   # a card refund being paid: not finance's
                         {"amount": 2004, "method": "refund", "status": "paying"})
    res = send(api, "GET", "/finance/queue", None, auth("finance", sub="fin:ann"))
    assert res.status_code == 200, res.body
    body = res.json_body
    approvals = [r for r in body["awaiting_approval"] if r["return_id"] == to_approve["return_id"]]
    assert len(approvals) == 1 and approvals[0]["inspected_by"] == "wh:bob"   # the page shows who may not approve
    assert approvals[0]["quote"]["refund_amount"] > 0 and approvals[0]["currency"] == "EUR"
    assert [r["return_id"] for r in body["awaiting_manual_refund"]] == [manual["return_id"]]
    assert body["awaiting_manual_refund"][0]["refund"]["status"] == "pending_manual"
    assert send(api, "GET", "/finance/queue", None, auth("warehouse")).status_code == 403


# --- carrier -----------------------------------------------------------------------------------

def test_carrier_signature_good_bad_missing(api, order):
    ret = start_return(api)
    ship(ret["return_id"], tracking="LC12345678903")
    event = json.dumps({"tracking_number": "LC12345678903", "event": "dropped_off",
                        "occurred_at": "2026-11-02T10:00:00Z", "location": "Paris"}).encode()
    missing = api.http.post("/carrier/events", body=event, headers={"Content-Type": "application/json"})
    assert missing.status_code == 401
    bad = api.http.post("/carrier/events", body=event, headers=signed(event, "wrong-secret"))
    assert bad.status_code == 401 and error_of(bad)["code"] == "bad_signature"
    tampered = api.http.post("/carrier/events", body=event.replace(b"Paris", b"Lyon"), headers=signed(event))
    assert tampered.status_code == 401
    good = api.http.post("/carrier/events", body=event, headers=signed(event))
    assert good.status_code == 202, good.body
    assert good.json_body["status"] == "in_transit"
    repeat = api.http.post("/carrier/events", body=event, headers=signed(event))
    assert repeat.status_code == 200 and repeat.json_body["duplicate"] is True
    view = api.http.get(f"/returns/{ret['return_id']}", headers=customer("o-1")).json_body
    assert view["status"] == "in_transit"
    assert [t["type"] for t in view["timeline"]].count("carrier.dropped_off") == 1


def test_carrier_unknown_tracking_is_404_and_bad_event_422(api):
    event = json.dumps({"tracking_number": "LC99999999999", "event": "delivered",
                        "occurred_at": "2026-11-02T10:00:00Z"}).encode()
    res = api.http.post("/carrier/events", body=event, headers=signed(event))
    assert res.status_code == 404 and error_of(res)["code"] == "unknown_tracking_number"
    event = json.dumps({"tracking_number": "LC1", "event": "teleported",
                        "occurred_at": "2026-11-02T10:00:00Z"}).encode()
    res = api.http.post("/carrier/events", body=event, headers=signed(event))
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "event"


# --- warehouse -----------------------------------------------------------------------------------

def test_scan_unknown_code_is_404_and_listed_as_unmatched(api):
    res = send(api, "POST", "/warehouse/scans", {"code": "RT-NOPE1234"}, auth("warehouse", sub="warehouse:wes"))
    assert res.status_code == 404 and error_of(res)["code"] == "unknown_parcel"
    listed = api.http.get("/warehouse/unmatched", headers=auth("warehouse")).json_body["items"]
    assert [(x["code"], x["actor"]) for x in listed] == [("RT-NOPE1234", "warehouse:wes")]
    assert api.http.get("/warehouse/unmatched", headers=auth("finance")).status_code == 403


def test_scan_receives_once_then_inspection(api, order):
    ret = start_return(api)
    ship(ret["return_id"], status="in_transit")
    first = send(api, "POST", "/warehouse/scans", {"code": ret_code(ret)}, auth("warehouse"))
    assert first.status_code == 200, first.body
    assert first.json_body["status"] == "received" and first.json_body["already_received"] is False
    assert first.json_body["expected_items"] == [{"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 1}]
    again = send(api, "POST", "/warehouse/scans", {"code": ret_code(ret)}, auth("warehouse"))
    assert again.json_body["already_received"] is True
    path = f"/returns/{ret['return_id']}/inspection"
    over = send(api, "POST", path, {"items": [{"sku": "TSHIRT-M", "qty": 2, "condition": "resellable"}]},
                auth("warehouse"))
    assert over.status_code == 422 and error_of(over)["details"]["field"] == "items[0].qty"
    res = send(api, "POST", path, {"items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "opened"}]},
               auth("warehouse", sub="warehouse:wes"))
    assert res.status_code == 200 and res.json_body["status"] == "inspected"
    assert res.json_body["items"][0]["condition"] == "opened"


def ret_code(ret: dict) -> str:
    from returns_core.store.returns import get

    return get(ret["return_id"]).code


def test_queue_pages_by_status(api, order):
    ret = start_return(api)
    res = api.http.get("/warehouse/queue?status=requested&limit=1", headers=auth("warehouse"))
    assert res.status_code == 200 and [x["return_id"] for x in res.json_body["items"]] == [ret["return_id"]]
    assert api.http.get("/warehouse/queue?status=nope", headers=auth("warehouse")).status_code == 422
    assert api.http.get("/warehouse/queue?cursor=%%%", headers=auth("warehouse")).status_code == 400


# --- labels, relay points, finance -----------------------------------------------------------------

def test_label_is_404_until_issued_then_pdf(api, order):
    ret = start_return(api)
    res = api.http.get(f"/returns/{ret['return_id']}/label", headers={**customer("o-1"), "Accept": "application/pdf"})
    assert res.status_code == 404 and error_of(res)["code"] == "label_not_ready"
    ship(ret["return_id"])
    boto("s3").put_object(Bucket=ENV["LABELS_BUCKET"], Key=f"labels/{ret['return_id']}.pdf",
                                  Body=b"%PDF-1.4 test")
    res = api.http.get(f"/returns/{ret['return_id']}/label", headers={**customer("o-1"), "Accept": "application/pdf"})
    assert res.status_code == 200 and res.headers["Content-Type"] == "application/pdf"
    assert res.body == b"%PDF-1.4 test"
    no_accept = api.http.get(f"/returns/{ret['return_id']}/label", headers=customer("o-1"))
    assert no_accept.status_code == 200 and no_accept.body == b"%PDF-1.4 test"


def test_relay_points(api):
    res = api.http.get("/relay-points?postcode=75011&country=FR&limit=3")
    assert res.status_code == 200, res.body
    items = res.json_body["items"]
    assert 0 < len(items) <= 3 and {"id", "name", "distance_km", "opening_hours"} <= set(items[0])
    assert api.http.get("/relay-points?postcode=75011&country=FR&limit=2.5").status_code == 400
    assert api.http.get("/relay-points?postcode=75011&country=FR&limit=0").status_code == 422
    missing = api.http.get("/relay-points?country=FR")
    assert missing.status_code == 400 and error_of(missing)["details"]["field"] == "postcode"


def test_ledger_verify_on_an_empty_ledger(api):
    res = api.http.get("/finance/ledger/verify", headers=auth("finance"))
    assert res.status_code == 200 and res.json_body == {"ok": True, "checked": 0, "first_bad_seq": None,
                                                        "reason": None, "anchored_seq": None}
    assert api.http.get("/finance/ledger/verify?from=2026-13-01", headers=auth("finance")).status_code in (400, 422)
    assert api.http.get("/finance/ledger/verify", headers=auth("ops")).status_code == 403


def test_ledger_verify_is_a_503_when_the_settle_function_does_not_answer(api):
    from returns_core import aws as core_aws

    core_aws.client("lambda").meta.events.unregister("before-call.lambda.Invoke", unique_id="settle-ledger-check")
    res = api.http.get("/finance/ledger/verify", headers=auth("finance"))   # moto: no such function
    assert res.status_code == 503 and error_of(res)["code"] == "ledger_check_unavailable"


def test_refunds_and_the_csv_carry_the_bonus_in_minor_units(api):
    from returns_core.rules import ledger_chain
    from returns_core.store import ledger
    from returns_core.store.models import LedgerEntryModel

    prev = ledger_chain.GENESIS
    for seq, bonus in ((1, None), (2, 150), (3, 0)):
        entry = LedgerEntryModel("refunds", seq, entry_id=f"r{seq}:refund:1", kind="store_credit", return_id=f"r{seq}",
                                 order_id="o-1", amount=1000 * seq, bonus=bonus, currency="EUR", method="store_credit",
                                 reference=f"credit:{seq}", inspected_by="w", approved_by=None,
                                 issued_at=f"2026-11-0{seq}T10:00:00.000Z", issued_day=f"2026-11-0{seq}",
                                 prev_hash=prev)
        ledger.seal(entry, b"test-key").save()
        prev = entry.hash
    rows = api.http.get("/finance/refunds?from=2026-11-01&to=2026-11-30", headers=auth("finance")).json_body
    assert [(r["seq"], r["amount"], r["bonus"]) for r in rows["items"]] == [(1, 1000, 0), (2, 2000, 150), (3, 3000, 0)]
    csv_res = api.http.get("/finance/refunds.csv?from=2026-11-01&to=2026-11-30", headers=auth("finance"))
    lines = list(csv.DictReader(io.StringIO(csv_res.body.decode())))
    assert csv_res.status_code == 200 and [(r["seq"], r["amount"], r["bonus"]) for r in lines] == \
        [("1", "1000", "0"), ("2", "2000", "150"), ("3", "3000", "0")]
    assert list(lines[0])[:4] == ["seq", "return_id", "order_id", "amount"] and list(lines[0])[-2:] == ["bonus", "kind"]


def test_no_configuration_is_read_at_import(load_handler):
    app_module = load_handler("api", unset=(*ENV, "STATE_MACHINE_ARN", "EVENTS_TOPIC_ARN", "OPS_TOPIC_ARN"))
    assert app_module.app.app_name == "returns-api" and not app_module.app.debug


def test_schema_enums_are_the_domains():
    from typing import get_args

    from chalicelib import schemas
    from returns_core.rules import carrier_moves, policy, statuses

    assert get_args(schemas.Reason) == policy.REASONS
    assert get_args(schemas.Condition) == policy.CONDITIONS
    assert get_args(schemas.Status) == statuses.ALL
    assert get_args(schemas.CarrierEventType) == carrier_moves.EVENTS


def test_exchange_shipped_is_for_exchanges_the_store_was_asked_for(api, order):
    ret = start_return(api)   # a refund: the store never ships anything back
    path = f"/returns/{ret['return_id']}/exchange/shipped"
    res = send(api, "POST", path, {"tracking_number": "1Z999AA10123456784"}, auth("store"))
    assert res.status_code == 409 and error_of(res)["code"] == "exchange_not_requested"
    for body, field in (({"tracking_number": "no spaces allowed"}, "tracking_number"),
                        ({"tracking_number": "1Z9999", "tracking_url": "javascript:alert(1)"}, "tracking_url"),
                        ({}, "tracking_number")):
        res = send(api, "POST", path, body, auth("store"))
        assert res.status_code in (400, 422) and error_of(res)["details"]["field"] == field, (body, res.body)
    res = send(api, "POST", "/returns/ret_doesnotexist/exchange/shipped", {"tracking_number": "1Z9999"},
               auth("store"))
    assert res.status_code == 404
