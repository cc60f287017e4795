"""Finance's pages cost the same reads at 10k, 100k and 1M ledger entries and returns.

The ledger and returns tables of the deployed template are filled as bench/queries.py fills them
(about 200 entries and 200 returns a day; straight into in-process moto past the first rows), with the
orders of the queried day. The queried day's aggregates are made by the roll-up's own counting
(usecases/finance_rollup.py `count_return`, `count_entry`) over that day's records; the other days'
are not needed by a one-day page. At each size, with the probe (bench/probe.py):
- /analytics/returns for the day (views.finance.analytics);
- /finance/reconciliation for the day, first page of 100 orders (what the route reads: the day totals,
  the order rows by day, the page's orders);
each: DynamoDB calls by operation, read units (DynamoDB's rules, bench/probe.py) and wall time in moto.

    python -m bench.finance_aggregates OUT.json [--budget SECONDS]
"""
from __future__ import annotations

import json
import os
import sys
import time
from datetime import date, timedelta

from bench import env

env.in_process()

from bench import queries  # noqa: E402
from bench.probe import Probe, forget_cached_clients  # noqa: E402

SIZES = tuple(int(x) for x in os.environ.get("BENCH_FINANCE_SIZES", "10000,100000,1000000").split(","))
QUERIED_DAY = queries.QUERIED_DAY
probe = Probe()


def _day_rows() -> range:
    """The generated rows issued on the queried day (bench/queries.py: PER_DAY rows a day from DAY0)."""
    first = (date.fromisoformat(QUERIED_DAY) - queries.DAY0).days * queries.PER_DAY
    return range(first, first + queries.PER_DAY)


