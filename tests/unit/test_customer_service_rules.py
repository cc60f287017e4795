"""Issue 19's pure rules: one customer's timeline merged newest first and bounded, and the eligibility
rules an ops exception may waive (and those it never does)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from returns_core.rules import customer_timeline, policy

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
LINE = {"sku": "TSHIRT-M", "name": "T-shirt", "qty": 2, "unit_price": 2499}


def _e(at: str, kind: str = "x") -> dict:
    return {"at": at, "type": kind, "actor": "system", "detail": None}


def test_sources_are_merged_newest_first_not_one_after_the_other():
    a = [_e("2026-11-03T10:00:00.000Z", "a3"), _e("2026-11-01T10:00:00.000Z", "a1")]
    b = [_e("2026-11-04T10:00:00+00:00", "b4"), _e("2026-11-02T10:00:00Z", "b2")]
    merged, more = customer_timeline.merge([a, b])
    assert [e["type"] for e in merged] == ["b4", "a3", "b2", "a1"] and more is False


def test_the_newest_are_kept_and_the_cut_is_said():
    source = [_e(f"2026-11-{d:02d}T00:00:00Z", str(d)) for d in range(30, 0, -1)]
    merged, more = customer_timeline.merge([source], limit=5)
    assert [e["type"] for e in merged] == ["30", "29", "28", "27", "26"] and more is True
    assert customer_timeline.merge([source[:5]], limit=5) == (source[:5], False)
    assert customer_timeline.merge([source[:2]], limit=5, more=True)[1] is True   # a source already cut
    assert customer_timeline.MAX_ENTRIES == 500


def test_entries_of_one_instant_keep_their_order_and_a_bad_time_sorts_last():
    same = [_e("2026-11-02T00:00:00Z", "second"), _e("2026-11-02T00:00:00Z", "first")]
    merged, _ = customer_timeline.merge([[_e("not a time", "bad")], same])
    assert [e["type"] for e in merged] == ["second", "first", "bad"]


def test_an_entry_says_where_it_comes_from_and_a_message_its_channel():
    sent = customer_timeline.entry({"at": "t", "type": "message.sent", "actor": "system",
                                    "detail": {"channel": "sms", "template": "label_ready"}}, return_id="ret_1")
    assert sent["return_id"] == "ret_1" and sent["channel"] == "sms" and "claim_id" not in sent
    claim = customer_timeline.entry(_e("t"), claim_id="clm_1", order_id="o-1")
    assert (claim["claim_id"], claim["order_id"]) == ("clm_1", "o-1") and "channel" not in claim


def _eligibility(line: dict, delivered_days_ago: int | None, reserved: int = 0, terms=policy.DEFAULT,
                 waive: bool = False) -> policy.LineEligibility:
    delivered = None if delivered_days_ago is None else NOW - timedelta(days=delivered_days_ago)
    return policy.line_eligibility(line, delivered, NOW, reserved, terms, waive=waive)


def test_an_exception_waives_final_sale_a_policy_rule_and_the_window_naming_each():
    line = {**LINE, "final_sale": True}
    terms = policy.Policy(returnable=False, message="Swimwear cannot be returned.")
    assert not _eligibility(line, 40, terms=terms).eligible
    waived = _eligibility(line, 40, terms=terms, waive=True)
    assert waived.eligible and waived.returnable_qty == 2
    assert [(w.rule, w.message) for w in waived.waived] == [
        ("final_sale", "Final sale items cannot be returned."), ("policy_rule", "Swimwear cannot be returned."),
        ("window", "The 30-day return window has passed.")]
    assert _eligibility(LINE, 3, waive=True).waived == ()     # nothing failed, nothing waived


def test_an_exception_never_waives_an_undelivered_order_or_units_already_returned():
    assert not _eligibility(LINE, None, waive=True).eligible
    gone = _eligibility({**LINE, "final_sale": True}, 40, reserved=2, waive=True)
    assert not gone.eligible and gone.reason == "Everything on this line has already been returned."
    assert set(policy.WAIVABLE_RULES) == {"final_sale", "policy_rule", "window", "resolution"}
