"""Issue 17: the store's returns policy through the API (test_api_unit's in-process harness).

GET/PUT /policy and its versions, a 422 naming the bad field, lookup lines naming their rule, a
return pinned to its version for its whole life, keep_item returns, POST /policy/simulate.
"""
from __future__ import annotations

import pytest

from tests.api.support import auth, customer, error_of, order_body, return_body, send, ship

SWIMWEAR = {"id": "no-swimwear", "match": {"category": ["swimwear"]},
            "set": {"returnable": False, "message": "Swimwear cannot be returned for hygiene reasons."}}


def publish(api, document: dict, role: str = "store"):
    return send(api, "PUT", "/policy", {"policy": document}, auth(role))


def test_the_built_in_defaults_are_version_1_until_the_store_publishes(api):
    res = send(api, "GET", "/policy", None, auth("finance"))
    assert res.status_code == 200 and res.json_body["version"] == 1
    assert res.json_body["policy"]["defaults"]["approval_above"] == 50000
    first = publish(api, {"rules": [SWIMWEAR]})
    assert first.status_code == 200, first.body
    assert first.json_body["version"] == 2 and first.json_body["updated_by"] == "store:alice"
    second = publish(api, {"defaults": {"window_days": 60}})
    assert second.json_body["version"] == 3
    assert send(api, "GET", "/policy", None, auth("ops")).json_body["version"] == 3
    old = send(api, "GET", "/policy?version=2", None, auth("store"))
    assert old.json_body["version"] == 2 and old.json_body["policy"] == {"rules": [SWIMWEAR]}   # never changed
    assert send(api, "GET", "/policy?version=9", None, auth("store")).status_code == 404


def test_only_the_store_publishes_and_customers_do_not_read(api):
    assert publish(api, {}, role="ops").status_code == 403
    assert send(api, "GET", "/policy", None, customer("o-1")).status_code == 403
    assert send(api, "GET", "/policy", None, auth("warehouse")).status_code == 403


def test_an_invalid_policy_is_422_naming_the_field_and_nothing_is_published(api):
    bad = {"rules": [{"id": "a", "set": {}}, {"id": "b", "set": {}}, {"id": "c", "set": {"window_days": -5}}]}
    res = publish(api, bad)
    assert res.status_code == 422, res.body
    assert error_of(res)["details"]["field"] == "policy.rules[2].set.window_days"
    assert send(api, "GET", "/policy", None, auth("store")).json_body["version"] == 1


def test_a_policy_making_everything_unreturnable_is_published_with_a_warning(api):
    res = publish(api, {"rules": [{"id": "stop", "match": {}, "set": {"returnable": False, "message": "Closed."}}]})
    assert res.status_code == 200
    assert [w["code"] for w in res.json_body["warnings"]] == ["nothing_returnable"]


def test_lookup_lines_carry_the_deciding_rule_and_its_message(api):
    lines = order_body()["lines"]
    lines[1]["category"] = "swimwear"
    assert send(api, "PUT", "/orders/o-1", order_body(lines=lines), auth("store")).status_code == 201
    assert publish(api, {"rules": [SWIMWEAR]}).status_code == 200
    res = send(api, "POST", "/returns/lookup", {"order_id": "o-1", "email": "ana@example.com"})
    by_sku = {x["sku"]: x for x in res.json_body["order"]["lines"]}
    assert by_sku["JEANS-32"]["rule"] == "no-swimwear" and by_sku["JEANS-32"]["eligible"] is False
    assert by_sku["JEANS-32"]["ineligible_reason"] == "Swimwear cannot be returned for hygiene reasons."
    assert by_sku["TSHIRT-M"]["rule"] is None and by_sku["TSHIRT-M"]["eligible"] is True
    refused = send(api, "POST", "/returns", return_body(items=[{"sku": "JEANS-32", "qty": 1, "reason": "too_small"}]),
                   customer("o-1"))
    assert refused.status_code == 422 and error_of(refused)["details"]["field"] == "items[0].sku"


