"""Issue 28: a claim and a return never refund the same unit, and a race between people is answered
once: one decision is written, every other one is refused (409) and gives its hold back at once.

In-process app on moto; the Settle step's payments are the use cases, as the workflow runs them.
"""
from __future__ import annotations

import threading

from tests.api.support import auth, customer, error_of, return_body, send, ship, start_return

CAPTURED = 12997


def _claim(api, qty: int = 2, kind: str = "missing_item"):
    return send(api, "POST", "/claims", {"order_id": "o-1", "kind": kind, "lines": [{"sku": "TSHIRT-M", "qty": qty}],
                                         "message": "Both T-shirts were missing from the parcel"}, customer("o-1"))


def _returnable(api) -> int:
    res = send(api, "POST", "/returns/lookup", {"order_id": "o-1", "email": "ana@example.com"})
    assert res.status_code == 200, res.body
    return {x["sku"]: x["returnable_qty"] for x in res.json_body["order"]["lines"]}["TSHIRT-M"]


def _holds() -> dict:
    from returns_core.store.models import OrderModel

    return (OrderModel.get("o-1", consistent_read=True).refund_holds) or {}


def test_a_refunded_claim_takes_its_units_so_no_return_refunds_them_again(api, order):
    """The hostile run: a missing_item claim for two T-shirts was refunded, the lookup still offered
    2 and a return of the same two was refunded again."""
    assert _returnable(api) == 2
    opened = _claim(api)
    assert opened.status_code == 201, opened.body
    cid = opened.json_body["claim_id"]
    assert _returnable(api) == 0                      # taken as soon as the claim is open
    paid = send(api, "POST", f"/claims/{cid}/resolve", {"decision": "refund", "note": "Sorry",
                                                        "method": "store_credit"}, auth("ops"))
    assert paid.status_code == 200 and paid.json_body["status"] == "refunded", paid.body
    assert _returnable(api) == 0
    again = send(api, "POST", "/returns", return_body(qty=2), customer("o-1"))
    assert again.status_code == 422, again.body
    assert error_of(again)["details"]["field"] == "items[0].sku"
    # And a second claim for the same units is refused, naming the quantity.
    second = _claim(api)
    assert second.status_code == 422 and error_of(second)["code"] == "over_quantity", second.body
    assert error_of(second)["details"]["field"] == "lines[0].qty"


def test_a_return_takes_its_units_so_no_claim_refunds_them(api, order):
    start_return(api)                                 # one T-shirt of two
    both = _claim(api, qty=2)
    assert both.status_code == 422 and error_of(both)["details"]["field"] == "lines[0].qty", both.body
    assert "1 can be claimed" in error_of(both)["message"]
    one = _claim(api, qty=1)
    assert one.status_code == 201, one.body
    # The claim is valued at what the second unit cost, not again at the first one's.
    assert one.json_body["lines"][0]["paid"] > 0


def test_a_rejected_or_reshipped_claim_gives_its_units_back(api, order):
    for decision in ("reject", "reship"):
        cid = _claim(api).json_body["claim_id"]
        assert _returnable(api) == 0
        res = send(api, "POST", f"/claims/{cid}/resolve", {"decision": decision, "note": "Checked"}, auth("ops"))
        assert res.status_code in (200, 503), res.body   # 503: the reship is decided, SNS not reached
        assert _returnable(api) == 2


