"""Issue 19, customer service: finding a customer by email, order or tracking number with one merged
timeline (POST /ops/customers/search), the ops queues (GET /ops/queue), and a return ops starts with an
exception to the eligibility rules (POST /returns with `exception`). In-process app on moto."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.support import auth, customer, error_of, order_body, return_body, send, ship


def _ops():
    return auth("ops", sub="ops:carla")


def _put_order(api, order_id: str, email: str, name: str = "Ana", **overrides) -> None:
    body = order_body(customer={"email": email, "name": name, "phone": "+33600000000", "locale": "en"},
                      **overrides)
    res = send(api, "PUT", f"/orders/{order_id}", body, auth("store"))
    assert res.status_code == 201, res.body


def _return(api, order_id: str) -> str:
    res = send(api, "POST", "/returns", return_body(order_id), customer(order_id))
    assert res.status_code == 201, res.body
    return res.json_body["return_id"]


def _search(api, **key):
    return send(api, "POST", "/ops/customers/search", key, _ops())


@pytest.fixture
def two_customers(api):
    """Ana with two orders (her email typed differently on the second) and a return on each, one of them
    disputed and texted about; Bob with one order and one return."""
    from returns_core.store.returns import get
    from returns_core.usecases import notify

    _put_order(api, "o-ana-1", "ana@example.com")
    _put_order(api, "o-ana-2", "  Ana@Example.COM ")
    _put_order(api, "o-bob-1", "bob@example.com", name="Bob")
    first = _return(api, "o-ana-1")
    bob = _return(api, "o-bob-1")
    second = _return(api, "o-ana-2")
    ship(first, tracking="LC00000000011", status="refunded")
    ship(bob, tracking="LC00000000022")
    res = send(api, "POST", f"/returns/{first}/dispute", {"message": "one sock is missing"}, customer("o-ana-1"))
    assert res.status_code == 200, res.body
    notify.sms(get(second), "label_ready")      # a message sent: recorded as notify records every send
    return {"first": first, "second": second, "bob": bob}


def test_each_key_finds_the_same_customer_and_only_theirs(api, two_customers):
    by_email = _search(api, email="ANA@example.com ")
    by_order = _search(api, order_id="o-ana-2")
    by_tracking = _search(api, tracking_number="LC00000000011")
    for res in (by_email, by_order, by_tracking):
        assert res.status_code == 200, res.body
        body = res.json_body
        assert body["customer"]["name"] == "Ana"
        assert {o["order_id"] for o in body["orders"]} == {"o-ana-1", "o-ana-2"}
        assert {r["return_id"] for r in body["returns"]} == {two_customers["first"], two_customers["second"]}
        assert body["claims"] == [] and body["truncated"] is False
        # Nothing of Bob's, anywhere in the answer.
        assert two_customers["bob"] not in res.body.decode() and "o-bob-1" not in res.body.decode()
        assert "bob@example.com" not in res.body.decode()
    assert by_email.json_body == by_order.json_body == by_tracking.json_body


def test_the_timeline_merges_returns_disputes_and_messages_newest_first(api, two_customers):
    body = _search(api, email="ana@example.com").json_body
    timeline = body["timeline"]
    ats = [datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in timeline]
    assert ats == sorted(ats, reverse=True)
    kinds = [(e["type"], e.get("return_id")) for e in timeline]
    first, second = two_customers["first"], two_customers["second"]
    # One list, not one block per return: the dispute on the first return (after the second was
    # requested) comes before the second return's request, and the text message after both.
    assert kinds.index(("message.sent", second)) < kinds.index(("return.disputed", first)) \
        < kinds.index(("return.requested", second)) < kinds.index(("return.requested", first))
    sms = next(e for e in timeline if e["type"] == "message.sent")
    assert sms["channel"] == "sms" and sms["return_id"] == second
    disputed = next(e for e in timeline if e["type"] == "return.disputed")
    assert disputed["detail"] == {"message": "one sock is missing"} or "one sock" in str(disputed["detail"])
    # The orders are in it too, each entry saying where it comes from.
    assert {e["order_id"] for e in timeline if e["type"] == "order.placed"} == {"o-ana-1", "o-ana-2"}
    assert all("return_id" in e or e["type"].startswith("order.") for e in timeline)


def test_a_claim_is_in_the_customers_search_and_merged_into_the_timeline(api, two_customers):
    claim = send(api, "POST", "/claims", {"order_id": "o-ana-2", "kind": "damaged_on_arrival",
                                         "lines": [{"sku": "TSHIRT-M", "qty": 1}], "message": "torn seam"},
                 customer("o-ana-2"))
    assert claim.status_code == 201, claim.body
    claim_id = claim.json_body["claim_id"]
    bob_claim = send(api, "POST", "/claims", {"order_id": "o-bob-1", "kind": "not_received",
                                             "lines": [{"sku": "TSHIRT-M", "qty": 1}], "message": "never came"},
                     customer("o-bob-1"))
    assert bob_claim.status_code == 201, bob_claim.body
    body = _search(api, email="ana@example.com").json_body
    assert [c["claim_id"] for c in body["claims"]] == [claim_id]
    assert body["claims"][0]["status"] == "open" and body["claims"][0]["kind"] == "damaged_on_arrival"
    claim_entries = [e for e in body["timeline"] if e.get("claim_id")]
    assert claim_entries and {e["claim_id"] for e in claim_entries} == {claim_id}
    ats = [e["at"] for e in body["timeline"]]
    assert ats == sorted(ats, reverse=True)
    assert bob_claim.json_body["claim_id"] not in str(body)


def test_the_timeline_is_bounded_and_says_so(api, two_customers):
    from returns_core.usecases import customer_search

    whole = customer_search.search(email="ana@example.com")
    capped = customer_search.search(email="ana@example.com", limit=3)
    assert len(whole["timeline"]) > 3 and whole["truncated"] is False
    assert capped["truncated"] is True
    assert capped["timeline"] == whole["timeline"][:3]      # the newest kept


@pytest.mark.parametrize("key", [{"email": "nobody@example.com"}, {"order_id": "o-none"},
                                 {"tracking_number": "LC99999999999"}])
def test_an_unknown_customer_is_404(api, two_customers, key):
    res = _search(api, **key)
    assert res.status_code == 404 and error_of(res)["code"] == "customer_not_found"


@pytest.mark.parametrize("body, status, field", [
    ({}, 422, "email"),
    ({"email": "ana@example.com", "order_id": "o-ana-1"}, 422, "order_id"),
    ({"order_id": "o-ana-1", "tracking_number": "LC00000000011"}, 422, "tracking_number"),
    ({"email": "not-an-email"}, 422, "email"),
    ({"tracking_number": "LC 1; drop"}, 422, "tracking_number"),
    ({"name": "Ana"}, 400, "name"),     # a field the search does not know: the body's shape is wrong
])
def test_a_search_names_the_bad_field(api, body, status, field):
    res = send(api, "POST", "/ops/customers/search", body, _ops())
    assert res.status_code == status, res.body
    assert error_of(res)["details"]["field"] == field


def test_search_and_queue_are_for_ops_only(api, two_customers):
    assert _search(api, email="ana@example.com").status_code == 200
    assert send(api, "GET", "/ops/queue?status=in_review", None, _ops()).status_code == 200
    for headers in (auth("store"), auth("warehouse"), auth("finance"), customer("o-ana-1")):
        assert send(api, "POST", "/ops/customers/search", {"email": "ana@example.com"}, headers).status_code == 403
        assert send(api, "GET", "/ops/queue?status=in_review", None, headers).status_code == 403


def test_the_queue_lists_one_status_oldest_first(api, two_customers):
    res = send(api, "GET", "/ops/queue?status=refunded", None, _ops())
    assert res.status_code == 200, res.body
    assert [r["return_id"] for r in res.json_body["items"]] == []      # the refunded one is disputed now
    disputed = send(api, "GET", "/ops/queue?status=disputed", None, _ops()).json_body["items"]
    assert [r["return_id"] for r in disputed] == [two_customers["first"]]
    assert disputed[0]["overdue"] is False and disputed[0]["tracking_number"] == "LC00000000011"
    bad = send(api, "GET", "/ops/queue?status=nope", None, _ops())
    assert bad.status_code == 422 and error_of(bad)["details"]["field"] == "status"


def test_the_queue_says_when_a_review_is_overdue(api, order, monkeypatch):
    from returns_core.store.models import ReturnModel
    from returns_core.store.returns import get

    rid = _return(api, "o-1")
    long_ago = (datetime.now(UTC) - timedelta(days=8)).isoformat().replace("+00:00", "Z")
    get(rid).update(actions=[ReturnModel.status.set("in_review"), ReturnModel.status_since.set(long_ago)])
    rows = send(api, "GET", "/ops/queue?status=in_review", None, _ops()).json_body["items"]
    assert [(r["return_id"], r["overdue"]) for r in rows] == [(rid, True)]
    monkeypatch.setenv("REVIEW_TIMEOUT_SECONDS", str(9 * 86400))
    rows = send(api, "GET", "/ops/queue?status=in_review", None, _ops()).json_body["items"]
    assert [(r["return_id"], r["overdue"]) for r in rows] == [(rid, False)]


# --- an ops exception --------------------------------------------------------------------------

def _ineligible_order(api) -> None:
    """Delivered 40 days ago (past the 30-day window), the T-shirt a final sale."""
    long_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    body = order_body(placed_at=long_ago, delivered_at=long_ago)
    body["lines"][0]["final_sale"] = True
    res = send(api, "PUT", "/orders/o-1", body, auth("store"))
    assert res.status_code == 201, res.body


def _exception(reason: str = "Customer was in hospital; goodwill") -> dict:
    return return_body("o-1", exception={"reason": reason})


def test_without_an_exception_ops_gets_the_customers_eligibility(api):
    _ineligible_order(api)
    for headers in (customer("o-1"), _ops()):
        res = send(api, "POST", "/returns", return_body("o-1"), headers)
        assert res.status_code == 422 and error_of(res)["code"] == "not_eligible", res.body


def test_an_ops_exception_waives_the_failed_rules_and_names_them(api):
    _ineligible_order(api)
    res = send(api, "POST", "/returns", _exception(), _ops())
    assert res.status_code == 201, res.body
    ret = res.json_body
    assert ret["exception"]["reason"] == "Customer was in hospital; goodwill"
    assert ret["exception"]["by"] == "ops:carla"
    assert [(w["sku"], w["rule"]) for w in ret["exception"]["waived"]] == [("TSHIRT-M", "final_sale"),
                                                                           ("TSHIRT-M", "window")]
    granted = [t for t in ret["timeline"] if t["type"] == "exception.granted"]
    assert len(granted) == 1 and granted[0]["actor"] == "ops:carla"
    assert granted[0]["detail"]["reason"] == "Customer was in hospital; goodwill"
    assert {w["rule"] for w in granted[0]["detail"]["waived"]} == {"final_sale", "window"}
    assert "30-day return window" in str(granted[0]["detail"]["waived"])
    assert ret["timeline"][0]["actor"] == "ops:carla"
    # Customer service sees it in the customer's one timeline.
    found = _search(api, order_id="o-1").json_body
    assert any(e["type"] == "exception.granted" and e["return_id"] == ret["return_id"] for e in found["timeline"])


def test_an_exception_waives_a_resolution_the_policy_does_not_allow(api):
    res = send(api, "PUT", "/policy", {"policy": {"defaults": {"resolutions": ["store_credit"]}}}, auth("store"))
    assert res.status_code == 200, res.body
    send(api, "PUT", "/orders/o-1", order_body(), auth("store"))
    refused = send(api, "POST", "/returns", return_body("o-1"), _ops())
    assert refused.status_code == 422 and error_of(refused)["code"] == "resolution_not_allowed"
    res = send(api, "POST", "/returns", _exception("Card refund promised on the phone"), _ops())
    assert res.status_code == 201, res.body
    assert [(w["sku"], w["rule"]) for w in res.json_body["exception"]["waived"]] == [("TSHIRT-M", "resolution")]


def test_an_exception_never_returns_more_than_is_left(api):
    _ineligible_order(api)
    res = send(api, "POST", "/returns", return_body("o-1", qty=3, exception={"reason": "goodwill"}), _ops())
    assert res.status_code == 422 and error_of(res)["code"] == "over_quantity"


@pytest.mark.parametrize("role", ["customer", "store"])
def test_only_ops_may_send_an_exception(api, role):
    from returns_core.store.models import ReturnModel

    _ineligible_order(api)
    headers = customer("o-1") if role == "customer" else auth("store")
    res = send(api, "POST", "/returns", _exception(), headers)
    assert res.status_code == 403, res.body
    err = error_of(res)
    assert (err["code"], err["details"]["field"]) == ("exception_not_allowed", "exception")
    assert list(ReturnModel.by_order.query("o-1")) == []       # nothing written


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_an_exception_needs_a_reason_of_1_to_500_characters(api, reason):
    _ineligible_order(api)
    res = send(api, "POST", "/returns", _exception(reason), _ops())
    assert res.status_code == 422, res.body
    assert error_of(res)["details"]["field"] == "exception.reason"
