"""A return started from the store's own order page (../shared/api.md v3, "Store links"): the signed
lookup, what it refuses, and that the lookup limits neither stop nor count it."""
from __future__ import annotations

import time

import pytest

from returns_core.rules import store_links

from tests.api.support import STORE_LINK_SECRET, error_of, send


def link(order_id: str = "o-1", email: str = "ana@example.com", exp: int | None = None,
         secret: str = STORE_LINK_SECRET) -> dict:
    exp = int(time.time()) + 3600 if exp is None else exp
    return {"order_id": order_id, "email": email, "exp": exp,
            "sig": store_links.sign(secret.encode(), order_id, email, exp)}


def test_a_signed_link_finds_the_order_as_a_lookup_does(api, order):
    res = send(api, "POST", "/returns/lookup", link(email="ANA@example.com"))
    assert res.status_code == 200, res.body
    body = res.json_body
    assert body["order"]["order_id"] == "o-1" and body["token"]
    typed = send(api, "POST", "/returns/lookup", {"order_id": "o-1", "email": "ana@example.com"}).json_body
    assert set(body) == set(typed) and body["order"] == typed["order"]
    # the token it gives works like any customer token of the order
    mine = api.http.request("GET", "/orders/o-1/returns", headers={"Authorization": f"Bearer {body['token']}"})
    assert mine.status_code == 200


@pytest.mark.parametrize("change, code", [
    ({"sig": "0" * 64}, "bad_signature"),
    ({"order_id": "o-2"}, "bad_signature"),        # signed for o-1, sent for another order
    ({"email": "eve@example.com"}, "bad_signature"),
])
def test_a_link_not_signed_for_this_order_and_email_is_a_401(api, order, change, code):
    res = send(api, "POST", "/returns/lookup", {**link(), **change})
    assert res.status_code == 401
    assert error_of(res)["code"] == code


def test_a_link_signed_with_another_secret_is_a_401(api, order):
    res = send(api, "POST", "/returns/lookup", link(secret="someone-elses-secret"))
    assert res.status_code == 401 and error_of(res)["code"] == "bad_signature"


def test_an_expired_link_is_a_401_link_expired(api, order):
    res = send(api, "POST", "/returns/lookup", link(exp=int(time.time()) - 1))
    assert res.status_code == 401 and error_of(res)["code"] == "link_expired"


@pytest.mark.parametrize("body, field", [
    ({"order_id": "o-1", "email": "ana@example.com", "exp": 1900000000}, "sig"),
    ({"order_id": "o-1", "email": "ana@example.com", "sig": "a" * 64}, "sig"),
    ({"order_id": "o-1", "email": "ana@example.com", "exp": 1900000000, "sig": "not-hex"}, "sig"),
    ({"order_id": "o-1", "email": "ana@example.com", "exp": "1900000000", "sig": "a" * 64}, "exp"),
    ({"order_id": "o-1", "email": "ana@example.com", "exp": -5, "sig": "a" * 64}, "exp"),
])
def test_half_a_link_or_a_malformed_one_names_the_field(api, order, body, field):
    res = send(api, "POST", "/returns/lookup", body)
    assert res.status_code in (400, 422), res.body
    assert field in str(error_of(res)), error_of(res)


def test_signed_links_are_not_limited_and_do_not_count_against_the_customer(api, order):
    """The lookup limits slow guessers; a store-signed link is no guess. Many in a row pass, and many
    bad ones (a 401 each) never lock the real customer's typed lookup out."""
    from returns_core.rules.lookup_limits import PAIR_FAILURES

    for _ in range(PAIR_FAILURES + 2):
        assert send(api, "POST", "/returns/lookup", {**link(), "sig": "0" * 64}).status_code == 401
    for _ in range(PAIR_FAILURES + 2):
        assert send(api, "POST", "/returns/lookup", link()).status_code == 200
    typed = send(api, "POST", "/returns/lookup", {"order_id": "o-1", "email": "ana@example.com"})
    assert typed.status_code == 200


def test_a_signed_link_for_an_order_that_does_not_exist_is_a_404(api, order):
    res = send(api, "POST", "/returns/lookup", link(order_id="o-missing"))
    assert res.status_code == 404


def test_the_portal_opens_with_a_link_in_its_address(api):
    """The page itself is the same; its script reads the link (tests/browser: signed in with nothing typed)."""
    query = "order_id=o-1&email=ana%40example.com&exp=1900000000&sig=" + "a" * 64
    res = api.http.request("GET", f"/portal?{query}")
    assert res.status_code == 200 and b"/returns/lookup" in res.body
