"""Stored documents (store.models.Document) keep the encoding items were written in.

An item written in today's shape by the low-level client is loaded through its model, saved, and read
back raw: it is the item it was (its version aside), every key of every document kept, a null kept as
NULL, a missing key missing, numbers as numbers. What the code writes now is what it wrote before."""
from __future__ import annotations

import copy

import boto3
import pytest
from moto import mock_aws

from returns_core.rules import shapes
from returns_core.store.models import ClaimModel, Document, OrderModel, ReturnModel

TABLES = {"ORDERS_TABLE": ("shapes-orders", OrderModel), "RETURNS_TABLE": ("shapes-returns", ReturnModel),
          "CLAIMS_TABLE": ("shapes-claims", ClaimModel)}


def S(v): return {"S": v}
def N(v): return {"N": str(v)}
def M(**kv): return {"M": kv}
def L(*vs): return {"L": list(vs)}
NULL = {"NULL": True}


@pytest.fixture
def dynamodb(monkeypatch):
    with mock_aws():
        for env, (name, _) in TABLES.items():
            monkeypatch.setenv(env, name)
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
        client = boto3.client("dynamodb", region_name="us-east-1")
        for name, model in TABLES.values():
            key = model._hash_keyname
            client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}])
        yield client


ORDER = {
    "order_id": S("o-1"), "customer_key": S("k" * 64), "currency": S("EUR"), "placed_at": S("2026-11-01T10:00:00Z"),
    "delivered_at": S("2026-11-03T10:00:00Z"), "updated_at": S("2026-11-04T10:00:00Z"), "version": N(3),
    "refunded_total": N(1500), "instant_exchange": {"BOOL": False}, "shipping_paid": N(490),
    # `sms_opt_out` and `vip` are keys no shape names: kept as they are.
    "customer": M(email=S("ada@example.com"), name=S("Ada"), phone=NULL, locale=S("fr"),
                  sms_opt_out={"BOOL": True}, vip=S("gold")),
    "shipping_address": M(name=S("Ada"), line1=S("1 rue X"), line2=NULL, city=S("Paris"), postcode=S("75001"),
                          country=S("FR")),
    "payment": M(provider=S("stripe"), reference=S("pi_1"), captured_amount=N(9980)),
    "lines": L(M(sku=S("A"), name=S("Shirt"), qty=N(2), unit_price=N(2490), final_sale={"BOOL": False})),
    # A return's units as a list, a claim's too, and an order written before: {sku: qty}.
    "reserved": M(**{"r-1": L(M(sku=S("A"), qty=N(1))), "c-1": L(), "r-old": M(A=N(1))}),
    "refund_holds": M(**{"r-1": N(2490), "d-1:adjustment:1#0123456789abcdef": N(100)}),
    "withdrawals": {"SS": ["w-1"]},
}

RETURN = {
    "return_id": S("r-1"), "order_id": S("o-1"), "code": S("RX-1"), "customer_key": S("k" * 64),
    "status": S("refunded"), "status_since": S("2026-11-10T10:00:00Z"), "created_at": S("2026-11-05T10:00:00Z"),
    "resolution": S("refund"), "currency": S("EUR"), "locale": S("en"), "version": N(9), "timeline_count": N(7),
    "policy_version": N(2), "deadline": S("2026-11-20T10:00:00Z"), "tracking_number": S("TRK1"),
    "items": L(M(sku=S("A"), name=S("Shirt"), qty=N(1), reason=S("too_small"), comment=NULL, unit_price=N(2490),
                 paid=N(2490), exchange_for=NULL, rule=S("default"), keep_item={"BOOL": False},
                 terms=M(window_days=N(30)))),
    "quote": M(items_total=N(2490), restocking_fee=N(0), return_shipping_fee=N(0), bonus=N(0),
               refund_amount=N(2490), delivery_refund=N(490)),
    "dropoff": M(method=S("relay_point"), relay_point=M(id=S("RP1"), name=S("Tabac"), carrier=S("local"))),
    "label": M(tracking_number=S("TRK1"), code=S("RX-1"), s3_key=S("labels/r-1.pdf")),
    "inspection": M(by=S("warehouse:wes"), at=S("2026-11-08T10:00:00Z"),
                    items=L(M(sku=S("A"), qty=N(1), condition=S("as_new"), refund_amount=N(2490))),
                    lost={"BOOL": False}),
    "approval": M(by=S("finance:fay"), at=S("2026-11-09T10:00:00Z"), note=NULL),
    "refund": M(amount=N(2490), method=S("original_payment"), bonus=N(0), status=S("succeeded"),
                provider=S("stripe"), reference=S("re_1"), issued_at=S("2026-11-10T10:00:00Z"), ledger_seq=N(4),
                lease_owner=S("abc"), lease_until=S(""), failure=M(error=S("TransientError"),
                                                                 transient={"BOOL": True}, at=S("t"))),
    "dispute_resolution": M(decision=S("partial_refund"), note=S("sorry"), by=S("cs:cy"), at=S("t"),
                            refund_amount=N(100), method=S("original_payment"), status=S("pending"),
                            hold=S("d-1:adjustment:1#0123456789abcdef"), reference=NULL, issued_at=NULL),
    "review": M(decision=S("approve"), by=S("ops:oz"), at=S("t"), note=NULL),
    "exchange_shipment": M(tracking_number=S("TRK2"), carrier=S("local"), tracking_url=NULL,
                           lines=L(M(sku=S("A"), exchange_for=S("A-M"), qty=N(1))), at=S("t"), by=S("store")),
    "exception": M(reason=S("loyal customer"), by=S("ops:oz"), at=S("t"),
                   waived=L(M(sku=S("A"), rule=S("window"), message=S("past the window")))),
    "withdrawal": M(withdrawal_id=S("w-1"), received_at=S("2026-11-05T10:00:00Z"),
                    refund_due_by=S("2026-11-19T10:00:00Z"), delivery_refund=N(490),
                    lines=L(M(sku=S("A"), qty=N(1)))),
    "withdrawal_day": S("2026-11-05"), "carrier_seen": {"SS": ["e1", "e2"]},
    "risk": M(score=N(35), reasons=L(M(code=S("new_customer"), detail=S("first order"), points=N(10)),
                                     M(code=S("cleared_by_ops"), detail=S("fine"), points=N(-20)))),
    "risk_verdict": M(verdict=S("fine"), note=NULL, by=S("ops:oz"), at=S("t")),
    "refund_timing": M(asked=S("first_scan"), on=S("first_scan"), held_by=NULL, score=N(35), hold_above=N(50),
                       paid_early_at=S("t"), paid_early_by=S("first_scan")),
    "parcel_received_at": S("2026-11-09T10:00:00Z"),
}

