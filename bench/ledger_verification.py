"""Issue 35: the verification job's reads for a fixed batch of new entries, at 10k, 100k and 1M
existing entries.

Per size, a fresh deployed template in in-process moto; the history written straight into moto's
backend (bench/ledger_history.py: sealed entries of an earlier day spread over its chains, their
anchors, checkpoints and listings, an order and a return per entry that agree with them); one job
run (its state starts); then BATCH new store-credit refunds settled through `usecases.settlement`
(today's chains), and the next run's DynamoDB requests counted by operation (botocore's
before-call event), with the sweep off and at a budget of 20 entries a run. Reads must not grow with the
history: the job reads the new entries, the open chains and a fixed sweep. The old entries' orders and
returns are written up to BENCH_LEDGER_MONEY_UP_TO entries (0 by default; there the sweep, which
reads them, is measured too); above, the history is the ledger's own items (entries, anchors,
checkpoints, listings) and the run is measured with the sweep off. moto's base-table Query is made to
start from the partition (ledger_history.partition_queries): requests are what is counted, unchanged by it.

    python -m bench.ledger_verification OUT.json      (BENCH_LEDGER_HISTORY=10000,100000,1000000)
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections import Counter

from bench import env

env.in_process()

SIZES = tuple(int(x) for x in os.environ.get("BENCH_LEDGER_HISTORY", "10000,100000,1000000").split(","))
BATCH = int(os.environ.get("BENCH_LEDGER_BATCH", "20"))
HISTORY_DAY = "2026-11-03"
# The sweep's budget here: its reads are a fixed number per swept entry (the entries, their orders'
# records), whatever the history; the default (200) is measured the same way but moto answers an index
# Query by reading the whole table, which at 1M items makes 200 orders' reads take hours, not the job.
SWEEP = int(os.environ.get("BENCH_LEDGER_SWEEP", "20"))
MONEY_UP_TO = int(os.environ.get("BENCH_LEDGER_MONEY_UP_TO", "0"))   # moto: minutes per index Query at 10k+


def _counted(run) -> tuple[dict, Counter, float]:
    from returns_core import aws

    calls: Counter = Counter()
    count = lambda model, **_: calls.update([model.name])  # noqa: E731
    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb.*", count)
    t0 = time.perf_counter()
    try:
        result = run()
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", count)
    return result, calls, time.perf_counter() - t0


def _one_size(size: int) -> dict:
    from moto import mock_aws

    from bench.ledger_history import partition_queries, write_history
    from infra.local import atomic, deploy
    from returns_core import aws
    from returns_core.outbound import secret_store as secrets
    from returns_core.store import ledger_jobs
    from returns_core.usecases import ledger_audit, settlement

    from workflow.refund_fixtures import make_order, make_return

    partition_queries()
    # DynamoDB's per-request atomicity, and a transaction's rollback copy of only the items it names
    # (moto copies every table a transaction touches: O(history) per append).
    atomic.install()
    with mock_aws(config=env.MOTO_CONFIG):
        aws.reset()
        secrets.reset()
        stack = deploy.deploy("local")
        os.environ.update(stack.environment)
        for key, value in stack.function("SettleFunction").environment.items():
            os.environ[key] = value
        env.ensure_ses_templates(stack.environment["SES_TEMPLATE_PREFIX"])
        key = ledger_audit.ledger_key()
        t0 = time.perf_counter()
        # The sweep reads the old entries' orders and returns: written only where the sweep is measured
        # (moto answers an index Query by reading the whole table).
        heads = write_history(size, day=HISTORY_DAY, key=key, money=size <= MONEY_UP_TO)
        written = time.perf_counter() - t0
        money = size <= MONEY_UP_TO
        os.environ["LEDGER_VERIFY_SWEEP"] = str(SWEEP) if money else "0"   # no orders to sweep: not swept
        first = ledger_jobs.run_verification(key)
        out: dict = {"history": sum(heads.values()), "history_chains": len(heads),
                     "history_write_seconds": round(written, 1), "first_run_ok": first["ok"]}
        for label, sweep in (("sweep_off", "0"), ("sweep_20", str(SWEEP)))[:1 if size > MONEY_UP_TO else 2]:
            os.environ["LEDGER_VERIFY_SWEEP"] = sweep
            for i in range(BATCH):
                order_id = f"NEW-{label}-{i // 2}"
                if i % 2 == 0:
                    make_order(order_id, captured=100_000)
                make_return(f"R-NEW-{label}-{i}", order_id, 1000 + i)
                assert settlement.settle(f"R-NEW-{label}-{i}") == "refunded"
            result, calls, seconds = _counted(lambda: ledger_jobs.run_verification(key))
            out[label] = {"ok": result["ok"], "checked": result["checked"], "requests": sum(calls.values()),
                          "by_operation": dict(sorted(calls.items())), "seconds": round(seconds, 3)}
        os.environ.pop("LEDGER_VERIFY_SWEEP", None)
    out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return out


def main(argv: list[str]) -> int:
    out_file = argv[0]
    results: dict = {"batch": BATCH, "sizes": {}}
    for size in SIZES:
        results["sizes"][str(size)] = _one_size(size)
        print(f"ledger_verification: history={size}: {results['sizes'][str(size)]}", file=sys.stderr)
    reads = {label: {s: r[label]["requests"] for s, r in results["sizes"].items() if label in r}
             for label in ("sweep_off", "sweep_20")}
    results["reads_constant"] = all(len(set(v.values())) == 1 for v in reads.values())
    with open(out_file, "w") as f:
        json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
