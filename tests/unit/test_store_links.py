"""The store's signed return links (rules/store_links.py): what the store signs, and what is refused."""
from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, strategies as st

from returns_core.rules import store_links
from returns_core.rules.errors import UnauthorizedError

KEY = b"local-store-link-secret"
NOW = 1_800_000_000


def test_the_signature_is_the_contracts_hmac_of_order_lowercased_email_and_exp():
    """../shared/api.md v3: hex HMAC-SHA256 of "{order_id}\\n{email lower-cased}\\n{exp}"; a store computes
    it with its platform's own HMAC (Liquid's hmac_sha256, PHP's hash_hmac), so it must be exactly this."""
    expected = hmac.new(KEY, b"A-1001\nlea@example.com\n1800000600", hashlib.sha256).hexdigest()
    assert store_links.sign(KEY, "A-1001", "Lea@Example.COM", 1800000600) == expected
    store_links.check([KEY], "A-1001", "lea@example.com", 1800000600, expected.upper(), now=NOW)


def _code(keys, order_id, email, exp, sig, now=NOW) -> str:
    with pytest.raises(UnauthorizedError) as caught:
        store_links.check(keys, order_id, email, exp, sig, now=now)
    assert caught.value.status == 401
    return caught.value.code


def test_an_expired_link_says_so_only_when_the_store_made_it():
    sig = store_links.sign(KEY, "A-1", "a@example.com", NOW)
    assert _code([KEY], "A-1", "a@example.com", NOW, sig) == "link_expired"          # exp is now: over
    assert _code([KEY], "A-1", "a@example.com", NOW, "0" * 64) == "bad_signature"    # not the store's: no hint
    store_links.check([KEY], "A-1", "a@example.com", NOW, sig, now=NOW - 1)


def test_during_a_rollover_either_key_signs_and_no_other():
    old, new = b"old-key", b"new-key"
    for key in (old, new):
        store_links.check([new, old], "A-1", "a@example.com", NOW + 60, store_links.sign(key, "A-1", "a@example.com",
                                                                                          NOW + 60), now=NOW)
    assert _code([new], "A-1", "a@example.com", NOW + 60,
                 store_links.sign(old, "A-1", "a@example.com", NOW + 60)) == "bad_signature"


def test_an_empty_key_list_is_a_configuration_error_not_an_open_door():
    with pytest.raises(RuntimeError):
        store_links.check([], "A-1", "a@example.com", NOW + 60, "0" * 64, now=NOW)


order_ids = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)
emails = st.emails()


@given(order_ids, emails, st.integers(NOW + 1, NOW + 10**8), st.data())
def test_any_change_to_a_signed_field_breaks_the_signature(order_id, email, exp, data):
    sig = store_links.sign(KEY, order_id, email, exp)
    store_links.check([KEY], order_id, email.upper(), exp, sig, now=NOW)   # the email is matched without case
    other_order = data.draw(order_ids.filter(lambda o: o != order_id))
    other_email = data.draw(emails.filter(lambda e: e.lower() != email.lower()))
    other_exp = data.draw(st.integers(NOW + 1, NOW + 10**8).filter(lambda e: e != exp))
    assert _code([KEY], other_order, email, exp, sig) == "bad_signature"
    assert _code([KEY], order_id, other_email, exp, sig) == "bad_signature"
    assert _code([KEY], order_id, email, other_exp, sig) == "bad_signature"
    assert _code([b"another-store"], order_id, email, exp, sig) == "bad_signature"