CLAIM = {
    "claim_id": S("c-1"), "order_id": S("o-1"), "customer_key": S("k" * 64), "kind": S("missing_item"),
    "lines": L(M(sku=S("A"), name=S("Shirt"), qty=N(1), paid=N(2490))), "message": S("one shirt missing"),
    "currency": S("EUR"), "locale": S("en"), "status": S("refunded"), "status_since": S("t"), "created_at": S("t"),
    "created_by": S("customer"), "photos": L(M(photo_id=S("p1"), s3_key=S("claims/c-1/p1"), at=S("t"))),
    "resolution": M(decision=S("refund"), note=NULL, by=S("ops:oz"), at=S("t"), amount=N(2490),
                    method=S("original_payment"), status=S("succeeded"), hold=S("c-1:claim:1#0123456789abcdef"),
                    provider=S("stripe"), reference=S("re_2"), issued_at=S("t"), ledger_seq=N(5),
                    published_at=S("t")),
    "timeline_count": N(3), "version": N(2),
}

DOCUMENTS = {OrderModel: ("customer", "shipping_address", "payment", "reserved", "refund_holds"),
             ReturnModel: ("quote", "dropoff", "label", "inspection", "approval", "refund", "dispute_resolution",
                           "review", "exchange_shipment", "exception", "withdrawal", "risk", "risk_verdict",
                           "refund_timing"),
             ClaimModel: ("resolution",)}


def _table(model) -> str:
    return next(name for name, m in TABLES.values() if m is model)


def _raw(client, model, key: str) -> dict:
    return client.get_item(TableName=_table(model), Key={model._hash_keyname: S(key)},
                           ConsistentRead=True)["Item"]


def _without(item: dict, *names: str) -> dict:
    """The item less `names`, its sets in order (DynamoDB keeps a set's members in no order)."""
    return {k: {t: sorted(x) for t, x in v.items()} if set(v) & {"SS", "NS"} else v
            for k, v in item.items() if k not in names}


def _roundtrip(client, model, item: dict) -> dict:
    client.put_item(TableName=_table(model), Item=item)
    key = item[model._hash_keyname]["S"]
    model.get(key, consistent_read=True).save()
    return _raw(client, model, key)


def test_the_twenty_documents_are_documents():
    assert sum(len(names) for names in DOCUMENTS.values()) == 20
    for model, names in DOCUMENTS.items():
        for name in names:
            assert isinstance(model.get_attributes()[name], Document), (model.__name__, name)
    # Every MapAttribute a model has is one of them: none is left untyped.
    from pynamodb.attributes import MapAttribute
    for model, names in DOCUMENTS.items():
        maps = {n for n, a in model.get_attributes().items() if isinstance(a, MapAttribute)}
        assert maps == set(names), model.__name__


