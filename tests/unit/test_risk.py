"""The risk score (rules/risk.py) and when the refund is paid (rules/refund_timing.py): pure rules."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from returns_core.rules import clock, policy_document, refund_timing, risk

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def _ago(**delta) -> str:
    return clock.iso(NOW - timedelta(**delta))


def _request(**over) -> risk.Request:
    base = {"order_id": "o-1", "refund_amount": 2000, "order_captured": 10000, "approval_threshold": 50000}
    return risk.Request(**{**base, **over})


def test_a_quiet_customer_scores_zero_with_no_reasons():
    scored = risk.score(risk.facts_of(_request(), [], NOW))
    assert scored.to_api() == {"score": 0, "reasons": []}


def test_each_signal_is_a_named_reason_with_its_weight():
    earlier = [risk.Earlier("o-2", _ago(days=1, hours=-1), ({"sku": "A", "reason": "changed_mind"},),
                            ({"sku": "A", "qty": 1, "condition": "damaged"},), "abuse"),
               risk.Earlier("o-3", _ago(hours=2)), risk.Earlier("o-4", _ago(days=10)),
               risk.Earlier("o-5", _ago(days=200), verdict="fine")]
    request = _request(refund_amount=30000, order_captured=30000, only_order=True,
                       shipped_to={"postcode": "75011", "country": "FR", "name": "Bob Martin"},
                       collected_from={"postcode": "13001", "country": "FR"}, customer_name="Ana Lopez",
                       failed_lookups=4)
    scored = risk.score(risk.facts_of(request, earlier, NOW))
    codes = {r.code: r.points for r in scored.reasons}
    assert codes == {"many_recent_returns": 13, "high_value": 15, "whole_order": 10, "new_customer": 10,
                     "several_orders": 15, "worse_than_declared": 13, "earlier_abuse": 40, "cleared_by_ops": -20,
                     "address_mismatch": 10, "name_mismatch": 10, "many_lookups": 15}
    assert scored.score == 100   # clamped
    assert [r.code for r in scored.reasons] == [c for c in risk.SIGNALS if c in codes]   # SIGNALS order
    detail = {r.code: r.detail for r in scored.reasons}
    assert detail["many_recent_returns"] == "3 earlier returns in the last 90 days"
    assert detail["several_orders"] == "2 other orders returned in the last 24 hours"


def test_the_store_tunes_the_weights_and_a_zero_weight_gives_no_reason():
    facts = risk.Facts(only_order=True, failed_lookups=5)
    assert risk.score(facts).score == 25
    tuned = risk.score(facts, {"new_customer": 0, "many_lookups": 60})
    assert tuned.to_api() == {"score": 60, "reasons": [
        {"code": "many_lookups", "detail": "5 failed lookups for this email lately", "points": 60}]}


def test_an_ops_fine_verdict_lowers_the_score_but_never_below_zero():
    assert risk.score(risk.Facts(fine_verdicts=1)).to_api() == {"score": 0, "reasons": [
        {"code": "cleared_by_ops", "detail": "1 earlier return marked fine by ops", "points": -20}]}


_EARLIER = st.builds(
    risk.Earlier, order_id=st.sampled_from(["o-1", "o-2", "o-3", "o-4"]),
    created_at=st.integers(0, 400 * 24).map(lambda h: _ago(hours=h)),
    items=st.lists(st.fixed_dictionaries({"sku": st.sampled_from("AB"), "reason": st.sampled_from(
        ["changed_mind", "defective", "too_small", "wrong_item"])}), max_size=2).map(tuple),
    graded=st.none() | st.lists(st.fixed_dictionaries({"sku": st.sampled_from("AB"), "qty": st.just(1),
                                                       "condition": st.sampled_from(
                                                           ["resellable", "opened", "damaged", "missing"])}),
                                max_size=2).map(tuple),
    verdict=st.sampled_from([None, "fine", "abuse"]))
_ADDRESS = st.none() | st.fixed_dictionaries({"postcode": st.sampled_from(["75011", "13001"]),
                                              "country": st.sampled_from(["FR", "BE"]),
                                              "name": st.sampled_from(["Ana Lopez", "Bob", ""])})
_REQUEST = st.builds(
    risk.Request, order_id=st.sampled_from(["o-1", "o-9"]), refund_amount=st.integers(0, 10**6),
    order_captured=st.integers(0, 10**6), approval_threshold=st.integers(0, 10**6), only_order=st.booleans(),
    shipped_to=_ADDRESS, collected_from=_ADDRESS, customer_name=st.sampled_from([None, "Ana Lopez", "Zoe"]),
    failed_lookups=st.integers(0, 50))
_WEIGHTS = st.dictionaries(st.sampled_from(risk.SIGNALS), st.integers(risk.WEIGHT_MIN, risk.WEIGHT_MAX))


@settings(max_examples=300, deadline=None)
@given(_REQUEST, st.lists(_EARLIER, max_size=30), _WEIGHTS)
def test_for_random_histories_the_score_is_deterministic_bounded_and_explained(request, earlier, weights):
    first = risk.score(risk.facts_of(request, earlier, NOW), weights)
    again = risk.score(risk.facts_of(request, list(earlier), NOW), dict(weights))
    assert first == again                                   # deterministic
    assert 0 <= first.score <= 100                          # bounded
    for reason in first.reasons:                            # every non-zero part has a reason
        assert reason.points != 0 and reason.code in risk.SIGNALS and reason.detail
    assert len({r.code for r in first.reasons}) == len(first.reasons)
    assert first.score == max(0, min(100, sum(r.points for r in first.reasons)))   # no part without its reason
    # A signal is its own reason only: every signal at weight 0 leaves nothing to explain, and scores 0.
    assert risk.score(risk.facts_of(request, earlier, NOW), dict.fromkeys(risk.SIGNALS, 0)).to_api() == {
        "score": 0, "reasons": []}


def test_the_refund_waits_for_the_inspection_above_the_hold_and_says_why():
    early = refund_timing.decide(["first_scan"], [60], 40, "refund", needs_approval=False)
    assert (early.on, early.held_by) == ("first_scan", None)
    risky = refund_timing.decide(["first_scan"], [60], 61, "refund", needs_approval=False)
    assert (risky.on, risky.held_by) == ("inspection", "risk")
    assert refund_timing.decide(["receipt"], [60], 0, "exchange", False).held_by == "exchange"
    assert refund_timing.decide(["receipt"], [60], 0, "refund", True).held_by == "approval"
    # Items asking for different moments: the latest; the strictest hold.
    mixed = refund_timing.decide(["first_scan", "receipt"], [80, 30], 31, "refund", False)
    assert (mixed.asked, mixed.on, mixed.held_by) == ("receipt", "inspection", "risk")
    assert refund_timing.decide(["inspection"], [0], 100, "refund", False).held_by is None


def test_policy_keys_are_validated_naming_the_field():
    with pytest.raises(policy_document.PolicyInvalid) as bad:
        policy_document.parse({"defaults": {"refund_on": "drop_off", "risk_hold_above": 101},
                               "rules": [{"id": "r", "set": {"risk_hold_above": "x"}}],
                               "risk_weights": {"new_customer": 101, "gut_feeling": 5}})
    assert [p for p, _ in bad.value.problems] == [
        "policy.risk_weights.gut_feeling", "policy.risk_weights.new_customer", "policy.defaults.refund_on",
        "policy.defaults.risk_hold_above", "policy.rules[0].set.risk_hold_above"]
    doc = policy_document.parse({"defaults": {"refund_on": "first_scan", "risk_hold_above": 70},
                                 "rules": [{"id": "big", "match": {"unit_price_above": 20000},
                                            "set": {"refund_on": "inspection"}}],
                                 "risk_weights": {"new_customer": 0}})
    facts = policy_document.OrderFacts("EUR")
    cheap = policy_document.decide(doc, policy_document.LineFacts("A", 1000), facts).terms
    dear = policy_document.decide(doc, policy_document.LineFacts("B", 30000), facts).terms
    assert (cheap.refund_on, cheap.risk_hold_above, dear.refund_on) == ("first_scan", 70, "inspection")
    assert doc.risk_weights == {"new_customer": 0}
    # Stored with the item, read back; an item stored before these keys pays at inspection.
    assert type(cheap).from_stored(cheap.to_stored()) == cheap
    legacy = {k: v for k, v in cheap.to_stored().items() if k not in ("refund_on", "risk_hold_above")}
    assert type(cheap).from_stored(legacy).refund_on == "inspection"