def _lean_fill(table_name: str, kind: str, start: int, stop: int) -> None:
    """Rows of the other days, straight into moto's backend with only their keys, their indexes' keys and
    what the roll-up reads, every constant value one shared object (1M rows of queries._fill's shape hold
    ~11 GB of moto objects, these ~1 GB). Finance's pages never read them: that is what is measured."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    table = dynamodb_backends["123456789012"]["us-east-1"].get_table(table_name)
    shared = {name: DynamoType(value) for name, value in (
        ("ledger", {"S": "refunds"}), ("kind", {"S": "refund"}), ("amount", {"N": "2004"}), ("currency", {"S": "EUR"}),
        ("method", {"S": "stripe"}), ("resolution", {"S": "refund"}), ("customer_key", {"S": "c" * 32}))}
    statuses = {s: DynamoType({"S": s}) for s in queries.STATUS_CYCLE}
    days: dict[int, DynamoType] = {}
    attrs_type = type(Item(DynamoType({"S": "x"}), None, {"x": {"S": "x"}}).attrs)
    for n in range(start, stop):
        offset = n // queries.PER_DAY
        if offset not in days:
            days[offset] = DynamoType({"S": (queries.DAY0 + timedelta(days=offset)).isoformat()})
        day = days[offset]
        item = Item.__new__(Item)
        item.attrs = attrs_type()
        if kind == "ledger":
            values = {"ledger": shared["ledger"], "seq": DynamoType({"N": str(n + 1)}), "issued_day": day,
                      "entry_id": DynamoType({"S": f"ret_bench{n:012d}:refund:1"}),
                      "order_id": DynamoType({"S": f"o-{n // 2}"}),
                      "kind": shared["kind"], "amount": shared["amount"], "currency": shared["currency"]}
        else:
            values = {"return_id": DynamoType({"S": f"ret_bench{n:012d}"}),
                      "order_id": DynamoType({"S": f"o-{n // 2}"}),
                      "status": statuses[queries.STATUS_CYCLE[n % len(queries.STATUS_CYCLE)]],
                      "status_since": DynamoType({"S": f"{day.value}T12:00:{n % 60:02d}.000Z"}),
                      "resolution": shared["resolution"], "customer_key": shared["customer_key"]}
        for name, value in values.items():
            dict.__setitem__(item.attrs, name, value)
        item.hash_key = item.attrs[table.hash_key_attr]
        item.range_key = item.attrs[table.range_key_attr] if table.range_key_attr else None
        if item.range_key is not None:
            table.items[item.hash_key][item.range_key] = item
        else:
            table.items[item.hash_key] = item
        if n % 1000 == 0 and time.monotonic() > queries.FILL_DEADLINE[0]:
            raise TimeoutError(n)


def _orders_of_the_day(client, table: str) -> None:
    for order in sorted({n // 2 for n in _day_rows()}):
        client.put_item(TableName=table, Item={
            "order_id": {"S": f"o-{order}"}, "currency": {"S": "EUR"}, "customer_key": {"S": "c" * 32},
            "lines": {"L": [{"M": {"sku": {"S": "TSHIRT-M"}, "qty": {"N": "4"}}}]},
            "payment": {"M": {"captured_amount": {"N": "10000"}}}, "refunded_total": {"N": "4008"}})


def _roll_up_the_day() -> dict:
    """The queried day's records through the roll-up's counting, as a pass would count them."""
    from returns_core.store.models import LedgerEntryModel, ReturnModel
    from returns_core.usecases import finance_rollup

    counted = {"returns": 0, "entries": 0}
    rids = [f"ret_bench{n:012d}" for n in _day_rows()]
    for start in range(0, len(rids), 100):
        for ret in ReturnModel.batch_get(rids[start:start + 100], consistent_read=True):
            counted["returns"] += finance_rollup.count_return(ret)
    for entry in LedgerEntryModel.by_day.query(QUERIED_DAY):
        counted["entries"] += finance_rollup.count_entry(entry)
    return counted


def _measure(name: str, run) -> dict:
    with probe.into(name) as counts:
        t0 = time.perf_counter()
        answer = run()
        wall = time.perf_counter() - t0
    calls = {key.split(".", 2)[2]: int(n) for key, n in counts.items() if key.startswith("call.dynamodb.")}
    return {"calls": calls, "calls_total": sum(calls.values()), "read_units": round(counts.get("dynamodb.rru", 0.0), 1),
            "items_examined_by_queries": int(counts.get("dynamodb.items_examined", 0)),
            "scans": int(counts.get("dynamodb.scan_calls", 0)), "moto_wall_ms": round(wall * 1000, 1),
            "answer": answer}


def _analytics() -> dict:
    from returns_core.views import finance

    day = date.fromisoformat(QUERIED_DAY)
    got = finance.analytics(day, day)
    return {"returns": got["returns"], "returned_units": got["returned_units"], "ordered_units": got["ordered_units"]}


def _reconciliation() -> dict:
    """What GET /finance/reconciliation?from=D&to=D reads (functions/api/chalicelib/finance.py)."""
    from chalicelib.finance import by_day
    from returns_core.views import finance

    rows, cursor = by_day([QUERIED_DAY], None, 100, finance.reconciliation_orders)
    page = finance.reconciliation_page(rows)
    totals = finance.reconciliation_totals([QUERIED_DAY])
    return {"orders": len(page["orders"]), "next_cursor": cursor is not None,
            "entries": sum(k["entries"] for kinds in totals["totals"].values() for k in kinds.values())}


def main(argv: list[str]) -> int:
    out_file = argv[0]
    import boto3
    from moto import mock_aws

    from infra.local import deploy
    from returns_core import aws
    from returns_core.outbound import secret_store as secrets

    budget = float(argv[argv.index("--budget") + 1]) if "--budget" in argv else 600
    queries.FILL_DEADLINE[0] = time.monotonic() + budget
    results: dict = {"queried_day": QUERIED_DAY, "per_day": queries.PER_DAY, "sizes": {}, "fill_seconds": {}}
    with mock_aws(config=env.MOTO_CONFIG):
        aws.reset()
        secrets.reset()
        stack = deploy.deploy("local")
        os.environ.update(stack.environment)
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        probe.install()
        forget_cached_clients()
        # The queried day first, rolled up while the tables are small: moto's TransactWriteItems deep-copies
        # every table (its rollback), so a transaction costs moto time in proportion to what it holds.
        day = _day_rows()
        with probe.paused():
            for table, make in ((stack.environment["LEDGER_TABLE"], queries._ledger_item),
                                (stack.environment["RETURNS_TABLE"], queries._return_item)):
                queries._fill(ddb, table, make, day.start, day.stop)
            _orders_of_the_day(ddb, stack.environment["ORDERS_TABLE"])
            t1 = time.perf_counter()
            results["roll_up"] = {**_roll_up_the_day(), "seconds_in_moto": round(time.perf_counter() - t1, 2)}
        filled = 0
        for size in SIZES:
            t0 = time.perf_counter()
            with probe.paused():
                try:
                    for table, kind in ((stack.environment["LEDGER_TABLE"], "ledger"),
                                        (stack.environment["RETURNS_TABLE"], "returns")):
                        for start, stop in ((filled, min(size, day.start)), (max(filled, day.stop), size)):
                            if start < stop:
                                _lean_fill(table, kind, start, stop)
                except TimeoutError as exc:
                    results["incomplete"] = f"fill budget of {budget:.0f} s reached at row {exc.args[0]} of {size}"
                    print(f"finance: {results['incomplete']}", file=sys.stderr)
                    break
            filled = size
            results["fill_seconds"][str(size)] = round(time.perf_counter() - t0, 1)
            analytics = _measure(f"analytics@{size}", _analytics)
            reconciliation = _measure(f"reconciliation@{size}", _reconciliation)
            results["sizes"][str(size)] = {"analytics": analytics, "reconciliation": reconciliation}
            print(f"finance: {size} rows per table: analytics {analytics}, reconciliation {reconciliation}",
                  file=sys.stderr)
    measured = list(results["sizes"].values())
    keys = ("calls", "read_units", "items_examined_by_queries", "scans", "answer")
    results["flat"] = len(measured) == len(SIZES) and all(
        m[page][k] == measured[0][page][k] for m in measured for page in ("analytics", "reconciliation") for k in keys)
    with open(out_file, "w") as f:
        json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    from bench import cold_starts_as_on_lambda

    cold_starts_as_on_lambda()
    sys.exit(main(sys.argv[1:]))
