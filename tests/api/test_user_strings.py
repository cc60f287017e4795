"""Issue 14, defect 3: user-controlled strings never become storage structure.

A SKU equal to a DynamoDB type tag (`N`, `M`, `S`, ...) made the order's reservation map
`{sku: qty}` look already serialised to PynamoDB: a return was created, then every lookup and
return on that order was a 500 (or a 409 that never cleared) until the return was cancelled.
Whatever the SKU, an order's lookup, a return, another lookup and the cancel work and count right.

The API in-process against moto (test_api_unit's harness).
"""
from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from tests.api.support import auth, boto, customer, order_body, send

TYPE_TAGS = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
_orders = itertools.count()


def _lines(api, order_id: str, email: str) -> dict:
    res = send(api, "POST", "/returns/lookup", {"order_id": order_id, "email": email})
    assert res.status_code == 200, res.body
    return {line["sku"]: line for line in res.json_body["order"]["lines"]}


def _round_trip(api, sku: str) -> None:
    """Put an order with `sku` (3 of it) and another line; lookup; return 2; lookup; cancel; lookup."""
    n = next(_orders)
    order_id, email = f"o-sku-{n}", f"sku{n}@example.com"   # a customer of their own: no risk review
    other = "OTHER" if sku != "OTHER" else "OTHER-2"
    body = order_body(customer={"email": email, "name": "Ana"}, lines=[
        {"sku": sku, "name": "The item", "qty": 3, "unit_price": 1000},
        {"sku": other, "name": "Another", "qty": 1, "unit_price": 500}])
    body["payment"]["captured_amount"] = 3500
    res = send(api, "PUT", f"/orders/{order_id}", body, auth("store"))
    assert res.status_code == 201, res.body
    before = _lines(api, order_id, email)
    assert before[sku]["returnable_qty"] == 3 and before[other]["returnable_qty"] == 1

    res = send(api, "POST", "/returns", {"order_id": order_id, "items": [{"sku": sku, "qty": 2, "reason": "defective"}],
                                         "resolution": "refund", "dropoff": {"method": "letterbox"}},
               customer(order_id))
    assert res.status_code == 201, res.body
    ret = res.json_body
    assert [(i["sku"], i["qty"]) for i in ret["items"]] == [(sku, 2)]
    assert ret["quote"]["items_total"] == 2000

    held = _lines(api, order_id, email)
    assert held[sku]["returnable_qty"] == 1 and held[other]["returnable_qty"] == 1
    # The order still takes returns: one more of the sku, not three.
    res = send(api, "POST", "/returns/quote", {"order_id": order_id, "resolution": "refund",
                                               "items": [{"sku": sku, "qty": 2, "reason": "defective"}]},
               customer(order_id))
    assert res.status_code == 422 and res.json_body["error"]["details"]["field"] == "items[0].qty", res.body
    res = send(api, "POST", "/returns/quote", {"order_id": order_id, "resolution": "refund",
                                               "items": [{"sku": sku, "qty": 1, "reason": "defective"}]},
               customer(order_id))
    assert res.status_code == 200, res.body
    res = send(api, "GET", f"/orders/{order_id}/returns", headers=customer(order_id))
    assert res.status_code == 200 and [r["return_id"] for r in res.json_body["items"]] == [ret["return_id"]]

    res = send(api, "POST", f"/returns/{ret['return_id']}/cancel", {}, customer(order_id))
    assert res.status_code == 200 and res.json_body["status"] == "cancelled", res.body
    after = _lines(api, order_id, email)
    assert after[sku]["returnable_qty"] == 3 and after[other]["returnable_qty"] == 1


@pytest.mark.parametrize("sku", TYPE_TAGS)
def test_a_sku_equal_to_a_dynamodb_type_tag_is_just_a_sku(api, sku):
    _round_trip(api, sku)


_sku = st.one_of(
    st.sampled_from(TYPE_TAGS),
    st.sampled_from(["a.b", "a#b", ":v", "#n", "x.y[0]", "M.N", "[0]", "NULL.BOOL", "😀", "Größe-M", "ß" * 64]),
    st.text(min_size=1, max_size=64),
    st.text(alphabet="SNBMLULOA.#:[] 0", min_size=1, max_size=64),
).filter(lambda s: s == s.strip() and s != "")


# slow: generated SKUs, each through a whole order and return
@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sku=_sku)
@example(sku="N")
@example(sku="M")
@example(sku="BOOL")
@example(sku="x" * 64)
def test_any_sku_round_trips_with_the_right_quantities(api, sku):
    _round_trip(api, sku)


def test_reservations_written_before_the_fix_are_still_read(api):
    """An order whose reservation is the old `{sku: qty}` map (any SKU that is not a type tag) keeps counting."""
    from returns_core.store.models import OrderModel

    body = order_body()
    assert send(api, "PUT", "/orders/o-old", body, auth("store")).status_code == 201
    OrderModel("o-old").update(actions=[OrderModel.reserved["r-legacy"].set({"TSHIRT-M": 1, "JEANS-32": 1})],
                               add_version_condition=False)
    lines = _lines(api, "o-old", "ana@example.com")
    assert lines["TSHIRT-M"]["returnable_qty"] == 1 and lines["JEANS-32"]["eligible"] is False


def test_an_order_corrupted_by_a_sku_n_return_reads_again(api):
    """Before the fix, SKU `N`'s reservation {"N": 2} was stored as the bare number 2: that order reads
    (2 of `N` held) and its return can be cancelled."""
    body = order_body(lines=[{"sku": "N", "name": "The item", "qty": 3, "unit_price": 1000}])
    assert send(api, "PUT", "/orders/o-n", body, auth("store")).status_code == 201
    res = send(api, "POST", "/returns", {"order_id": "o-n", "items": [{"sku": "N", "qty": 2, "reason": "defective"}],
                                         "resolution": "refund", "dropoff": {"method": "letterbox"}}, customer("o-n"))
    assert res.status_code == 201, res.body
    return_id = res.json_body["return_id"]
    boto("dynamodb").update_item(TableName="api-orders", Key={"order_id": {"S": "o-n"}},
                                 UpdateExpression="SET reserved.#r = :n", ExpressionAttributeNames={"#r": return_id},
                                 ExpressionAttributeValues={":n": {"N": "2"}})
    assert _lines(api, "o-n", "ana@example.com")["N"]["returnable_qty"] == 1
    res = send(api, "POST", f"/returns/{return_id}/cancel", {}, customer("o-n"))
    assert res.status_code == 200, res.body
    assert _lines(api, "o-n", "ana@example.com")["N"]["returnable_qty"] == 3
