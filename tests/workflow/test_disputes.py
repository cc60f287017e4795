"""Issue 19 on the real ASL: a dispute waits for customer service, its resolution's adjustment is
paid by the Settle step as an `adjustment` ledger entry, the customer is asked a follow-up question
after DisputeFollowupDelaySeconds, and the return closes on its own when nobody answers."""
from __future__ import annotations

import pytest

from .helpers import order_payload
from .test_notifications_sequence import Journey, Outbox, client, deployed, wait_for

pytestmark = pytest.mark.xdist_group("workflow")


def _waiting(rid: str) -> str | None:
    from returns_core.store import returns

    try:
        return returns.get(rid).waiting_for
    except RuntimeError:   # moto read the item while another thread wrote it
        return None


def test_a_dispute_resolved_with_an_adjustment_is_paid_once_followed_up_and_closed(monkeypatch):
    with deployed(monkeypatch, {"DisputeFollowupDelaySeconds": "1", "AutocloseDelaySeconds": "1"}) as stack, \
            client() as http:
        outbox = Outbox(stack)
        journey = Journey(http, "ORD-DSP", order_payload(locale="fr-FR"))
        journey.start({"method": "letterbox"})
        journey.to_refunded()
        status, body, _ = http.call("POST", f"/returns/{journey.rid}/dispute", {"message": "one sleeve is torn"},
                                    token=journey.customer)
        assert status == 200 and body["status"] == "disputed", body
        # The workflow no longer ends here: it waits for customer service.
        wait_for(lambda: _waiting(journey.rid), lambda w: w == "dispute", what="the dispute wait")
        journey.until("disputed", sent=sum(1 for t in body["timeline"] if t["type"] == "message.sent") + 1)

        status, body, _ = http.call("POST", f"/returns/{journey.rid}/dispute/resolve",
                                    {"decision": "uphold", "note": "Désolés pour la manche", "refund_amount": 500,
                                     "method": "store_credit"}, token=journey.ops)
        assert status == 200 and body["status"] == "resolved", body

        ret = wait_for(journey.get, lambda r: r.get("status") == "closed", timeout=40, what="closed")
        assert ret["dispute_resolution"]["status"] == "succeeded"
        types = [t["type"] for t in ret["timeline"]]
        assert types.index("dispute.resolved") < types.index("dispute.adjustment_paid") < \
            types.index("return.auto_closed")
        assert outbox.templates()[-4:] == ["dispute_opened-fr", "dispute_resolved-fr", "dispute_followup-fr",
                                           "return_closed-fr"]
        resolved = dict(outbox.emails())["dispute_resolved-fr"]
        assert resolved["has_adjustment"] is True and resolved["note"] == "Désolés pour la manche"

        from returns_core.store import ledger
        from returns_core.store.models import OrderModel

        entries = [(e.kind, int(e.amount)) for e in ledger.entries() if e.return_id == journey.rid]
        assert entries[-1] == ("adjustment", 500) and [k for k, _ in entries].count("adjustment") == 1
        order = OrderModel.get("ORD-DSP", consistent_read=True)
        assert int(order.refunded_total) == sum(a for _, a in entries) and not dict(order.refund_holds or {})
