"""Issue 19: a claim's refund through the shipping gateway, paid by the Settle function as built by
`sam build` (the API invokes it synchronously, as for the ledger check: only Settle may write the
ledger). One end-to-end path: the wiring (the invoke, Settle's `claim_refund` request, its table and
its key); the rules are tested at the API level (tests/api/test_claims.py)."""
from __future__ import annotations

from returns_core.edge import auth
from returns_core.store import ledger
from returns_core.store.models import OrderModel

from .helpers import order_payload


def test_a_claim_refund_is_paid_by_settle_once_and_the_ledger_verifies(stack, http):
    store, ops = auth.mint("store", "store:web"), auth.mint("ops", "ops:carol")
    assert http.call("PUT", "/orders/ORD-CLAIM", order_payload("claim@example.com"), token=store)[0] == 201
    customer = http.call("POST", "/returns/lookup", {"order_id": "ORD-CLAIM", "email": "claim@example.com"})[1]["token"]
    status, claim, _ = http.call("POST", "/claims", {"order_id": "ORD-CLAIM", "kind": "not_received",
                                                     "lines": [{"sku": "JEANS-32", "qty": 1}],
                                                     "message": "The parcel never came"}, token=customer)
    assert status == 201, claim
    cid = claim["claim_id"]
    body = {"decision": "refund", "note": "Sorry, refunded", "method": "store_credit"}
    status, resolved, _ = http.call("POST", f"/claims/{cid}/resolve", body, token=ops,
                                    headers={"Idempotency-Key": "claim-1"})
    assert status == 200, resolved
    assert resolved["status"] == "refunded" and resolved["resolution"]["amount"] == 7999
    # Sent again with another key: decided and paid, a 409; the ledger holds one entry.
    assert http.call("POST", f"/claims/{cid}/resolve", body, token=ops)[0] == 409
    entries = [e for e in ledger.entries() if e.return_id == cid]
    assert [(e.kind, int(e.amount), e.entry_id) for e in entries] == [("claim", 7999, f"{cid}:claim:1")]
    assert int(OrderModel.get("ORD-CLAIM", consistent_read=True).refunded_total) == 7999
    assert http.call("GET", "/finance/ledger/verify", token=auth.mint("finance", "fin:eve"))[1]["ok"] is True
    mine = http.call("GET", f"/claims/{cid}", token=customer)[1]
    assert [t["type"] for t in mine["timeline"]][:1] == ["claim.opened"] and "claim.refunded" in \
        [t["type"] for t in mine["timeline"]]
