"""Told versus waited (issue 28): WaitScale shortens how long the workflow waits, never a period a
customer is told or a record says is due (rules/waits.py, config.periods / config.workflow_timeouts)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, strategies as st

from returns_core import config
from returns_core.rules import waits, withdrawal as statutory

DEMO = 1440
NOTICE = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@given(st.integers(min_value=1, max_value=400 * 86400), st.integers(min_value=1, max_value=100_000))
def test_a_scaled_wait_is_never_longer_than_its_period_nor_shorter_than_the_floor_unless_the_period_is(period, scale):
    wait = waits.scaled(period, scale)
    assert 1 <= wait <= period
    assert wait >= min(period, waits.MIN_SCALED_WAIT_SECONDS)
    assert waits.scaled(period, 1) == period


def test_workflow_waits_shrink_with_the_scale_and_the_periods_do_not(monkeypatch):
    for variable, _ in config._TIMEOUTS.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("WAIT_SCALE", raising=False)
    told, waited = config.periods(), config.workflow_timeouts()
    assert {k: waited[k] for k in told if k in waited} == {k: v for k, v in told.items() if k in waited}
    monkeypatch.setenv("WAIT_SCALE", str(DEMO))
    assert config.periods() == told
    demo = config.workflow_timeouts()
    assert demo["dropoff"] == 14 * 60 and demo["followup"] == 30 * 60     # a day in a minute
    assert demo["dropoff_before_reminder"] + demo["dropoff_after_reminder"] == demo["dropoff"]
    assert all(demo[k] < told[k] for k in told if k in demo)


def test_the_withdrawal_clock_is_the_law_s_at_scale_one_and_reaches_a_scaled_deadline_in_the_demo():
    due_by = statutory.refund_due_by(NOTICE, 14 * 86400)
    assert due_by - NOTICE == timedelta(days=14)           # what the record says, whatever the scale
    lead = 3 * 86400
    assert statutory.seconds_left(NOTICE, due_by, NOTICE, lead) == {"alert_in": 11 * 86400, "due_in": 14 * 86400}
    at_notice = statutory.seconds_left(NOTICE, due_by, NOTICE, lead, wait_scale=DEMO)
    assert at_notice == {"due_in": 14 * 60, "alert_in": 14 * 60 - waits.MIN_SCALED_WAIT_SECONDS}
    # Waited from anywhere on the way, the clock points at the same moment: the deadline is reached, not chased.
    later = NOTICE + timedelta(seconds=500)
    assert statutory.seconds_left(NOTICE, due_by, later, lead, wait_scale=DEMO)["due_in"] == 14 * 60 - 500
    assert statutory.seconds_left(NOTICE, due_by, NOTICE + timedelta(minutes=15), lead, wait_scale=DEMO) == \
        {"alert_in": 0, "due_in": 0}


def test_a_test_s_short_withdrawal_periods_are_waited_as_given_under_the_demo_scale():
    """tests/workflow/test_withdrawal_deadline.py: 25 s to the deadline, the alert 24 s before it."""
    due_by = statutory.refund_due_by(NOTICE, 25)
    assert statutory.seconds_left(NOTICE, due_by, NOTICE, 24, wait_scale=DEMO) == {"alert_in": 1, "due_in": 25}
