"""Part 6 (issue 20): N concurrent Settle steps appending to the ledger (N = 1, 5, 20). Since issue 35 the
appends are spread over chains by day and order shard (store/ledger.py, LEDGER_SHARDS): they race only
within their chain (and on their order, as before).

The deployed template in in-process moto (with DynamoDB's per-request atomicity, infra/local/atomic.py),
N inspected store-credit returns (of N // 2 + 1 orders, so some share an order) settled at once by N
threads through `usecases.settlement.settle`, as the Settle step runs it. Per N: appends per second
(N over the wall time from the barrier to the last append), lost races retried (`ledger.contention`),
failures (a settle that did not end `refunded`; target 0), how many chains the appends went to, and
whether the whole ledger verifies (`usecases.ledger_audit.verify`). Store credit: the provider call is
not what is measured here. One settle runs first, unmeasured, so N = 1 is not charged with the
process's first imports and connections. Each round runs twice (BENCH_DYNAMODB_LATENCY_MS, "0,10"):
with moto's in-process answers, and with a 10 ms round trip slept before each DynamoDB request (outside
moto's lock), DynamoDB's in-region latency; the headline (`sizes`) is the last.

    python -m bench.ledger_contention OUT.json
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time

from bench import env

env.in_process()

SIZES = tuple(int(x) for x in os.environ.get("BENCH_LEDGER_SIZES", "1,5,20").split(","))
# A DynamoDB request's round trip (ms), slept by the caller before each request, outside moto's lock: in
# process, moto answers in microseconds and every thread shares one interpreter, so without it N writers
# measure the interpreter, not the ledger. DynamoDB answers in single-digit milliseconds in region.
LATENCY_MS = tuple(float(x) for x in os.environ.get("BENCH_DYNAMODB_LATENCY_MS", "0,10").split(","))
_latency = {"seconds": 0.0}


def _with_round_trips() -> None:
    """Every DynamoDB request of every client (boto3's, PynamoDB's, made before or after) waits the
    round trip first, in the caller's thread, before moto (and its lock) sees the request."""
    from botocore.endpoint import Endpoint

    send = Endpoint._send_request

    def with_round_trip(self, request_dict, operation_model):
        if _latency["seconds"] and operation_model.service_model.endpoint_prefix == "dynamodb":
            time.sleep(_latency["seconds"])
        return send(self, request_dict, operation_model)

    Endpoint._send_request = with_round_trip


def _settle_at_once(return_ids: list[str]) -> tuple[float, dict[str, str]]:
    from returns_core.usecases import settlement

    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(len(return_ids) + 1)

    def settle(return_id: str) -> None:
        barrier.wait()
        try:
            outcomes[return_id] = settlement.settle(return_id)
        except Exception as exc:  # noqa: BLE001 - a failure is a figure here
            outcomes[return_id] = f"{type(exc).__name__}: {exc}"[:200]

    threads = [threading.Thread(target=settle, args=(rid,)) for rid in return_ids]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(300)
    return time.perf_counter() - t0, outcomes


def main(argv: list[str]) -> int:
    out_file = argv[0]
    _with_round_trips()   # before any client is made: every client (boto3's, PynamoDB's) gets it
    from moto import mock_aws

    from bench.ledger_history import partition_queries
    from infra.local import atomic, deploy
    from returns_core import aws
    from returns_core.outbound import secret_store as secrets
    from returns_core.store import ledger
    from returns_core.usecases import ledger_audit

    from workflow.refund_fixtures import make_order, make_return

    results: dict = {"sizes": {}, "by_latency": {}}
    atomic.install()
    partition_queries()   # moto's Query reads the partition, not the whole table (safe: under atomic's lock)
    try:
        with mock_aws(config=env.MOTO_CONFIG):
            aws.reset()
            secrets.reset()
            stack = deploy.deploy("local")
            os.environ.update(stack.environment)
            for key, value in stack.function("SettleFunction").environment.items():
                os.environ.setdefault(key, value)   # the ledger's anchors and key: Settle's alone
            env.ensure_ses_templates(stack.environment["SES_TEMPLATE_PREFIX"])
            for latency in LATENCY_MS:
                _latency["seconds"] = latency / 1000
                tag = f"{latency:g}ms"
                make_order(f"BENCH-WARM-{tag}", captured=100_000)
                make_return(f"R-BENCH-WARM-{tag}", f"BENCH-WARM-{tag}", 1000)
                _settle_at_once([f"R-BENCH-WARM-{tag}"])
                sizes = results["by_latency"].setdefault(tag, {})
                for n in SIZES:
                    return_ids = []
                    for i in range(n):
                        order_id = f"BENCH-{tag}-{n}-{i // 2}"   # two returns per order: some settles share one
                        if i % 2 == 0:
                            make_order(order_id, captured=100_000)
                        return_ids.append(make_return(f"R-BENCH-{tag}-{n}-{i}", order_id, 1000 + i).return_id)
                    lost_before = ledger.contention.lost
                    wall, outcomes = _settle_at_once(return_ids)
                    failures = [o for o in outcomes.values() if o != "refunded"]
                    verdict = ledger_audit.verify(None)
                    sizes[str(n)] = {
                        "settles": n, "wall_seconds": round(wall, 2), "appends_per_second": round(n / wall, 2),
                        "retries": ledger.contention.lost - lost_before, "failures": len(failures),
                        "verified": bool(verdict["ok"]), "chain_length": verdict["checked"],
                        "chains": len({e.ledger for e in ledger.entries() if e.return_id in outcomes}),
                        "dynamodb_latency_ms": latency, "errors": failures[:3]}
                    print(f"ledger_contention: latency {tag} N={n}: {sizes[str(n)]}", file=sys.stderr)
                results["sizes"] = sizes   # the headline: the last latency (the one most like AWS)
    finally:
        atomic.uninstall()
    with open(out_file, "w") as f:
        json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    from bench import cold_starts_as_on_lambda

    cold_starts_as_on_lambda()
    sys.exit(main(sys.argv[1:]))