@pytest.mark.parametrize("model,item", [(OrderModel, ORDER), (ReturnModel, RETURN), (ClaimModel, CLAIM)],
                         ids=["order", "return", "claim"])
def test_an_item_written_in_todays_shape_is_saved_back_unchanged(dynamodb, model, item):
    saved = _roundtrip(dynamodb, model, item)
    assert saved["version"] == N(int(item["version"]["N"]) + 1)
    assert _without(saved, "version") == _without(item, "version")


@pytest.mark.parametrize("model,item,optional", [
    (OrderModel, ORDER, ("shipping_address",)),
    (ReturnModel, RETURN, ("label", "inspection", "approval", "refund", "dispute_resolution", "review",
                           "exchange_shipment", "exception", "withdrawal", "withdrawal_day")),
    (ClaimModel, CLAIM, ("resolution",))], ids=["order", "return", "claim"])
def test_missing_documents_and_keys_stay_missing(dynamodb, model, item, optional):
    """Optional documents absent, and every document that remains with keys left out (written before
    they existed): nothing is added on save, nothing dropped."""
    sparse = _without(copy.deepcopy(item), *optional)
    for name in DOCUMENTS[model]:
        if name in sparse and sparse[name]["M"]:
            first = next(iter(sparse[name]["M"]))
            del sparse[name]["M"][first]
    saved = _roundtrip(dynamodb, model, sparse)
    assert _without(saved, "version") == _without(sparse, "version")


def test_documents_load_as_plain_values(dynamodb):
    dynamodb.put_item(TableName=_table(ReturnModel), Item=RETURN)
    dynamodb.put_item(TableName=_table(OrderModel), Item=ORDER)
    ret, order = ReturnModel.get("r-1"), OrderModel.get("o-1")
    refund: shapes.Refund = ret.refund
    assert type(refund) is dict and refund["amount"] == 2490 and refund["failure"]["transient"] is True
    assert ret.approval == {"by": "finance:fay", "at": "2026-11-09T10:00:00Z", "note": None}   # null kept as None
    assert "issued_at" in ret.dispute_resolution and ret.dispute_resolution["issued_at"] is None
    assert order.customer["vip"] == "gold" and order.customer["phone"] is None   # an undeclared key is kept
    assert order.reserved == {"r-1": [{"sku": "A", "qty": 1}], "c-1": [], "r-old": {"A": 1}}
    assert order.refund_holds == {"r-1": 2490, "d-1:adjustment:1#0123456789abcdef": 100}
    assert ret.refund is ret.refund   # the API's remaining callers get the same value


def test_what_the_code_writes_is_encoded_as_before(dynamodb):
    """Whole documents and keys set by path, as the use cases write them: a None is NULL, a number N,
    a nested map M, as a raw MapAttribute wrote them."""
    dynamodb.put_item(TableName=_table(ReturnModel), Item=_without(RETURN, "refund", "approval"))
    ret = ReturnModel.get("r-1", consistent_read=True)
    ret.update(actions=[ReturnModel.refund.set({"amount": 0, "method": "store_credit", "status": "none",
                                                "reference": None, "issued_at": "t", "ledger_seq": 0}),
                        ReturnModel.approval.set({"by": "finance:fay", "at": "t", "note": None})])
    ret.update(actions=[ReturnModel.refund["manual_reference"].set("BANK-1")],
               condition=ReturnModel.refund["status"] == "none")
    raw = _raw(dynamodb, ReturnModel, "r-1")
    assert raw["refund"] == M(amount=N(0), method=S("store_credit"), status=S("none"), reference=NULL,
                              issued_at=S("t"), ledger_seq=N(0), manual_reference=S("BANK-1"))
    assert raw["approval"] == M(by=S("finance:fay"), at=S("t"), note=NULL)
    assert ret.refund["manual_reference"] == "BANK-1" and type(ret.refund) is dict   # read back as a value

    order = OrderModel("o-2", customer={"email": "b@example.com", "phone": None}, customer_key="k",
                       currency="EUR", payment={"provider": "manual", "reference": "m", "captured_amount": 100},
                       lines=[], reserved={}, refund_holds={}, refunded_total=0, updated_at="t")
    order.save()
    order.update(actions=[OrderModel.refund_holds["r-2"].set(100),
                          OrderModel.reserved["r-2"].set([{"sku": "A", "qty": 1}])])
    raw = _raw(dynamodb, OrderModel, "o-2")
    assert raw["customer"] == M(email=S("b@example.com"), phone=NULL)
    assert raw["payment"] == M(provider=S("manual"), reference=S("m"), captured_amount=N(100))
    assert raw["refund_holds"] == M(**{"r-2": N(100)})
    assert raw["reserved"] == M(**{"r-2": L(M(sku=S("A"), qty=N(1)))})
    assert order.refund_holds == {"r-2": 100}