def test_racing_claims_for_the_same_units_open_one(api, order):
    barrier = threading.Barrier(3)
    codes: list[int] = []

    def claim() -> None:
        barrier.wait()
        codes.append(_claim(api).status_code)

    threads = [threading.Thread(target=claim) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # One opens; the others find the units taken (422 over_quantity) or lost the order to it (409).
    assert codes.count(201) == 1 and set(codes) <= {201, 409, 422}, codes


def test_three_agents_answering_one_dispute_write_one_answer_and_leak_no_hold(api, order):
    """The hostile run: uphold 500, uphold 1500 and reject at once; the rejection won, every agent got
    200, and the losing uphold's hold stayed on the order for ever."""
    from returns_core.store.models import OrderModel
    from returns_core.usecases import disputes

    rid = start_return(api)["return_id"]
    ship(rid, status="disputed")
    OrderModel.get("o-1").update(actions=[OrderModel.refunded_total.set(2499)])
    answers: dict[str, object] = {}
    barrier = threading.Barrier(3)

    def resolve(name: str, body: dict) -> None:
        barrier.wait()
        res = send(api, "POST", f"/returns/{rid}/dispute/resolve", {"note": name, **body}, auth("ops"))
        answers[name] = (res.status_code, res.json_body)

    bodies = {"uphold-500": {"decision": "uphold", "refund_amount": 500, "method": "store_credit"},
              "uphold-1500": {"decision": "uphold", "refund_amount": 1500, "method": "store_credit"},
              "reject": {"decision": "reject"}}
    threads = [threading.Thread(target=resolve, args=item) for item in bodies.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    codes = {name: code for name, (code, _) in answers.items()}
    assert sorted(codes.values()) == [200, 409, 409], answers
    winner = next(name for name, code in codes.items() if code == 200)
    for code, body in answers.values():
        if code == 409:
            assert body["error"]["code"] in ("already_resolved", "invalid_status"), body
    decided = send(api, "GET", f"/returns/{rid}", None, auth("ops")).json_body["dispute_resolution"]
    assert decided["note"] == winner
    disputes.pay_adjustment(rid)
    assert _holds() == {}                               # the losers gave theirs back; the winner's was paid
    # The customer's next legitimate refund of what is left is not refused as over_refund.
    left = CAPTURED - int(OrderModel.get("o-1", consistent_read=True).refunded_total)
    from returns_core.usecases import movements

    movements.hold(OrderModel.get("o-1", consistent_read=True), "ret_next", left)
    assert _holds() == {"ret_next": left}


def test_the_same_resolution_twice_is_answered_with_it_and_another_is_409(api, order):
    rid = start_return(api)["return_id"]
    ship(rid, status="disputed")
    body = {"decision": "uphold", "note": "Sorry", "refund_amount": 700, "method": "store_credit"}
    first = send(api, "POST", f"/returns/{rid}/dispute/resolve", body, auth("ops"))
    same = send(api, "POST", f"/returns/{rid}/dispute/resolve", {**body, "note": "Sorry (again)"}, auth("ops"))
    other = send(api, "POST", f"/returns/{rid}/dispute/resolve", {**body, "refund_amount": 900}, auth("ops"))
    assert first.status_code == 200 and same.status_code == 200, (first.body, same.body)
    assert same.json_body["dispute_resolution"]["note"] == "Sorry"
    assert other.status_code == 409, other.body
    assert len(_holds()) == 1 and sum(_holds().values()) == 700


def test_giving_back_a_hold_or_units_moves_the_order_version_on_never_back(api, order):
    """A blind update of a versioned record sets its version to 1: a reader still holding an old number
    could then write over newer data (CI: a racing claim's released hold came back in the ledger's write).
    Every give-back is a versioned write on the order as read."""
    from returns_core.store.models import OrderModel
    from returns_core.usecases import movements

    def version() -> int:
        return int(OrderModel.get("o-1", consistent_read=True).version)

    cid = _claim(api).json_body["claim_id"]
    movements.hold(OrderModel.get("o-1", consistent_read=True), "clm_x:claim#t", 100)
    before = version()
    assert before > 1
    movements.release("o-1", "clm_x:claim#t")
    assert version() == before + 1 and _holds() == {}
    movements.release("o-1", "clm_x:claim#t")          # again: nothing to give back, nothing written
    assert version() == before + 1
    send(api, "POST", f"/claims/{cid}/resolve", {"decision": "reject", "note": "Checked"}, auth("ops"))
    assert version() == before + 2 and _returnable(api) == 2
