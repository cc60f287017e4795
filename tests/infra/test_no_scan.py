"""A whole return lifecycle, and customer service's search for its customer, make no DynamoDB Scan:
every read is a Query or a GetItem (design.md).

Counted with a botocore event hook on every client the lifecycle creates (the domain's
boto3 clients, PynamoDB's, and those of moto's state-machine interpreter).
"""
from __future__ import annotations

import threading

import botocore.session
import pytest


@pytest.fixture
def dynamodb_calls(monkeypatch):
    """Counts of DynamoDB operations made by any client created during the test."""
    from pynamodb.models import Model

    from returns_core import aws

    counts: dict[str, int] = {}
    lock = threading.Lock()
    original = botocore.session.Session.create_client

    def count(model, **kwargs):
        with lock:
            counts[model.name] = counts.get(model.name, 0) + 1

    def create_client(session, *args, **kwargs):
        client = original(session, *args, **kwargs)
        client.meta.events.register("before-call.dynamodb.*", count)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    aws.reset()   # clients cached before the hook would not be counted
    todo = list(Model.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        monkeypatch.setattr(cls, "_connection", None)
    yield counts
    aws.reset()


def test_a_full_lifecycle_makes_no_scan(stack, dynamodb_calls):
    import boto3

    from returns_core.store import returns
    from returns_core.usecases import carrier_tracking, lifecycle, orders, request_return, warehouse

    from tests.workflow.helpers import order_payload, wait_for

    orders.upsert("o-noscan", order_payload(provider="manual"))
    ret = request_return.create(orders.get("o-noscan"), [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
                                 "store_credit", {"method": "letterbox"}, "customer:o-noscan")
    r = wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "dropoff", 20, "label")
    carrier_tracking.apply(r.tracking_number, "dropped_off", "2026-11-22T10:00:00Z", "Paris")
    wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "arrival", 20, "arrival")
    warehouse.scan(r.code, "warehouse:test")
    wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "inspection", 20, "inspection")
    warehouse.inspect(ret.return_id, [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}], "warehouse:test")
    r = wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "confirmation", 20, "refund")
    lifecycle.transition(r, "closed", actor="customer", event="return.confirmed", allowed_from={"refunded"})
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    ex = wait_for(lambda: sfn.describe_execution(executionArn=r.execution_arn), lambda e: e["status"] != "RUNNING",
                  20, "execution end")

    assert ex["status"] == "SUCCEEDED"
    assert returns.get(ret.return_id).status == "closed"
    # Customer service finds the customer by each key (the orders' by_customer index, no Scan).
    from returns_core.usecases import customer_search

    for key in ({"email": " ANA@example.com"}, {"order_id": "o-noscan"}, {"tracking_number": r.tracking_number}):
        found = customer_search.search(**key)
        assert [x["return_id"] for x in found["returns"]] == [ret.return_id], key
    assert dynamodb_calls.get("Query", 0) > 0 and dynamodb_calls.get("UpdateItem", 0) > 0, dynamodb_calls  # hook live
    assert dynamodb_calls.get("Scan", 0) == 0, dynamodb_calls
