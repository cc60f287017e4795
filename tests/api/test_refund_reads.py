"""A refund's settlement reads its return once and its order once: the grading of a lost parcel, the
hold, the payment and the messages of both moves (refunding, refunded) share what was read, and
every write leaves the record as written. What the ledger's transaction reads again to condition on
(store/ledger.py) is not a read of the settlement's and is not counted here."""
from __future__ import annotations

import pytest

from returns_core.store import returns
from returns_core.store.models import OrderModel, ReturnModel
from returns_core.usecases import settlement

from tests.workflow.refund_fixtures import make_order, make_return


@pytest.fixture
def reads(stack, monkeypatch):
    counted: dict[str, list[str]] = {"order": [], "return": []}
    for name, model in (("order", OrderModel), ("return", ReturnModel)):
        original = model.get.__func__

        def get(cls, key, *args, _name=name, _original=original, **kwargs):
            counted[_name].append(key)
            return _original(cls, key, *args, **kwargs)

        monkeypatch.setattr(model, "get", classmethod(get))
    monkeypatch.delenv("STATUS_EFFECTS_FUNCTION", raising=False)   # the move's messages sent here, inline
    yield counted


def _order_with_a_phone(order_id: str) -> None:
    order = make_order(order_id, captured=10_000)
    order.customer = {**order.customer, "phone": "+33600000001"}   # an email and an SMS when refunded
    order.save()


@pytest.mark.parametrize("status", ["inspected", "lost"])
def test_a_refunds_settlement_reads_its_return_and_its_order_once(reads, status):
    _order_with_a_phone("O-READS")
    make_return("R-READS", "O-READS", 1000, status=status)
    reads["order"].clear()
    reads["return"].clear()

    outcome = settlement.settle_outcome("R-READS")

    assert outcome == {"status": "refunded", "manual": False}
    assert reads == {"order": ["O-READS"], "return": ["R-READS"]}
    # The messages were sent (and read the customer from the order already read): the refund's email and SMS.
    ret = ReturnModel.get("R-READS")
    sent = [e["detail"]["channel"] for e in returns.timeline_of(ret) if e["type"] == "message.sent"]
    assert sent.count("email") >= 1 and sent.count("sms") == 1, sent


def test_a_manual_refund_tells_the_workflow_it_waits_without_reading_the_return_again(reads):
    make_order("O-MANUAL", captured=10_000, provider="manual")
    make_return("R-MANUAL", "O-MANUAL", 1000, resolution="refund")
    reads["order"].clear()
    reads["return"].clear()

    outcome = settlement.settle_outcome("R-MANUAL")

    assert outcome == {"status": "refunding", "manual": True}
    assert reads == {"order": ["O-MANUAL"], "return": ["R-MANUAL"]}
    assert ReturnModel.get("R-MANUAL").refund["status"] == "pending_manual"
