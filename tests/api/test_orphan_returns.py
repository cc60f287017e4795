"""A return whose workflow cannot start is not left holding its order's quantities."""
from __future__ import annotations

from infra.local import faults

from tests.api.support import auth, boto, customer, error_of, return_body, send


def _returnable(api, order_id: str) -> dict[str, int]:
    view = send(api, "POST", "/returns/lookup", {"order_id": order_id, "email": "ana@example.com"}).json_body
    return {line["sku"]: line["returnable_qty"] for line in view["order"]["lines"]}


def test_a_refused_start_cancels_the_return_frees_its_quantities_and_the_retry_succeeds(api, order):
    from returns_core.store.models import OrderModel, ReturnModel
    from returns_core.usecases import orders

    before = _returnable(api, order)
    headers = {**customer(order), "Idempotency-Key": "start-1"}
    with faults.fail("stepfunctions", "StartExecution", "ServiceUnavailable", "injected: Step Functions down",
                     times=10) as down:
        res = send(api, "POST", "/returns", return_body(order), headers)
    assert down.hits, "the start was never attempted"
    assert res.status_code == 503, res.body
    assert error_of(res)["code"] == "workflow_unavailable"
    assert int(res.headers["Retry-After"]) > 0
    # Nothing held: the order's quantities are back, the return that was written is visibly cancelled.
    assert _returnable(api, order) == before
    assert not (OrderModel.get(order).reserved)
    left = orders.returns_of(order)
    assert [r.status for r in left] == ["cancelled"]
    timeline = api.http.get(f"/returns/{left[0].return_id}", headers=auth("store")).json_body["timeline"]
    assert "return.workflow_unavailable" in [e["type"] for e in timeline]

    # The 503 was not kept: the same key runs again, and this time the return starts.
    again = send(api, "POST", "/returns", return_body(order), headers)
    assert again.status_code == 201, again.body
    assert again.headers.get("Idempotent-Replayed") is None
    assert again.json_body["status"] == "requested"
    assert ReturnModel.get(again.json_body["return_id"]).execution_arn
    assert _returnable(api, order)["TSHIRT-M"] == before["TSHIRT-M"] - 1


def test_a_start_refused_after_the_execution_began_keeps_the_return(api, order):
    """The start's answer can be lost after Step Functions started it: the execution, found by the
    return's name, stands, and the return is not withdrawn."""
    from returns_core.outbound import workflow
    from returns_core.store.models import ReturnModel

    res = send(api, "POST", "/returns", return_body(order), customer(order))
    assert res.status_code == 201, res.body
    return_id = res.json_body["return_id"]
    with faults.fail("stepfunctions", "StartExecution", "ServiceUnavailable", "injected", times=10) as down:
        arn = workflow.start(return_id, "requested")
    assert down.hits
    assert boto("stepfunctions").describe_execution(executionArn=arn)["name"] == return_id
    assert ReturnModel.get(return_id).status == "requested"
