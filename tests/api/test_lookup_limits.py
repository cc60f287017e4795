"""Lookup limits (rules/lookup_limits.py): a guesser is slowed, and the real customer is not locked out
by a guesser sharing their address (an office, a mobile network's NAT); with a proof that they are
the order's customer (a token we gave them for it), not even once the address is spent.
"""
from __future__ import annotations

import pytest

from tests.api.support import auth, customer, error_of, order_body, send

NAT = "198.51.100.7"


def from_address(monkeypatch, ip: str) -> None:
    """Requests that follow come from this client address (API Gateway's requestContext.identity.sourceIp)."""
    from chalice.local import LambdaEventConverter

    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", ip)


def lookup(api, order_id: str, email: str, proof: str | None = None):
    headers = {"Authorization": f"Bearer {proof}"} if proof else {}
    return send(api, "POST", "/returns/lookup", {"order_id": order_id, "email": email}, headers)


def lookup_status(api, order_id: str, email: str, proof: str | None = None) -> int:
    return lookup(api, order_id, email, proof).status_code


def _portal_session(order_id: str = "o-1") -> str:
    """What a customer who followed an email's portal link holds: a session on one return of the order."""
    from returns_core.edge import auth as tokens

    return tokens.mint_session(order_id, "ret_anyreturnofthisorder")


# slow (these five): a guesser spends a window's limit, a lookup at a time
@pytest.mark.slow
def test_an_address_that_keeps_guessing_wrong_is_slowed(api, order, monkeypatch):
    from returns_core.rules.lookup_limits import ADDRESS_FAILURES

    from_address(monkeypatch, NAT)
    for n in range(ADDRESS_FAILURES):    # a different order and email each time: only the address's count trips
        assert lookup_status(api, f"o-guess-{n}", f"guess{n}@example.com") == 404
    res = lookup(api, "o-guess-x", "guess-x@example.com")
    assert res.status_code == 429 and int(res.headers["Retry-After"]) > 0
    assert error_of(res)["code"] == "too_many_requests"


