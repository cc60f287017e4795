"""Issue 20: fewer, better emails. The inspection's result is told when it is news, with the move whose
text is true; a refunded return closing sends no email; a dispute's close still does."""
from __future__ import annotations

import pytest

from returns_core.rules import effects, statuses

REQUESTED = [{"sku": "JEANS-32", "qty": 1, "reason": "too_small"}, {"sku": "TSHIRT-M", "qty": 2}]
AS_SENT = [{"sku": "JEANS-32", "qty": 1, "condition": "resellable"},
           {"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"},
           {"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]


@pytest.mark.parametrize("graded", [
    [dict(AS_SENT[0], condition="damaged"), *AS_SENT[1:]],
    [*AS_SENT[:2], dict(AS_SENT[2], condition="opened")],
    AS_SENT[:2],                       # one T-shirt fewer than requested
    [dict(AS_SENT[0], condition=None), *AS_SENT[1:]],
    None, [],
])
def test_an_inspection_that_changed_the_quote_is_news(graded):
    assert effects.inspection_is_news(REQUESTED, graded)


def test_an_inspection_that_confirmed_the_quote_is_not_news_whatever_its_fees():
    # The fees (a too_small return's shipping fee) were in the quote the customer saw before sending.
    assert not effects.inspection_is_news(REQUESTED, AS_SENT)
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


def test_closing_after_a_follow_up_asked_sends_no_email_other_closes_do():
    for previous in (statuses.REFUNDED, statuses.RESOLVED):
        assert effects.MOVES[(previous, statuses.CLOSED)].email is None
        assert effects.MOVES[(previous, statuses.CLOSED)].event == effects.RULES[statuses.CLOSED].event
    assert effects.RULES[statuses.CLOSED].email == "return_closed"

