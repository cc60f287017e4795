"""The rules a lost parcel settles by (pure): graded as lost by the carrier it is quoted like a parcel that
arrived as sent, and a settlement that paid nothing back is never announced as a refund."""
from __future__ import annotations

import pytest

from returns_core.outbound.notifications import messages, sms_text
from returns_core.rules import effects, policy, statuses

PRICES = {"TSHIRT-M": 2499, "JEANS-32": 7999}
ITEMS = [{"sku": "TSHIRT-M", "qty": 2, "reason": "too_small", "unit_price": 2499, "paid": 4998},
         {"sku": "JEANS-32", "qty": 1, "reason": "defective", "unit_price": 7999, "paid": 7000}]


def _lost(resolution: str) -> policy.Quote:
    return policy.quote_inspected(ITEMS, policy.lost_in_transit(ITEMS), PRICES, "EUR", resolution)


def test_a_lost_parcel_is_quoted_like_one_that_arrived_as_sent():
    arrived = [{"sku": i["sku"], "qty": i["qty"], "condition": "resellable"} for i in ITEMS]
    for resolution in ("refund", "store_credit"):
        lost = _lost(resolution)
        assert lost.to_api() == policy.quote_inspected(ITEMS, arrived, PRICES, "EUR", resolution).to_api()
        assert lost.refund_amount > 0 and lost.items_total == 4998 + 7000   # what was paid, not the list price
    # A store's grades cannot make the carrier's loss the customer's: always in full.
    stingy = policy.Policy(grade_percent={"resellable": 10, "opened": 0, "damaged": 0, "wrong_item": 0, "missing": 0})
    assert policy.quote_inspected(ITEMS, policy.lost_in_transit(ITEMS), PRICES, "EUR", "refund",
                                  stingy).items_total == 4998 + 7000


def test_a_lost_exchange_swaps_every_line_and_refunds_nothing():
    lost = _lost("exchange")
    assert lost.refund_amount == 0 and [(x.sku, x.qty) for x in lost.exchanged] == [("TSHIRT-M", 2), ("JEANS-32", 1)]
    stored = policy.inspection_items(lost)
    assert [(x["sku"], x["condition"], x["exchanged"]) for x in stored] == [
        ("TSHIRT-M", policy.LOST_IN_TRANSIT, True), ("JEANS-32", policy.LOST_IN_TRANSIT, True)]
    # ...so the claim declares what the goods were worth, not the 0 the return refunds.
    assert policy.declared_value(ITEMS) == 4998 + 7000
    assert not policy.is_received(policy.LOST_IN_TRANSIT) and policy.is_received("missing")


def test_a_lost_parcel_may_wait_for_approval_like_an_inspected_one():
    assert statuses.can_move(statuses.LOST, statuses.AWAITING_APPROVAL)
    assert statuses.can_move(statuses.LOST, statuses.REFUNDING)


@pytest.mark.parametrize("amount", [0, None, -1])
def test_nothing_paid_back_is_never_announced_as_a_refund(amount):
    refunded = effects.RULES[statuses.REFUNDED]
    assert refunded.email in effects.REFUND_MESSAGES and refunded.sms in effects.REFUND_MESSAGES
    quiet = effects.announce(refunded, amount)
    assert quiet.email is None and quiet.sms is None
    assert quiet.event == refunded.event and quiet.action == refunded.action   # the exchange still follows
    assert effects.announce(refunded, 1) == refunded
    # Other messages are not refund messages: they go out whatever the refund.
    assert effects.announce(effects.RULES[statuses.LOST], 0) == effects.RULES[statuses.LOST]


def test_the_refund_message_builders_refuse_a_refund_of_nothing():
    ret = {"return_id": "ret_1", "order_id": "o-1", "status": "refunded", "resolution": "exchange",
           "currency": "EUR", "items": [], "refund": {"amount": 0, "method": "original_payment", "status": "none"}}
    customer = {"name": "Ana", "email": "ana@example.com", "locale": "fr-FR"}
    with pytest.raises(ValueError, match="above zero"):
        messages.build("refund_issued", ret, customer, portal_url="https://shop.example/portal")
    with pytest.raises(ValueError, match="above zero"):
        sms_text("refund_issued", "fr", ret)
    paid = {**ret, "resolution": "refund", "refund": {**ret["refund"], "amount": 1299}}
    assert messages.build("refund_issued", paid, customer, portal_url="https://x")["refund_amount"] == "12,99 €"
