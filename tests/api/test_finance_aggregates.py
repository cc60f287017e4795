"""Finance's day aggregates equal a recount from the records, whatever the history: returns created and
moved from status to status (and paid), ledger entries of several kinds and currencies, roll-up passes
in between, passes run twice, a pass that starts over from nothing (its place lost), and a pass that
counts a return from a read taken before its last change (a slow pass racing a newer one)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from returns_core.rules import clock, finance_counts
from returns_core.rules.finance_counts import duration_bucket
from returns_core.store import finance_aggregates as aggregates, ledger
from returns_core.store.models import ReturnModel
from returns_core.usecases import finance_rollup
from returns_core.views import finance

from tests.api.support import ENV, auth, boto, send

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
STATUSES = ("requested", "awaiting_dropoff", "in_transit", "received", "refunded", "closed", "cancelled")
SKUS = ("TSHIRT-M", "JEANS-32", "COAT")
REASONS = ("too_small", "defective", "changed_mind")
ORDERS = {"o-1": 3, "o-2": 5, "o-3": 1}   # order -> units ordered


def _iso(moment: datetime) -> str:
    return clock.iso(moment)


def _wipe() -> None:
    ddb = boto("dynamodb")
    for variable in ("RETURNS_TABLE", "LEDGER_TABLE", "FINANCE_AGGREGATES_TABLE", "ORDERS_TABLE"):
        table = ENV[variable]
        keys = [k["AttributeName"] for k in ddb.describe_table(TableName=table)["Table"]["KeySchema"]]
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                ddb.delete_item(TableName=table, Key={k: item[k] for k in keys})


def _put_orders() -> None:
    for order_id, units in ORDERS.items():
        boto("dynamodb").put_item(TableName=ENV["ORDERS_TABLE"], Item={
            "order_id": {"S": order_id}, "currency": {"S": "EUR"}, "customer_key": {"S": "c" * 32},
            "lines": {"L": [{"M": {"sku": {"S": "TSHIRT-M"}, "qty": {"N": str(units)}}}]},
            "payment": {"M": {"captured_amount": {"N": "100000"}}}, "refunded_total": {"N": "0"}})


def _put_return(rid: str, ret: dict) -> None:
    item = {"return_id": {"S": rid}, "order_id": {"S": ret["order_id"]}, "code": {"S": f"RT-{rid}"},
            "customer_key": {"S": "c" * 32}, "status": {"S": ret["status"]},
            "status_since": {"S": ret["status_since"]}, "created_at": {"S": ret["created_at"]},
            "resolution": {"S": "refund"}, "currency": {"S": "EUR"},
            "items": {"L": [{"M": {"sku": {"S": sku}, "qty": {"N": str(qty)}, "reason": {"S": reason}}}
                            for sku, qty, reason in ret["items"]]},
            "timeline": {"L": [{"M": {"type": {"S": t}, "at": {"S": at}, "actor": {"S": "x"},
                                      **({"detail": {"M": {"on": {"S": rest[0]}}}} if rest else {})}}
                               for t, at, *rest in ret["timeline"]]},
            "version": {"N": str(ret["version"])}}
    if ret.get("paid_at"):
        item["refund"] = {"M": {"issued_at": {"S": ret["paid_at"]}}}
    if ret.get("inspected_at"):
        item["inspection"] = {"M": {"at": {"S": ret["inspected_at"]}}}
    boto("dynamodb").put_item(TableName=ENV["RETURNS_TABLE"], Item=item)


def _put_entry(seq: int, entry: dict) -> None:
    """An entry as an append stores it (store/ledger.py): in the chain of its day and order's shard, at
    that chain's next number, the chain listed beside the orders by its first entry. Every third one goes
    to the first chain ("refunds"), as the entries of a stack from before the chains do."""
    ddb, day = boto("dynamodb"), entry["issued_at"][:10]
    chain = ledger.LEDGER if seq % 3 == 0 else ledger.chain_for(entry["order_id"], day)
    last = ddb.query(TableName=ENV["LEDGER_TABLE"], KeyConditionExpression="ledger = :c",
                     ExpressionAttributeValues={":c": {"S": chain}}, ScanIndexForward=False, Limit=1)["Items"]
    at = int(last[0]["seq"]["N"]) + 1 if last else 1
    if at == 1 and chain != ledger.LEDGER:
        for names_id, name in ((ledger.DAYS_ID, day), (ledger.chains_id(day), chain)):
            ddb.update_item(TableName=ENV["ORDERS_TABLE"], Key={"order_id": {"S": names_id}},
                            UpdateExpression="ADD #n :n", ExpressionAttributeNames={"#n": "names"},
                            ExpressionAttributeValues={":n": {"SS": [name]}})
    ddb.put_item(TableName=ENV["LEDGER_TABLE"], Item={
        "ledger": {"S": chain}, "seq": {"N": str(at)}, "entry_id": {"S": f"e-{seq}:{entry['kind']}:1"},
        "kind": {"S": entry["kind"]}, "return_id": {"S": f"e-{seq}"}, "order_id": {"S": entry["order_id"]},
        "amount": {"N": str(entry["amount"])}, "bonus": {"N": str(entry["bonus"])},
        "currency": {"S": entry["currency"]}, "method": {"S": "stripe"}, "reference": {"S": f"re_{seq}"},
        "issued_at": {"S": entry["issued_at"]}, "issued_day": {"S": day},
        "prev_hash": {"S": "0"}, "hash": {"S": "1"}})


_items = st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 3), st.sampled_from(REASONS)), min_size=1, max_size=3)
_step = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(sorted(ORDERS)), _items),
    st.tuples(st.just("move"), st.integers(0, 20), st.sampled_from(STATUSES), st.booleans()),
    st.tuples(st.just("entry"), st.sampled_from(sorted(ORDERS)), st.sampled_from(("refund", "store_credit", "claim")),
              st.integers(1, 5000), st.integers(0, 300), st.sampled_from(("EUR", "GBP"))),
    st.just(("rollup",)),
    st.just(("rollup_twice",)),
    st.just(("place_lost",)),
    st.tuples(st.just("stale"), st.integers(0, 20)),
)
_history = st.lists(st.tuples(_step, st.integers(1, 60 * 60 * 20)), min_size=1, max_size=25)


def _recount(rets: dict[str, dict], entries: list[dict]) -> tuple[dict, dict, dict]:
    """The day aggregates, counted from the records as they stand."""
    days: dict[str, dict[str, int]] = {}
    orders_of_day: dict[str, set[str]] = {}
    for ret in rets.values():
        day = ret["status_since"][:10]
        counts = days.setdefault(day, {})
        finance_counts.add(counts, {"returns": 1, f"status:{ret['status']}": 1})
        for sku, qty, reason in ret["items"]:
            finance_counts.add(counts, {f"reason:{reason}": 1, f"sku:{sku}": qty, "units": qty})
        times = dict(reversed(ret["timeline"]))
        if ret.get("paid_at") and "carrier.dropped_off" in times and "refund.issued" in times:
            seconds = (datetime.fromisoformat(times["refund.issued"].replace("Z", "+00:00"))
                       - datetime.fromisoformat(times["carrier.dropped_off"].replace("Z", "+00:00"))).total_seconds()
            finance_counts.add(counts, {f"dur:{duration_bucket(seconds)}": 1})
        if ret.get("paid_at"):
            finance_counts.add(counts, {"paid": 1})   # paid at the inspection (these histories pay none early)
        orders_of_day.setdefault(day, set()).add(ret["order_id"])
    for day, orders in orders_of_day.items():
        finance_counts.add(days[day], {"ordered": sum(ORDERS[o] for o in orders)})
    ledger: dict[str, dict[str, int]] = {}
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for entry in entries:
        day, taken = entry["issued_at"][:10], entry["amount"] - entry["bonus"]
        finance_counts.add(ledger.setdefault(day, {}), finance_counts.entry_counts(
            entry["kind"], entry["currency"], entry["amount"], taken))
        finance_counts.add(rows.setdefault((day, entry["order_id"]), {}),
                           {"in_range": taken, f"kind:{entry['kind']}": taken})
    return days, ledger, rows


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


@pytest.mark.slow   # a pass or more per step of each history: about a second an example
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=_history)
# A slow pass that read r-0 before it moved counts it after a newer pass counted the move, once the newer
# passes no longer read r-0 again (r-1 moved an hour later): the older read must not move it back.
@example(history=[(("create", "o-1", [("COAT", 1, "defective")]), 60),
                  (("create", "o-2", [("COAT", 2, "defective")]), 60), (("rollup",), 60),
                  (("move", 0, "received", False), 600), (("rollup",), 60),
                  (("move", 1, "received", False), 3600), (("rollup",), 60), (("stale", 0), 60)])
def test_the_aggregates_equal_a_recount_whatever_the_history(aws, monkeypatch, history):
    # A pass that starts from nothing reads the ledger this many days back (a day a Query): the histories
    # span a few days.
    monkeypatch.setattr(finance_rollup, "LEDGER_BACKFILL_DAYS", 30)
    _wipe()
    _put_orders()
    now = START
    rets: dict[str, dict] = {}
    snapshots: dict[str, ReturnModel] = {}
    entries: list[dict] = []
    for step, seconds in history:
        now += timedelta(seconds=seconds)
        at = _iso(now)
        kind = step[0]
        if kind == "create":
            rid = f"r-{len(rets)}"
            rets[rid] = {"order_id": step[1], "items": step[2], "status": "requested", "status_since": at,
                         "created_at": at, "timeline": [("return.requested", at)], "version": 1}
            _put_return(rid, rets[rid])
        elif kind == "move" and rets:
            rid = sorted(rets)[step[1] % len(rets)]
            snapshots.setdefault(rid, ReturnModel.get(rid, consistent_read=True))   # an older read of it
            ret = rets[rid]
            ret.update(status=step[2], status_since=at, version=ret["version"] + 1)
            if step[2] == "in_transit":
                ret["timeline"].append(("carrier.dropped_off", at))
            if step[2] == "refunded" and step[3]:
                ret["timeline"].append(("refund.issued", at))
                ret["paid_at"] = at
            _put_return(rid, ret)
        elif kind == "entry":
            bonus = step[4] if step[2] == "store_credit" else 0   # the store's own money, not the capture's
            entries.append({"order_id": step[1], "kind": step[2], "amount": step[3] + bonus, "bonus": bonus,
                            "currency": step[5], "issued_at": at})
            _put_entry(len(entries), entries[-1])
        elif kind in ("rollup", "rollup_twice"):
            for _ in range(1 if kind == "rollup" else 2):
                assert finance_rollup.run(now=now)["complete"]
        elif kind == "place_lost":   # every source read again from the start: nothing may count twice
            for name in ("returns", finance_rollup.LEDGER_PLACE):
                boto("dynamodb").delete_item(TableName=ENV["FINANCE_AGGREGATES_TABLE"],
                                             Key={"pk": {"S": "rollup"}, "sk": {"S": name}})
            assert finance_rollup.run(now=now)["complete"]
        elif kind == "stale" and snapshots:
            rid = sorted(snapshots)[step[1] % len(snapshots)]
            finance_rollup.count_return(snapshots[rid])
    assert finance_rollup.run(now=now)["complete"]

    days, ledger, rows = _recount(rets, entries)
    all_days = [(START + timedelta(days=n)).date().isoformat() for n in range((now - START).days + 2)]
    stored = aggregates.days("returns", all_days)
    assert {d: _nonzero(c) for d, c in stored.items() if _nonzero(c)} == days
    stored_ledger = aggregates.days("ledger", all_days)
    assert {d: _nonzero(c) for d, c in stored_ledger.items() if _nonzero(c)} == ledger
    stored_rows = {}
    for day in all_days:
        page, key = aggregates.order_rows("ledger", day, None, 100)
        assert key is None
        stored_rows.update({(day, r["order_id"]): _nonzero({k: v for k, v in r.items()
                                                           if k not in ("order_id", "currency")}) for r in page})
    assert stored_rows == rows
    # And the answer over the whole range is the recount's.
    stats = finance.analytics(START.date(), now.date())
    assert stats["returns"] == len(rets)
    assert stats["by_status"] == _count_by(rets.values(), lambda r: [r["status"]])
    assert stats["by_reason"] == _count_by(rets.values(), lambda r: [reason for _, _, reason in r["items"]])
    assert stats["returned_units"] == sum(q for r in rets.values() for _, q, _ in r["items"])


def _count_by(rets, keys) -> dict[str, int]:
    out: dict[str, int] = {}
    for ret in rets:
        for key in keys(ret):
            out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))


def test_the_median_is_read_within_one_percent_and_an_even_count_takes_the_middle_two():
    import statistics

    durations = [3600.0, 7200.0, 86400.0, 90000.0]
    histogram: dict[int, int] = {}
    for seconds in durations:
        histogram[duration_bucket(seconds)] = histogram.get(duration_bucket(seconds), 0) + 1
    median = finance_counts.median_of(histogram)
    assert median is not None and abs(median - statistics.median(durations)) <= 0.01 * statistics.median(durations)
    assert finance_counts.median_of({}) is None
    assert finance_counts.median_of({duration_bucket(600.0): 1}) == pytest.approx(600.0, rel=0.01)


def test_a_day_names_at_most_its_sku_limit_and_counts_the_rest_as_other(aws, monkeypatch):
    monkeypatch.setattr(finance_counts, "MAX_SKUS_PER_DAY", 2)
    _put_orders()
    at = _iso(START)
    for n, sku in enumerate(("A", "B", "C", "D")):
        _put_return(f"r-{n}", {"order_id": "o-1", "items": [(sku, 2, "defective")], "status": "received",
                               "status_since": at, "created_at": at, "timeline": [], "version": 1})
    assert finance_rollup.run(now=START)["complete"]
    stats = finance.analytics(START.date(), START.date())
    assert stats["by_sku"] == {"A": 2, "B": 2, "other": 4} and stats["returned_units"] == 8
    assert stats["by_reason"] == {"defective": 4} and stats["ordered_units"] == 3
    # A return of a named SKU moving on takes its units with it; the name stays, at zero, not shown.
    _put_return("r-0", {"order_id": "o-1", "items": [("A", 2, "defective")], "status": "inspected",
                        "status_since": _iso(START + timedelta(days=1)), "created_at": at, "timeline": [],
                        "version": 2})
    assert finance_rollup.run(now=START + timedelta(days=1))["complete"]
    assert finance.analytics(START.date(), START.date())["by_sku"] == {"B": 2, "other": 4}
    assert finance.analytics(START.date(), START.date() + timedelta(days=1))["by_status"] == {
        "inspected": 1, "received": 3}


def test_reconciliation_pages_its_orders_with_a_cursor_and_totals_every_currency_and_kind(api):
    _put_orders()
    day = _iso(START)[:10]
    for seq, (order_id, kind, currency) in enumerate(
            [("o-1", "refund", "EUR"), ("o-2", "claim", "EUR"), ("o-3", "refund", "GBP"), ("o-1", "adjustment", "EUR")],
            start=1):
        _put_entry(seq, {"order_id": order_id, "kind": kind, "amount": 100 * seq, "bonus": 0, "currency": currency,
                         "issued_at": _iso(START + timedelta(minutes=seq))})
    assert finance_rollup.run(now=START + timedelta(hours=1))["complete"]
    seen, cursor = [], None
    for _ in range(4):
        url = f"/finance/reconciliation?from={day}&to={day}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = send(api, "GET", url, None, auth("finance")).json_body
        assert len(page["orders"]) <= 2
        seen += [(o["order_id"], o["refunded_in_range"], o["refunded_in_range_by_kind"]) for o in page["orders"]]
        assert page["totals"] == {"EUR": {"adjustment": {"paid": 400, "captured": 400, "entries": 1},
                                          "claim": {"paid": 200, "captured": 200, "entries": 1},
                                          "refund": {"paid": 100, "captured": 100, "entries": 1}},
                                  "GBP": {"refund": {"paid": 300, "captured": 300, "entries": 1}}}
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [("o-1", 500, {"adjustment": 400, "refund": 100}), ("o-2", 200, {"claim": 200}),
                    ("o-3", 300, {"refund": 300})]
    bad = send(api, "GET", f"/finance/reconciliation?from={day}&to={day}&cursor=bm9wZQ", None, auth("finance"))
    assert bad.status_code == 400 and bad.json_body["error"]["details"]["field"] == "cursor"


def test_refunds_paid_before_the_inspection_are_counted_with_the_time_saved_and_the_shortfalls(api):
    """Issue 33's analytics: of the paid returns, those paid early (at the first scan: before receipt; or
    at receipt), the median time from that refund to the inspection, and inspections below the refund."""
    _wipe()
    _put_orders()
    t = START + timedelta(hours=1)

    def paid(rid: str, order_id: str, early: str | None, inspected_after: timedelta | None, below: bool) -> None:
        at = _iso(t)
        line = [("return.requested", at), ("carrier.dropped_off", at)]
        if early:
            line.append(("refund.paid_early", at, early))
        line.append(("refund.issued", at))
        if below:
            line.append(("inspection.below_refund", at))
        ret = {"order_id": order_id, "items": [("COAT", 1, "defective")], "status": "refunded",
               "status_since": at, "created_at": at, "timeline": line, "version": 2, "paid_at": at}
        if inspected_after is not None:
            ret["inspected_at"] = _iso(t + inspected_after)
        _put_return(rid, ret)

    paid("r-a", "o-1", "first_scan", timedelta(days=3), True)
    paid("r-b", "o-2", "first_scan", None, False)              # not inspected yet: no time saved to count
    paid("r-c", "o-3", "receipt", timedelta(days=1), False)
    paid("r-d", "o-1", None, None, False)                      # paid at the inspection
    assert finance_rollup.run(now=t + timedelta(hours=1))["complete"]
    stats = send(api, "GET", f"/analytics/returns?from={_iso(START)[:10]}&to={_iso(START)[:10]}", None,
                 auth("finance")).json_body
    assert (stats["paid_returns"], stats["refunds_before_inspection"], stats["refunds_before_receipt"],
            stats["inspections_below_refund"]) == (4, 3, 2, 1)
    assert stats["refunds_before_inspection_share"] == 0.75
    # the median of 1 and 3 days, each read from its 2 % bucket
    assert abs(stats["median_time_saved_seconds"] - 2 * 86400) / (2 * 86400) < 0.01
