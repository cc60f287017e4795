"""Part 3: the cost of a finance page and a warehouse queue page does not grow with the tables.

The ledger and returns tables of the deployed template are filled (BatchWriteItem, in-process
moto) to 10,000 and then 100,000 rows each, spread the way a live shop would spread them
(about 200 ledger entries a day; every status present). At each size, one finance refunds
page for one day (Query on the ledger's `by_day` index, limit 50) and one warehouse queue
page (Query on `by_status`, status `received`, limit 50, oldest first) are measured with
the probe: calls, items examined (ScannedCount), items returned, read units.

    python -m bench.queries OUT.json
"""
from __future__ import annotations

import json
import os
import sys
import time
from datetime import date, timedelta

from bench import env

env.in_process()

from bench.probe import Probe, forget_cached_clients  # noqa: E402

SIZES = tuple(int(x) for x in os.environ.get("BENCH_QUERY_SIZES", "10000,100000").split(","))
PER_DAY = 200
DAY0 = date(2026, 1, 1)
QUERIED_DAY = "2026-01-10"
STATUS_CYCLE = ["closed"] * 12 + ["refunded", "received", "in_transit", "awaiting_dropoff",
                                  "inspected", "cancelled", "expired", "awaiting_approval"]
probe = Probe()
FILL_DEADLINE = [float("inf")]
CONSTANT = {"timeline", "items", "quote", "dropoff", "carrier_events"}   # the same in every generated row


