"""The bench's own arithmetic (bench/stats.py, bench/cost.py's price model, bench/report.py's new keys):
figures in the README are only as right as these."""
from __future__ import annotations

import os
import sys

import pytest

from bench import prices, stats


@pytest.fixture(scope="module")
def cost():
    """bench/cost.py sets up the bench's own process (fake AWS keys, sys.path) when imported: give the
    rest of the test session its environment back."""
    environ, path = dict(os.environ), list(sys.path)
    try:
        from bench import cost as module
    finally:
        os.environ.clear()
        os.environ.update(environ)
        sys.path[:] = path
    return module


def test_percentiles_interpolate_between_ranks_like_numpy():
    values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert stats.percentile(values, 50) == pytest.approx(55)
    assert stats.percentile(values, 95) == pytest.approx(95.5)
    assert stats.percentile(values, 99) == pytest.approx(99.1)
    assert stats.percentile(reversed(values), 0) == 10 and stats.percentile(values, 100) == 100
    assert stats.percentile([7], 99) == 7 and stats.percentile([], 50) is None
    with pytest.raises(ValueError):
        stats.percentile(values, 101)


def test_summary_and_ratios():
    assert stats.summary_ms([100.0, 300.0]) == {"n": 2, "p50": 200.0, "p95": 290.0, "p99": 298.0, "max": 300.0}
    assert stats.summary_ms([])["p95"] is None
    assert stats.ratio(40, 50) == 0.8 and stats.ratio(1, 0) is None and stats.ratio(None, 3) is None
    assert stats.per_minute(10, 30) == 20.0 and stats.per_minute(1, 0) is None


def test_the_blend_weighs_only_the_paths_measured():
    assert stats.blend({"a": 1.0, "b": 0.5}, {"a": 0.5, "b": 0.5, "c": 0.2}) == pytest.approx(0.75)
    assert stats.blend({}, {"a": 1.0}) is None


def test_the_cost_model_prices_each_service_from_the_price_list(cost):
    usd = cost.price({"sfn.transitions": 1000, "ses.emails": 1000, "dynamodb.wru": 1e6, "dynamodb.rru": 1e6,
                      "lambda.requests": 1e6, "lambda.gb_seconds": 1, "api.requests": 1e6, "sns.publish": 1e6})
    assert usd["stepfunctions"] == pytest.approx(0.025) and usd["ses"] == pytest.approx(0.10)
    assert usd["dynamodb"] == pytest.approx(0.625 + 0.125)
    assert usd["lambda"] == pytest.approx(0.20 + prices.PRICES["lambda_arm64_gb_second"].usd)
    assert usd["apigateway"] == pytest.approx(3.50) and usd["sns"] == pytest.approx(0.50)


def test_every_path_of_the_mix_is_described_and_the_mix_adds_up(cost):
    assert sum(cost.MIX.values()) == pytest.approx(1.0)
    assert set(cost.MIX) == set(cost.PATH_NOTES) and set(cost.REQUIRED_ROUTES) <= set(cost.MIX)
    assert all(callable(getattr(cost.Driver, p)) for p in cost.MIX)
    assert all(callable(getattr(cost.Driver, p)) for p in cost.OUTSIDE_MIX_NOTES)
    assert not set(cost.OUTSIDE_MIX_NOTES) & set(cost.MIX)   # measured beside the blend, never in it
    # Issue 20's shares, taken from `refund`: withdrawal 3%, claim 2%.
    assert (cost.MIX["withdrawal"], cost.MIX["claim"], cost.MIX["refund"]) == (0.03, 0.02, 0.33)


def test_a_path_is_pending_only_while_a_route_it_needs_is_missing(cost, monkeypatch):
    assert cost.pending_paths() == {}   # POST /withdrawals, POST /claims and its resolve are on this branch
    assert cost._route_exists("POST /claims/{claim_id}/resolve") and not cost._route_exists("POST /claims/{claim_id}")
    monkeypatch.setitem(cost.REQUIRED_ROUTES, "claim", ("POST /claims", "POST /claims/{claim_id}/reopen"))
    assert cost.pending_paths() == {"claim": "POST /claims/{claim_id}/reopen not on this branch (Driver.claim waits "
                                             "for it)"}


def test_a_path_without_an_execution_is_accounted_with_no_transition(cost):
    """A claim runs in the API and the Settle function only: no execution to wait for nor history to read,
    and the run is priced from its counts alone."""
    from returns_core.store.models import ClaimModel

    run = cost._finish(ClaimModel("clm_1", status="refunded"))
    assert run == {"transitions": 0, "transitions_to_refund": 0, "states": [], "execution": None,
                   "final_status": "refunded"}
    counts = {"api.requests": 6, "lambda.requests": 7, "ses.emails": 2, "dynamodb.wru": 46, "dynamodb.rru": 29.5,
              "ses.template.returns-local-claim_received-fr": 1}
    summary = cost.summarise({"claim": [{**run, "wall_s": 1.0, "counts": counts}],
                              "refund": [{**cost._run(["Route", "Settle", "Route", "AwaitConfirmation", "Closed"],
                                                      "SUCCEEDED", "closed"), "wall_s": 1.0, "counts": {}}]})
    claim = summary["paths"]["claim"]
    assert claim["transitions"] == 0 and claim["usd_per_1000"]["stepfunctions"] == 0
    assert claim["usd_per_1000_total"] == pytest.approx(1000 * sum(cost.price(counts).values()), abs=1e-4)
    assert claim["emails_by_template"] == {"returns-local-claim_received-fr": 1}
    assert summary["paths"]["refund"]["transitions_to_refund"] == 4
    assert summary["mix"] == {"refund": 0.33, "claim": 0.02}   # the blend weighs the paths measured


def test_report_keys_for_issue_20():
    from bench import report

    cost_part = {"paths": {"refund": {"usd_per_1000_total": 0.9, "per_return": {"ses.emails": 4, "dynamodb.wru": 90}}},
                 "cost_per_1000_returns_usd": 0.9, "pending_paths": {"claim": "POST /claims is not on this branch"}}
    per = report.cost_per_path(cost_part)
    assert per["paths"] == {"refund": 0.9} and per["blended"] == 0.9 and "claim" in per["pending"]
    # A measured claim (no execution) is a row of the path tables like any other, not a pending one.
    claim = {"usd_per_1000_total": 0.26, "transitions": 0, "usd_per_1000": {"ses": 0.2, "dynamodb": 0.03},
             "per_return": {"ses.emails": 2, "dynamodb.wru": 46, "lambda.requests": 7, "dynamodb.rru": 29.5,
                            "sns.publish": 1, "sns.sms": 0, "api.requests": 6}}
    measured = {"paths": {"claim": claim}, "mix": {"claim": 0.02}, "blended_usd_per_1000": claim["usd_per_1000"],
                "cost_per_1000_returns_usd": 0.26, "pending_paths": {}}
    r = {"details": {"cost": measured}, "cost_per_path_usd": report.cost_per_path(measured)}
    assert "| claim (2%) |" in report.cost_tables(r)
    rows = [line for line in report.cost_before_after_table(r).splitlines() if line.startswith("| claim |")]
    assert len(rows) == 1 and "0.260" in rows[0] and "pending" not in rows[0]
    tp = report.throughput({"by_mode": {"built": {"per_minute": 8.0, "failures": 0},
                                        "in_process": {"per_minute": 10.0, "failures": 0}},
                            "ratio_built_to_in_process": 0.8, "concurrency": 8, "rounds": 2}, {"per_minute": 30})
    assert tp["ratio_built_to_in_process"] == 0.8 and tp["http_local_stack_per_minute"] == 30
