"""Part (issue 28 item 7): what the local stack's write-ahead journal costs a write.

The local stack's emulator (infra/local/emulator.py, moto's server with the DynamoDB lock of
atomic.py, in an interpreter tuned as the stack's: emulator.Interpreter) on a free port of this
process, with the journal off, then on (records appended under
the DynamoDB lock, every answer waits for the group commit: persistence.request_done). Clients:
boto3 threads in this process, each writing new items with a condition (attribute_not_exists), as
the API's writes are, about 1 KB each. Per setting and concurrency: writes per second, latency
p50/p95 (ms) as a client sees it, and with the journal on, fsyncs per write (below 1 when
concurrent answers share a flush). Off and on rounds alternate, `pairs` of each; medians.

Clients and server share this interpreter, as the stack's own threads do: the figures compare the
two settings; they are not the emulator's ceiling.

    python -m bench.journal_cost OUT.json [--writes N] [--pairs P]
"""
from __future__ import annotations

import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import env
from bench.stats import percentile

env.in_process()

CONCURRENCY = (1, 8)
TABLE = "bench-journal"
PAYLOAD = "x" * 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _round(client_for, prefix: str, threads: int, writes: int) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def worker(w: int) -> None:
        client = client_for()
        mine = []
        barrier.wait()
        for i in range(writes // threads):
            t0 = time.perf_counter()
            client.put_item(TableName=TABLE, Item={"pk": {"S": f"{prefix}-{w}-{i}"}, "body": {"S": PAYLOAD}},
                            ConditionExpression="attribute_not_exists(pk)")
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join(600)
    wall = time.perf_counter() - t0
    ms = sorted(x * 1000 for x in latencies)
    return {"writes": len(ms), "writes_per_second": round(len(ms) / wall, 1),
            "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2)}


def main(argv: list[str]) -> int:
    out_file = argv[0]
    writes = int(argv[argv.index("--writes") + 1]) if "--writes" in argv else 400
    pairs = int(argv[argv.index("--pairs") + 1]) if "--pairs" in argv else 3
    import boto3
    from botocore.config import Config

    from infra.local import atomic, persistence
    from infra.local.emulator import Emulator, Interpreter
    from infra.local.journal import Journal

    port = _free_port()
    emulator = Emulator("127.0.0.1", port, before_answer=persistence.request_done)
    emulator.start()
    atomic.install()
    interpreter = Interpreter()
    interpreter.start()
    endpoint = f"http://127.0.0.1:{port}"

    def client():
        return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                            config=Config(max_pool_connections=16, retries={"max_attempts": 1}))

    results: dict = {"writes_per_round": writes, "pairs": pairs, "item_bytes": len(PAYLOAD), "rounds": {}}
    try:
        client().create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        _round(client, "warm", 2, 100)     # connections, imports, first-request costs: not measured
        with tempfile.TemporaryDirectory() as folder:
            journal = Journal(Path(folder), after=0)
            for threads in CONCURRENCY:
                rows: dict[str, list[dict]] = {"off": [], "on": []}
                # Off and on alternate: the machine's load (shared, 2 cores) drifts more between two
                # minutes than the journal costs; each figure is the median of its `pairs` rounds.
                for pair in range(pairs):
                    for setting in ("off", "on"):
                        if setting == "on":
                            persistence.record_into(journal)
                        before = (journal.appends, journal.syncs)
                        row = _round(client, f"{setting}-{threads}-{pair}", threads, writes)
                        persistence.stop_recording()
                        if setting == "on":
                            row["fsyncs_per_write"] = round(
                                (journal.syncs - before[1]) / max(journal.appends - before[0], 1), 2)
                        rows[setting].append(row)
                        print(f"journal: journal {setting}, {threads} concurrent: {row}", file=sys.stderr)
                for setting, measured in rows.items():
                    results["rounds"][f"{setting}@{threads}"] = {
                        key: statistics.median(r[key] for r in measured) for key in measured[0] if key != "writes"}
                off, on = results["rounds"][f"off@{threads}"], results["rounds"][f"on@{threads}"]
                on["throughput_vs_off"] = round(on["writes_per_second"] / off["writes_per_second"], 2)
                on["p50_added_ms"] = round(on["p50_ms"] - off["p50_ms"], 2)
                print(f"journal: {threads} concurrent, medians: off {off}, on {on}", file=sys.stderr)
            journal.close()
    finally:
        persistence.stop_recording()
        interpreter.stop()
        atomic.uninstall()
        emulator.stop()
    with open(out_file, "w") as f:
        json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
