"""Issue 19: customer service resolves a dispute (POST /returns/{id}/dispute/resolve), and the
adjustment refund it grants is paid once, through the ledger, never beyond what is left of the
capture, also when resolutions race. In-process app on moto; the Settle step's payment is
`usecases.disputes.pay_adjustment`, run here as the workflow's SettleAdjustment state runs it."""
from __future__ import annotations

import threading

from tests.api.support import auth, customer, error_of, roll_up_finance, send, ship, start_return

CAPTURED = 12997


def _disputed(api, refunded_before: int = 0) -> str:
    from returns_core.store.models import OrderModel

    rid = start_return(api)["return_id"]
    ship(rid, status="disputed")
    if refunded_before:
        OrderModel.get("o-1").update(actions=[OrderModel.refunded_total.set(refunded_before)])
    return rid


def _resolve(api, rid: str, **body):
    return send(api, "POST", f"/returns/{rid}/dispute/resolve",
                {"decision": "uphold", "note": "Sorry about the sleeve", **body}, auth("ops"))


def _order():
    from returns_core.store.models import OrderModel

    from tests.money import by_movement

    order = OrderModel.get("o-1", consistent_read=True)
    return int(order.refunded_total or 0), by_movement(order.refund_holds or {})


def test_rejected_dispute_is_resolved_without_money(api, order):
    rid = _disputed(api)
    res = _resolve(api, rid, decision="reject", note="The parcel held everything")
    assert res.status_code == 200, res.body
    body = res.json_body
    assert body["status"] == "resolved"
    assert body["dispute_resolution"]["decision"] == "reject"
    assert body["dispute_resolution"]["refund_amount"] == 0
    assert "dispute.resolved" in [t["type"] for t in body["timeline"]]
    assert _order() == (0, {})
    # Once resolved, a second resolution is a 409 (the Idempotency-Key replays the first).
    again = _resolve(api, rid, refund_amount=100)
    assert again.status_code == 409 and error_of(again)["code"] == "invalid_status"
    assert _order() == (0, {})


def test_only_a_disputed_return_is_resolved(api, order):
    rid = start_return(api)["return_id"]
    ship(rid, status="refunded")
    res = _resolve(api, rid)
    assert res.status_code == 409 and error_of(res)["code"] == "invalid_status"


def test_a_rejection_cannot_refund(api, order):
    rid = _disputed(api)
    res = _resolve(api, rid, decision="reject", refund_amount=100)
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "refund_amount"
    assert _order() == (0, {})


def test_over_refund_is_422_and_writes_nothing(api, order):
    rid = _disputed(api, refunded_before=CAPTURED - 1000)
    res = _resolve(api, rid, refund_amount=1001)
    assert res.status_code == 422, res.body
    err = error_of(res)
    assert (err["code"], err["details"]["field"]) == ("over_refund", "refund_amount")
    got = send(api, "GET", f"/returns/{rid}", None, auth("ops")).json_body
    assert got["status"] == "disputed" and "dispute_resolution" not in got
    assert _order() == (CAPTURED - 1000, {})