def test_a_return_is_judged_by_its_version_whatever_is_published_later(api, order):
    from returns_core.usecases import settlement

    assert publish(api, {"defaults": {"grades": {"opened": 40}, "approval_above": 100}}).status_code == 200
    ret = send(api, "POST", "/returns", return_body(), customer("o-1")).json_body
    assert ret["policy_version"] == 2
    # Published mid-lifecycle: the return keeps version 2's grades and approval threshold.
    assert publish(api, {"defaults": {"grades": {"opened": 100}, "approval_above": 1000000}}).status_code == 200
    ship(ret["return_id"], status="in_transit")
    from returns_core.store.returns import get

    assert send(api, "POST", "/warehouse/scans", {"code": get(ret["return_id"]).code},
                auth("warehouse")).status_code == 200
    graded = send(api, "POST", f"/returns/{ret['return_id']}/inspection",
                  {"items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "opened"}]}, auth("warehouse"))
    assert graded.status_code == 200, graded.body
    assert graded.json_body["items"][0]["refund_amount"] == 1000      # 40 % of 2499 (version 3: 2499)
    assert settlement.settle(ret["return_id"]) == "awaiting_approval"  # 505 > version 2's 100
    assert send(api, "GET", f"/returns/{ret['return_id']}", None, customer("o-1")).json_body["policy_version"] == 2


def test_a_kept_item_return_needs_no_parcel_and_says_so(api, order):
    assert publish(api, {"rules": [{"id": "cheap-keep", "match": {"unit_price_below": 3000, "reason": ["defective"]},
                                    "set": {"keep_item": True}}]}).status_code == 200
    kept = send(api, "POST", "/returns", return_body(items=[{"sku": "TSHIRT-M", "qty": 1, "reason": "defective"}]),
                customer("o-1"))
    assert kept.status_code == 201, kept.body
    assert kept.json_body["items"][0]["keep_item"] is True and kept.json_body["items"][0]["rule"] == "cheap-keep"
    assert kept.json_body["quote"]["return_shipping_fee"] == 0
    mixed = send(api, "POST", "/returns", return_body(items=[
        {"sku": "TSHIRT-M", "qty": 1, "reason": "defective"}, {"sku": "JEANS-32", "qty": 1, "reason": "defective"}]),
        customer("o-1"))
    # A mix of kept and sent items: every item goes back in the parcel.
    assert [i["keep_item"] for i in mixed.json_body["items"]] == [False, False]


def test_simulate_a_draft_stores_nothing(api):
    draft = {"defaults": {"restocking_fee_percent": 10}, "rules": [SWIMWEAR]}
    order = {**order_body(), "order_id": "sample-1"}
    order["lines"][1]["category"] = "swimwear"
    res = send(api, "POST", "/policy/simulate", {"policy": draft, "order": order, "resolution": "refund",
                                                 "items": [{"sku": "TSHIRT-M", "qty": 2, "reason": "defective"}]},
               auth("ops"))
    assert res.status_code == 200, res.body
    body = res.json_body
    assert body["version"] is None and body["problems"] == []
    assert {x["sku"]: x["rule"] for x in body["lines"]} == {"TSHIRT-M": None, "JEANS-32": "no-swimwear"}
    assert body["quote"]["items_total"] == 4998 and body["quote"]["restocking_fee"] == 500
    refused = send(api, "POST", "/policy/simulate", {"policy": draft, "order": order, "resolution": "refund",
                                                     "items": [{"sku": "JEANS-32", "qty": 1, "reason": "defective"}]},
                   auth("store"))
    assert refused.json_body["problems"][0]["code"] == "not_eligible" and refused.json_body["quote"] is None
    bad = send(api, "POST", "/policy/simulate", {"policy": {"defaults": {"window_days": "x"}}, "order": order,
                                                 "resolution": "refund", "items": [{"sku": "TSHIRT-M", "qty": 1,
                                                                                    "reason": "defective"}]},
               auth("store"))
    assert bad.status_code == 422 and error_of(bad)["details"]["field"] == "policy.defaults.window_days"
    assert send(api, "GET", "/policy", None, auth("store")).json_body["version"] == 1
    assert send(api, "POST", "/returns/lookup", {"order_id": "sample-1", "email": "ana@example.com"}).status_code == 404


@pytest.mark.parametrize("currency, fee", [("EUR", 395), ("JPY", 500)])
def test_fees_per_currency_in_the_currency_s_minor_units(api, currency, fee):
    doc = {"defaults": {"return_shipping_fee": {"amount": {"EUR": 395, "JPY": 500}}}}
    order = {**order_body(currency=currency), "order_id": "sample-2"}
    res = send(api, "POST", "/policy/simulate", {"policy": doc, "order": order, "resolution": "refund",
                                                 "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}]},
               auth("store"))
    assert res.status_code == 200, res.body
    assert res.json_body["quote"]["return_shipping_fee"] == fee
