"""The policy's `carriers` key names what outbound/carriers offers (rules/ may not import it), and its
preference reads the most specific entry first."""
from __future__ import annotations

from returns_core.outbound import carriers
from returns_core.rules import policy_document


def test_the_policy_knows_the_carriers_and_methods_outbound_offers():
    assert set(policy_document.CARRIER_IDS) == set(carriers.all_carriers())
    assert policy_document.CARRIER_METHODS == carriers.DROPOFF_METHODS


def test_the_most_specific_preference_wins():
    prefs = {"DE": {"post_office": ["dhl_parcel_de"], "*": ["gls"]}, "*": {"letterbox": ["demo"], "*": ["easypost"]}}
    pick = policy_document.carrier_preference
    assert pick(prefs, "DE", "post_office") == ["dhl_parcel_de"]
    assert pick(prefs, "DE", "letterbox") == ["gls"]
    assert pick(prefs, "FR", "letterbox") == ["demo"]
    assert pick(prefs, "FR", "post_office") == ["easypost"]
    assert pick({}, "FR", "post_office") == []


def test_a_rule_replaces_a_countrys_preference_and_keeps_the_others():
    doc = policy_document.parse({"defaults": {"carriers": {"DE": {"*": ["gls"]}, "FR": {"*": ["colissimo"]}}},
                                 "rules": [{"id": "big", "match": {"unit_price_above": 10000},
                                            "set": {"carriers": {"DE": {"post_office": ["dhl_parcel_de"]}}}}]})
    facts = policy_document.OrderFacts("EUR", "DE")
    small = policy_document.decide(doc, policy_document.LineFacts("A", 500), facts).terms.carriers
    big = policy_document.decide(doc, policy_document.LineFacts("B", 20000), facts).terms.carriers
    assert small == {"DE": {"*": ["gls"]}, "FR": {"*": ["colissimo"]}}
    assert big == {"DE": {"post_office": ["dhl_parcel_de"]}, "FR": {"*": ["colissimo"]}}