def _return_item(n: int) -> dict:
    rid = f"ret_bench{n:012d}"
    status = STATUS_CYCLE[n % len(STATUS_CYCLE)]
    day = DAY0 + timedelta(days=n // PER_DAY)
    at = f"{day.isoformat()}T{(n % 86400) // 3600:02d}:{(n % 3600) // 60:02d}:{n % 60:02d}.000Z"
    entry = {"M": {"at": {"S": "2026-01-01T00:00:00.000Z"}, "type": {"S": "return.requested"},
                   "actor": {"S": "customer:o"},
                   "detail": {"NULL": True}}}
    return {
        "return_id": {"S": rid}, "order_id": {"S": f"o-{n // 2}"}, "code": {"S": f"RT-{n:08d}"},
        "customer_key": {"S": f"{n % 7919:032x}"}, "status": {"S": status}, "status_since": {"S": at},
        "created_at": {"S": at}, "resolution": {"S": "refund"}, "currency": {"S": "EUR"}, "locale": {"S": "fr"},
        "items": {"L": [{"M": {"sku": {"S": "TSHIRT-M"}, "name": {"S": "T-shirt M"}, "qty": {"N": "1"},
                               "reason": {"S": "too_small"}, "unit_price": {"N": "2499"}}}]},
        "quote": {"M": {"items_total": {"N": "2499"}, "restocking_fee": {"N": "0"}, "return_shipping_fee": {"N": "495"},
                        "bonus": {"N": "0"}, "refund_amount": {"N": "2004"}}},
        "dropoff": {"M": {"method": {"S": "letterbox"}}},
        "tracking_number": {"S": f"LC{n:011d}"},
        "timeline": {"L": [entry] * 6}, "carrier_events": {"L": []}, "version": {"N": "7"},
    }


def _ledger_item(n: int) -> dict:
    day = DAY0 + timedelta(days=n // PER_DAY)
    at = f"{day.isoformat()}T12:00:{n % 60:02d}.000Z"
    return {
        "ledger": {"S": "refunds"}, "seq": {"N": str(n + 1)}, "entry_id": {"S": f"ret_bench{n:012d}:refund:1"},
        "kind": {"S": "refund"}, "return_id": {"S": f"ret_bench{n:012d}"}, "order_id": {"S": f"o-{n // 2}"},
        "amount": {"N": "2004"}, "currency": {"S": "EUR"}, "method": {"S": "stripe"},
        "reference": {"S": f"re_{n:024d}"}, "inspected_by": {"S": "warehouse:bob"}, "approved_by": {"NULL": True},
        "issued_at": {"S": at}, "issued_day": {"S": day.isoformat()},
        "prev_hash": {"S": f"{n:064x}"}, "hash": {"S": f"{n + 1:064x}"},
    }


def _fill(client, table: str, make, start: int, stop: int) -> None:
    """The first rows through BatchWriteItem (the API path); the bulk straight into moto's backend,
    the way moto's own put_item stores them, minus its per-item validation (already exercised by the
    first rows): ~10x faster than serialising every batch over the mocked HTTP layer."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends["123456789012"]["us-east-1"]
    api_rows = min(stop, start + 1000)
    batch = []
    for n in range(start, api_rows):
        batch.append({"PutRequest": {"Item": make(n)}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={table: batch})
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    t = backend.get_table(table)
    template = Item(DynamoType({"S": "x"}), None, make(start))   # converted once: the bulky constant parts
    for n in range(api_rows, stop):
        attrs = make(n)
        item = Item.__new__(Item)
        item.attrs = type(template.attrs)()
        for k, v in attrs.items():   # values that differ from row to row are converted, constant ones shared
            dict.__setitem__(item.attrs, k, template.attrs[k] if k in CONSTANT else DynamoType(v))
        item.hash_key = item.attrs[t.hash_key_attr]
        item.range_key = item.attrs[t.range_key_attr] if t.range_key_attr else None
        if item.range_key is not None:
            t.items[item.hash_key][item.range_key] = item
        else:
            t.items[item.hash_key] = item
        if n % 1000 == 0 and time.monotonic() > FILL_DEADLINE[0]:
            raise TimeoutError(n)


def _measure(name: str, run) -> dict:
    with probe.into(name) as counts:
        t0 = time.perf_counter()
        items = run()
        wall = time.perf_counter() - t0
    return {"calls": int(counts.get("dynamodb.query_calls", 0)), "scans": int(counts.get("dynamodb.scan_calls", 0)),
            "items_examined": int(counts.get("dynamodb.items_examined", 0)), "items_returned": len(items),
            "read_units": counts.get("dynamodb.rru", 0.0), "moto_wall_ms": round(wall * 1000, 1)}


def main(argv: list[str]) -> int:
    out_file = argv[0]
    import boto3
    from moto import mock_aws

    from infra.local import deploy
    from returns_core import aws
    from returns_core.outbound import secret_store as secrets
    from returns_core.store.models import LedgerEntryModel, ReturnModel

    results: dict = {"sizes": {}, "fill_seconds": {}}
    with mock_aws(config=env.MOTO_CONFIG):
        aws.reset()
        secrets.reset()
        stack = deploy.deploy("local")
        os.environ.update(stack.environment)
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        probe.install()
        forget_cached_clients()
        filled = 0
        budget = float(argv[argv.index("--budget") + 1]) if "--budget" in argv else 300
        FILL_DEADLINE[0] = time.monotonic() + budget
        for size in SIZES:
            t0 = time.perf_counter()
            with probe.paused():
                try:
                    _fill(ddb, stack.environment["LEDGER_TABLE"], _ledger_item, filled, size)
                    _fill(ddb, stack.environment["RETURNS_TABLE"], _return_item, filled, size)
                except TimeoutError as exc:
                    results["incomplete"] = f"fill budget of {budget:.0f} s reached at row {exc.args[0]} of {size}"
                    print(f"queries: {results['incomplete']}", file=sys.stderr)
                    break
            filled = size
            results["fill_seconds"][str(size)] = round(time.perf_counter() - t0, 1)
            print(f"queries: filled to {size} rows per table in {results['fill_seconds'][str(size)]} s",
                  file=sys.stderr)
            finance = _measure(f"finance@{size}", lambda: list(LedgerEntryModel.by_day.query(QUERIED_DAY, limit=50)))
            queue = _measure(f"queue@{size}", lambda: list(ReturnModel.by_status.query(
                "received", scan_index_forward=True, limit=50)))
            results["sizes"][str(size)] = {"finance_page": finance, "queue_page": queue}
            print(f"queries: {size}: finance {finance}, queue {queue}", file=sys.stderr)
    if len(results["sizes"]) < 2:
        with open(out_file, "w") as f:
            json.dump(results, f, indent=1)
        return 0
    a, b = (results["sizes"][str(s)] for s in SIZES)
    flat_keys = ("calls", "scans", "items_examined", "items_returned", "read_units")
    results["flat"] = all(a[p][k] == b[p][k] for p in ("finance_page", "queue_page") for k in flat_keys)
    results["query_cost"] = {str(s): {p: {k: results["sizes"][str(s)][p][k] for k in ("items_examined", "read_units")}
                                      for p in ("finance_page", "queue_page")} for s in SIZES}
    with open(out_file, "w") as f:
        json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    from bench import cold_starts_as_on_lambda

    cold_starts_as_on_lambda()
    sys.exit(main(sys.argv[1:]))
