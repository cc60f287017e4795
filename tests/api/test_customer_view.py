"""What a customer sees of a return is an allow-list (views.returns.for_customer): causes in their
language, never internals. An error text, a stack trace, a source path, a staff member's name, an
inspector's or approver's note, customer service's reasons: none reaches the customer's JSON, by any
route a customer reads a return through; staff still see them all.
"""
from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.api.support import auth, customer, order_body, send, start_return

SECRET = "S3CRET-internal"
STACK = ('Traceback (most recent call last):\n  File "/var/task/returns_core/outbound/payments/stripe_provider.py", '
         f'line 167, in refund\nstripe.error.CardError: card_declined {SECRET}')


def _customer_reads(api, rid: str, order_id: str = "o-1") -> list[str]:
    """Every way a customer reads the return, as the JSON text it gets."""
    bodies = [send(api, "GET", f"/returns/{rid}", None, customer(order_id)),
              send(api, "GET", f"/returns/{rid}?lang=fr", None, customer(order_id)),
              send(api, "GET", f"/orders/{order_id}/returns", None, customer(order_id))]
    assert all(b.status_code == 200 for b in bodies), [b.body[:200] for b in bodies]
    return [b.body.decode() for b in bodies]


def _staff_read(api, rid: str) -> str:
    res = send(api, "GET", f"/returns/{rid}", None, auth("ops"))
    assert res.status_code == 200
    return res.body.decode()


def _as_refund_failed(rid: str, error: str) -> None:
    """The refund step's failure, recorded as the workflow records it (settlement.mark_failed)."""
    from returns_core.store.models import ReturnModel
    from returns_core.store.returns import get
    from returns_core.usecases import settlement

    ret = get(rid)
    ret.update(actions=[ReturnModel.status.set("refunding"),
                        ReturnModel.inspection.set({"by": f"warehouse:{SECRET}", "at": "2026-11-20T10:00:00Z",
                                                    "items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "opened",
                                                               "note": f"stain, {SECRET}", "refund_amount": 2249}]}),
                        ReturnModel.approval.set({"by": f"finance:{SECRET}", "at": "2026-11-20T11:00:00Z",
                                                  "note": f"ok {SECRET}"}),
                        ReturnModel.refund.set({"amount": 2249, "method": "stripe", "status": "failed",
                                                "error": STACK, "ledger_seq": 7})])
    settlement.mark_failed(rid, error)


def test_a_failed_refund_reads_as_a_sentence_to_the_customer_and_in_full_to_staff(api, order):
    rid = start_return(api)["return_id"]
    _as_refund_failed(rid, STACK)
    english, french, listed = _customer_reads(api, rid)
    for text in (english, french, listed):
        assert SECRET not in text and "Traceback" not in text and "/var/task" not in text, text
    failed = [e for e in json.loads(english)["timeline"] if e["type"] == "refund.failed"]
    assert failed == [{"at": failed[0]["at"], "type": "refund.failed", "actor": "system", "detail": None,
                       "text": "Your refund could not be paid yet; our team is on it."}]
    failed_fr = [e for e in json.loads(french)["timeline"] if e["type"] == "refund.failed"]
    assert failed_fr[0]["text"] == "Votre remboursement n’a pas encore pu être payé ; notre équipe s’en occupe."
    assert json.loads(english)["refund"] == {"amount": 2249, "method": "stripe", "status": "failed",
                                             "reference": None, "issued_at": None}
    staff = _staff_read(api, rid)
    assert "Traceback" in staff and "stripe_provider.py" in staff     # staff keep the whole story


def test_the_customers_moves_answer_with_the_customer_view(api, order):
    from returns_core.store.returns import append_timeline, get

    rid = start_return(api)["return_id"]
    append_timeline(get(rid), actor=f"ops:{SECRET}", event="review.approved", detail={"note": SECRET})
    res = send(api, "POST", f"/returns/{rid}/cancel", {}, customer("o-1"))
    assert res.status_code == 200 and SECRET not in res.body.decode()
    actors = {e["actor"] for e in res.json_body["timeline"]}
    assert actors <= {"customer", "system", "carrier", "staff"}


# Entry types the customer may see some detail of, and every other type (known or not).
_TYPES = st.sampled_from(["refund.failed", "refund.issued", "return.inspected", "label.failed", "exchange.shipped",
                          "message.sent", "withdrawal.received", "carrier.dropped_off", "exception.granted",
                          "review.rejected", "refund.approved", "effect.failed", "internal.debug", "dispute.resolved"])
_STAFF_KEYS = st.sampled_from(["error", "stack", "trace", "path", "note", "by", "inspector", "reason", "template",
                               "cause", "response", "execution_arn", "task_token", "ledger_seq", "internal"])
_SECRET_TEXT = st.builds(lambda a, b: f"{a}{SECRET}{b}", st.text(max_size=10), st.text(max_size=10))
_DETAIL = st.one_of(_SECRET_TEXT, st.dictionaries(_STAFF_KEYS, _SECRET_TEXT, min_size=1, max_size=4),
                    st.lists(_SECRET_TEXT, min_size=1, max_size=3))
_STAFF = st.sampled_from([f"warehouse:{SECRET}", f"ops:{SECRET}", f"finance:{SECRET}", SECRET,
                          f"store:{SECRET}"])


_orders = itertools.count(1)


# slow: thirty generated timelines, each on a new return
@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.tuples(_TYPES, _STAFF, _DETAIL), min_size=1, max_size=5))
def test_no_staff_name_or_staff_only_detail_ever_reaches_the_customer(api, entries):
    """The class: whatever staff write to a timeline (any entry type, any detail that is not on the
    type's allow-list, any staff member as the actor), the customer's JSON holds none of it."""
    from returns_core.store.returns import append_timeline, get

    order_id = f"o-view-{next(_orders)}"
    assert send(api, "PUT", f"/orders/{order_id}", order_body(), auth("store")).status_code == 201
    rid = start_return(api, order_id)["return_id"]
    for kind, actor, detail in entries:
        append_timeline(get(rid), actor=actor, event=kind, detail=detail)
    for text in _customer_reads(api, rid, order_id):
        assert SECRET not in text
    assert SECRET in _staff_read(api, rid)


def test_a_claims_timeline_goes_through_the_same_allow_list(api, order):
    from returns_core.store import claims

    res = send(api, "POST", "/claims", {"order_id": "o-1", "kind": "missing_item", "message": "one was missing",
                                        "lines": [{"sku": "TSHIRT-M", "qty": 1}]}, customer("o-1"))
    assert res.status_code == 201, res.body
    cid = res.json_body["claim_id"]
    claims.append_timeline(claims.get(cid), actor=f"ops:{SECRET}", event="claim.note", detail={"note": SECRET})
    seen = send(api, "GET", f"/claims/{cid}", None, customer("o-1"))
    assert seen.status_code == 200 and SECRET not in seen.body.decode()
    assert {e["actor"] for e in seen.json_body["timeline"]} <= {"customer", "system", "staff"}
