"""Issue 20: fewer, better emails. The inspection's result is told when it is news, with the move whose
text is true; a refunded return closing sends no email; a dispute's close still does."""
from __future__ import annotations

import pytest

from returns_core.rules import effects, statuses

FULL = {"restocking_fee": 0, "return_shipping_fee": 0, "refund_amount": 7999}
RESELLABLE = [{"sku": "JEANS-32", "qty": 1, "received_qty": 1, "condition": "resellable"}]


@pytest.mark.parametrize("quote, items", [
    (dict(FULL, restocking_fee=100), RESELLABLE),
    (dict(FULL, return_shipping_fee=295), RESELLABLE),
    (FULL, [dict(RESELLABLE[0], condition="damaged")]),
    (FULL, [dict(RESELLABLE[0], qty=2, received_qty=1)]),
    (None, RESELLABLE),
])
def test_an_inspection_that_took_something_off_is_news(quote, items):
    assert effects.inspection_is_news(quote, items)


def test_an_inspection_that_confirmed_the_request_is_not_news():
    assert not effects.inspection_is_news(FULL, RESELLABLE)
    refunding = effects.MOVES[(statuses.INSPECTED, statuses.REFUNDING)]
    assert effects.announce(refunding, None, inspection_news=False).email is None
    assert effects.announce(refunding, None, inspection_news=True).email == "inspection_result"


def test_the_inspection_result_goes_with_the_move_after_it_never_twice():
    assert effects.RULES[statuses.INSPECTED].email is None
    assert effects.MOVES[(statuses.INSPECTED, statuses.AWAITING_APPROVAL)].email == "inspection_result"
    assert effects.MOVES[(statuses.INSPECTED, statuses.REFUNDING)].email == "inspection_result"
    # Approved later, the refund starts without telling the inspection again.
    assert (statuses.AWAITING_APPROVAL, statuses.REFUNDING) not in effects.MOVES
    assert effects.RULES[statuses.REFUNDING].email is None


def test_closing_a_refunded_return_sends_no_email_closing_a_dispute_does():
    assert effects.MOVES[(statuses.REFUNDED, statuses.CLOSED)].email is None
    assert effects.MOVES[(statuses.REFUNDED, statuses.CLOSED)].event == effects.RULES[statuses.CLOSED].event
    assert (statuses.RESOLVED, statuses.CLOSED) not in effects.MOVES
    assert effects.RULES[statuses.CLOSED].email == "return_closed"