def test_the_adjustment_is_paid_once_as_an_adjustment_entry(api, order):
    from returns_core.store import ledger
    from returns_core.usecases import disputes, ledger_audit

    rid = _disputed(api, refunded_before=CAPTURED - 1000)
    res = _resolve(api, rid, refund_amount=1000, method="store_credit")
    assert res.status_code == 200, res.body
    assert res.json_body["dispute_resolution"]["status"] == "pending"
    assert _order() == (CAPTURED - 1000, {f"{rid}:adjustment": 1000})
    # The workflow may run its Settle step twice (a retry after a lost answer): one entry.
    first = disputes.pay_adjustment(rid)
    second = disputes.pay_adjustment(rid)
    assert first == second == {"status": "resolved", "adjustment": "succeeded"}
    entries = [e for e in ledger.entries() if e.return_id == rid]
    assert [(e.kind, int(e.amount), e.entry_id) for e in entries] == [("adjustment", 1000, f"{rid}:adjustment:1")]
    assert _order() == (CAPTURED, {})
    # The chain holds; the order's total does not match its entries because `_disputed` raised it by
    # hand (refunds "before", never ledgered): the check names exactly that hand edit.
    verdict = ledger_audit.verify(None)
    assert (verdict["ok"], verdict["checked"], verdict["reason"], verdict["order_id"]) == \
        (False, len(list(ledger.entries())), "order_total_mismatch", "o-1"), verdict
    got = send(api, "GET", f"/returns/{rid}", None, customer("o-1")).json_body
    assert got["dispute_resolution"]["status"] == "succeeded"
    assert got["dispute_resolution"]["reference"] == f"credit:{rid}:adjustment:1"
    assert "dispute.adjustment_paid" in [t["type"] for t in got["timeline"]]
    # Finance sees the entry's kind, on the page, in the CSV (last column) and in the reconciliation.
    from returns_core.rules import clock

    day = clock.iso()[:10]
    rows = send(api, "GET", f"/finance/refunds?from={day}&to={day}", None, auth("finance")).json_body["items"]
    assert [(r["kind"], r["amount"]) for r in rows if r["return_id"] == rid] == [("adjustment", 1000)]
    csv_text = api.http.get(f"/finance/refunds.csv?from={day}&to={day}",
                            headers={"Accept": "*/*", **auth("finance")}).body.decode()
    header, line = csv_text.splitlines()[0].split(","), csv_text.splitlines()[1].split(",")
    assert header[-1] == "kind" and line[-1] == "adjustment"
    roll_up_finance()
    recon = send(api, "GET", f"/finance/reconciliation?from={day}&to={day}", None, auth("finance")).json_body
    assert recon["orders"][0]["refunded_in_range_by_kind"] == {"adjustment": 1000}


def test_racing_resolutions_of_one_order_never_pass_the_capture(api, order):
    """Two disputes of one order, each granted what is left: exactly one adjustment is held."""
    left = 1500
    first = _disputed(api)
    second = _disputed(api, refunded_before=CAPTURED - left)
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def resolve(rid: str) -> None:
        barrier.wait()
        answers[rid] = _resolve(api, rid, refund_amount=left, method="store_credit").status_code

    threads = [threading.Thread(target=resolve, args=(rid,)) for rid in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers.values()) == [200, 422], answers
    refunded, holds = _order()
    assert refunded + sum(holds.values()) == CAPTURED
    winner = next(rid for rid, status in answers.items() if status == 200)
    loser = next(rid for rid, status in answers.items() if status == 422)
    assert send(api, "GET", f"/returns/{loser}", None, auth("ops")).json_body["status"] == "disputed"
    from returns_core.usecases import disputes

    disputes.pay_adjustment(winner)
    assert _order() == (CAPTURED, {})


def test_an_adjustment_after_the_rest_was_refunded_is_stopped_by_the_ledger(api, order):
    """The hold is checked when ops resolves; the ledger's own condition holds at payment too."""
    from returns_core.store import ledger
    from returns_core.store.models import OrderModel
    from returns_core.usecases import disputes

    rid = _disputed(api, refunded_before=CAPTURED - 500)
    assert _resolve(api, rid, refund_amount=500, method="store_credit").status_code == 200
    # Something outside the holds (an old writer) took the rest meanwhile.
    OrderModel.get("o-1").update(actions=[OrderModel.refunded_total.set(CAPTURED)])
    try:
        disputes.pay_adjustment(rid)
        raise AssertionError("paid beyond the capture")
    except ledger.OverRefund:
        pass
    assert [e for e in ledger.entries() if e.return_id == rid] == []


def test_the_answer_to_a_resolved_dispute_closes_it_either_way(api, order):
    for satisfied in (True, False):
        rid = start_return(api)["return_id"]
        ship(rid, status="resolved")
        res = send(api, "POST", f"/returns/{rid}/confirm", {"satisfied": satisfied, "comment": "ok now"},
                   customer("o-1"))
        assert res.status_code == 200 and res.json_body["status"] == "closed", res.body