@pytest.mark.slow
def test_a_customer_behind_a_guessers_address_still_finds_their_order(api, order, monkeypatch):
    """The guesser walks order numbers from the office's one address: the customer's order and email are
    never touched, the address's ceiling is far above a person's typos, so the customer gets in; once the
    guesser has spent the address, the customer's proof still does."""
    from returns_core.rules.lookup_limits import ADDRESS_FAILURES

    from_address(monkeypatch, NAT)
    for n in range(ADDRESS_FAILURES // 2):
        assert lookup_status(api, f"o-guess-{n}", f"guess{n}@example.com") == 404
    assert lookup_status(api, "o-1", "bob@example.com") == 404          # the customer mistypes, twice
    assert lookup_status(api, "o-1", "ana@exmaple.com") == 404
    assert lookup_status(api, "o-1", "ana@example.com") == 200          # and gets in
    for n in range(ADDRESS_FAILURES // 2, ADDRESS_FAILURES):
        lookup_status(api, f"o-guess-{n}", f"guess{n}@example.com")
    assert lookup_status(api, "o-guess-y", "guess-y@example.com") == 429   # the guesser is stopped
    assert lookup_status(api, "o-1", "ana@example.com") == 429              # and so is anyone without a proof
    assert lookup_status(api, "o-1", "ana@example.com", _portal_session()) == 200   # the proof gets in
    assert lookup_status(api, "o-1", "ana@example.com", customer("o-1")["Authorization"].split()[1]) == 200


@pytest.mark.slow
def test_a_proof_is_for_its_own_order_only_and_never_finds_it_without_the_email(api, order, monkeypatch):
    from returns_core.rules.lookup_limits import ADDRESS_FAILURES, PAIR_FAILURES

    assert send(api, "PUT", "/orders/o-2", order_body(), auth("store")).status_code == 201
    from_address(monkeypatch, NAT)
    for n in range(ADDRESS_FAILURES):
        lookup_status(api, f"o-guess-{n}", f"guess{n}@example.com")
    other_orders = _portal_session("o-2")
    assert lookup_status(api, "o-1", "ana@example.com", other_orders) == 429    # a proof of another order
    assert lookup_status(api, "o-1", "ana@example.com", "not.a.token") == 429   # nor a bad one
    from returns_core.edge import auth as tokens
    label_link = tokens.mint_label_link("o-1", "ret_anyreturnofthisorder")
    assert lookup_status(api, "o-1", "ana@example.com", label_link) == 429   # nor a link's: a label URL travels
    proof = _portal_session("o-1")
    # The proof lifts the address's limit, not the need for the right email, nor the pair's own limit.
    tries = [lookup_status(api, "o-1", "eve@example.com", proof) for _ in range(PAIR_FAILURES + 1)]
    assert tries == [404] * PAIR_FAILURES + [429]
    assert lookup_status(api, "o-1", "ana@example.com", proof) == 200


def test_many_order_ids_against_one_email_are_stopped(api, order, monkeypatch):
    """The attack on one customer: order ids walked against their email. Each id fails once; the email's
    count marks it under attack, and this address, which failed on it, is stopped there; the customer
    elsewhere is not."""
    from returns_core.rules.lookup_limits import TARGET_FAILURES

    from_address(monkeypatch, "198.51.100.8")
    statuses = [lookup_status(api, f"o-guess-{n}", "ana@example.com") for n in range(TARGET_FAILURES + 5)]
    assert statuses[:TARGET_FAILURES] == [404] * TARGET_FAILURES
    assert set(statuses[TARGET_FAILURES:]) == {429}
    assert lookup_status(api, "o-1", "ana@example.com") == 429      # the right guess is refused too
    from_address(monkeypatch, "192.0.2.12")
    assert lookup_status(api, "o-1", "ana@example.com") == 200      # the customer, elsewhere, is not


@pytest.mark.slow
def test_an_order_under_attack_stops_addresses_that_already_guessed_wrong_on_it(api, order, monkeypatch):
    """Guesses spread over many addresses: once the order id has drawn many failures, each address gets
    only a few tries there; the customer on a clean address, or on a spent one with a proof, gets in."""
    from returns_core.rules.lookup_limits import CLEAN_ADDRESS_FAILURES, TARGET_FAILURES

    for n in range(TARGET_FAILURES):
        from_address(monkeypatch, f"203.0.113.{n}")
        assert lookup_status(api, "o-1", f"guess{n}@example.com") == 404
    from_address(monkeypatch, "203.0.113.200")
    tries = [lookup_status(api, "o-1", f"more{n}@example.com") for n in range(CLEAN_ADDRESS_FAILURES + 2)]
    assert tries[:CLEAN_ADDRESS_FAILURES] == [404] * CLEAN_ADDRESS_FAILURES
    assert set(tries[CLEAN_ADDRESS_FAILURES:]) == {429}
    assert lookup_status(api, "o-1", "ana@example.com") == 429          # this address is stopped on o-1
    assert lookup_status(api, "o-9", "someone@example.com") == 404      # but not on another order
    assert lookup_status(api, "o-1", "ana@example.com", _portal_session()) == 200
    from_address(monkeypatch, "192.0.2.11")
    assert lookup_status(api, "o-1", "ana@example.com") == 200


def test_the_same_wrong_pair_stops_early(api, order, monkeypatch):
    from returns_core.rules.lookup_limits import PAIR_FAILURES

    from_address(monkeypatch, "203.0.113.66")
    tries = [lookup_status(api, "o-1", "Eve@example.com ") for _ in range(PAIR_FAILURES + 1)]
    assert tries == [404] * PAIR_FAILURES + [429]
    assert lookup_status(api, "o-1", "Ana@Example.com ") == 200      # the right pair is another pair


def test_lookup_counters_store_no_order_id_email_or_address(api, order, monkeypatch):
    from returns_core.store.models import RequestRecordModel

    from_address(monkeypatch, "198.51.100.9")
    lookup_status(api, "o-1", "eve@example.com")
    stored = " ".join(f"{r.id} {r.attribute_values}" for r in RequestRecordModel.scan())
    assert "lookup:" in stored
    assert not any(value in stored for value in ("o-1", "eve@example.com", "198.51.100.9"))


@pytest.mark.slow
def test_lookup_limits_hold_across_a_windows_edge(api, order, monkeypatch):
    """Failures just before a window's edge still count just after it: no fresh allowance at :00, :15..."""
    import time as time_module

    from returns_core.rules.lookup_limits import ADDRESS_FAILURES, WINDOW_SECONDS

    edge = (int(time_module.time()) // WINDOW_SECONDS + 1) * WINDOW_SECONDS
    from_address(monkeypatch, "198.51.100.77")
    monkeypatch.setattr(time_module, "time", lambda: edge - 1)
    for n in range(ADDRESS_FAILURES):
        assert lookup_status(api, f"o-edge-{n}", f"edge{n}@example.com") == 404
    monkeypatch.setattr(time_module, "time", lambda: edge + 1)
    assert lookup_status(api, "o-1", "ana@example.com") == 429
