"""Part 2: cold start of every function as `sam build` made it and as Lambda loads it.

A moto server (own free port) gets the template deployed (infra.artifacts.build() first:
the artifacts are .aws-sam/build) and, through the domain, one return per measurement in
the status the step expects. Then, for each function, a fresh runtime interpreter
(`.venv/lambda-runtime/bin/python -I`: boto3 only, no PYTHONPATH, no user site) whose
sys.path is the built function's folder + the built layer's python/, with the function's
Lambda environment (infra.local.workers.lambda_environment) and its folder as cwd, imports
the handler (Lambda's INIT: `init_ms`) and runs its first invocation against that server
(`first_call_ms`). The baseline, in the same run, is that same runtime interpreter doing
`import boto3` + one client. Ratios use medians of REPS runs.

    python -m bench.coldstart OUT.json
"""
from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench import env

env.in_process()

CHILD = Path(__file__).with_name("_coldstart_child.py")
REPS = 3
TARGET = 1.25
PY = sys.executable   # the moto server and the seeding: the dev venv (the emulator, not the product)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _runtime_python() -> Path:
    from infra.local.workers import RUNTIME_PYTHON
    if not RUNTIME_PYTHON.exists():
        raise RuntimeError(f"{RUNTIME_PYTHON} is missing: `make install` makes the Lambda runtime venv")
    return RUNTIME_PYTHON


def _child(args: dict, environ: dict, importtime: bool = False, cwd: str = "/") -> dict:
    runtime = str(_runtime_python())
    flags = ["-I", "-X", "importtime"] if importtime else ["-I"]
    cmd = [runtime, *flags, str(CHILD), json.dumps(args)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=environ, timeout=120, cwd=cwd)
    line = next((out for out in p.stdout.splitlines() if out.startswith("BENCH-RESULT ")), None)
    if line is None:
        return {"error": (p.stderr or p.stdout)[-800:]}
    out = json.loads(line[len("BENCH-RESULT "):])
    if importtime:
        out["importtime"] = _top_imports(p.stderr)
    return out


def _top_imports(stderr: str, n: int = 8) -> list[dict]:
    """The slowest top-level packages by cumulative import time (python -X importtime)."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:"):].split("|")
        try:
            cumulative = int(parts[1])
        except ValueError:
            continue
        name = parts[2].rstrip()
        depth = (len(name) - len(name.lstrip())) // 2
        if depth <= 1:
            rows.append({"module": name.strip(), "ms": round(cumulative / 1000, 1)})
    return sorted(rows, key=lambda r: -r["ms"])[:n]


def _seed(stack, count: int) -> dict[str, list[dict]]:
    """Per function, `count` events whose first invocation does the step's real work."""
    from returns_core.store import returns
    from returns_core.usecases import (
        carrier_tracking as carrier_events,
        labels,
        orders,
        request_return as return_requests,
        warehouse,
    )

    from workflow.helpers import order_payload

    def new_return(n: int, tag: str):
        oid = f"cold-{tag}-{n}"
        orders.upsert(oid, order_payload(email=f"{oid}@example.com", provider="manual"))
        return return_requests.create(orders.get(oid), [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
                                      "store_credit", {"method": "letterbox"}, f"customer:{oid}")

    def dropped_off(n: int, tag: str):
        """A return with its label, dropped off: the parcel on its way to the warehouse."""
        r = new_return(n, tag)
        labels.issue(r.return_id)
        carrier_events.apply(returns.get(r.return_id).tracking_number, "dropped_off", "2026-11-20T10:00:00Z",
                             "Paris")
        return returns.get(r.return_id)

    events: dict[str, list[dict]] = {k: [] for k in
                                     ("IssueLabelFunction", "AwaitCallbackFunction", "HandleTimeoutFunction",
                                      "SettleFunction", "StatusEffectsFunction")}
    for n in range(count):
        events["IssueLabelFunction"].append({"return_id": new_return(n, "label").return_id})
        r = new_return(n, "park")
        labels.issue(r.return_id)
        events["AwaitCallbackFunction"].append({"return_id": r.return_id, "wait": "dropoff",
                                                 "token": "tok-" + r.return_id})
        r = new_return(n, "remind")
        labels.issue(r.return_id)
        events["HandleTimeoutFunction"].append({"return_id": r.return_id, "kind": "dropoff_reminder"})
        r = dropped_off(n, "settle")
        warehouse.scan(r.code, "warehouse:bench")
        warehouse.inspect(r.return_id, [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}], "warehouse:bench")
        events["SettleFunction"].append({"return_id": r.return_id})
        # A scan's follow-up, as the API hands it over (outbound/deferred_effects.py): the received message.
        r = dropped_off(n, "moved")
        moved, _ = warehouse.scan(r.code, "warehouse:bench")
        events["StatusEffectsFunction"].append({"return_id": r.return_id, "previous": r.status,
                                                "status": moved.status, "token": None})
    health = {"resource": "/health", "path": "/health", "httpMethod": "GET", "headers": {"Host": "bench"},
              "multiValueHeaders": {"Host": ["bench"]}, "queryStringParameters": None,
              "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None,
              "body": None, "isBase64Encoded": False,
              "requestContext": {"resourcePath": "/health", "httpMethod": "GET", "path": "/Prod/health",
                                 "stage": "Prod", "requestId": "bench", "identity": {"sourceIp": "127.0.0.1"}}}
    events["ApiFunction"] = [health] * count
    return events


def main(argv: list[str]) -> int:
    out_file = argv[0]
    port = _free_port()
    server = subprocess.Popen([PY, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
                break
            except Exception:  # noqa: BLE001 - whatever a server still starting answers, it is not up yet
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        from infra import artifacts
        from infra.local import deploy
        from infra.local.workers import lambda_environment
        from returns_core import aws
        from returns_core.outbound import secret_store as secrets

        aws.reset()
        secrets.reset()
        build_dir = artifacts.build(quiet=True)
        stack = deploy.deploy("local", build_dir=build_dir)
        os.environ.update(stack.environment)
        env.ensure_ses_templates(stack.environment["SES_TEMPLATE_PREFIX"])
        events = _seed(stack, REPS)

        access = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                  "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}
        base_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC", **access}
        results: dict = {"baseline": {}, "functions": {}, "artifacts": str(build_dir.relative_to(env.ROOT)),
                         "interpreter": str(_runtime_python().relative_to(env.ROOT)) + " -I"}
        baseline = [_child({"mode": "baseline"}, base_env) for _ in range(REPS + 2)]
        good = [b for b in baseline if "init_ms" in b]
        if not good:
            raise RuntimeError(f"the baseline interpreter failed: {baseline[0].get('error')}")
        results["baseline"] = {"runs_ms": [round(b["init_ms"], 1) for b in good],
                               "boto3_import_ms": round(statistics.median(b["import_ms"] for b in good), 1)}
        base = statistics.median(results["baseline"]["runs_ms"])
        results["baseline"]["median_ms"] = round(base, 1)
        for fn in stack.functions.values():
            fenv = lambda_environment(fn.logical_id, fn.name, fn.artifact, fn.memory_mb, fn.environment, access)
            fenv["POWERTOOLS_LOG_LEVEL"] = "WARNING"
            paths = [str(fn.artifact.task_root), str(fn.artifact.layer_root)]
            cwd = str(fn.artifact.task_root)
            runs = []
            for n in range(REPS):
                ev = events.get(fn.logical_id, [None] * REPS)[n]
                runs.append(_child({"mode": "function", "paths": paths, "handler": fn.artifact.handler, "event": ev,
                                    "name": fn.name, "memory_mb": fn.memory_mb}, fenv, cwd=cwd))
            ok = [r for r in runs if "init_ms" in r]
            entry: dict = {"memory_mb": fn.memory_mb, "handler": fn.artifact.handler,
                           "paths": [str(Path(p).relative_to(env.ROOT)) for p in paths]}
            if not ok:
                entry["error"] = runs[0].get("error")
            else:
                init = statistics.median(r["init_ms"] for r in ok)
                entry.update({
                    "init_ms": round(init, 1), "init_ratio": round(init / base, 2),
                    "first_call_ms": round(statistics.median(r.get("first_call_ms", 0) for r in ok), 1),
                    "cold_total_ratio": round(
                        (init + statistics.median(r.get("first_call_ms", 0) for r in ok)) / base, 2),
                    "invocation": "first invocation against the moto server" + (
                        " (GET /health)" if fn.logical_id == "ApiFunction" else ""),
                    "first_result": ok[0].get("result"),
                    "heavy_at_init": ok[0].get("heavy_at_init"),
                    "heavy_after_first_call": ok[0].get("heavy_after_first_call"),
                    "meets_target": init / base <= TARGET,
                })
                if True:   # name the slow imports (python -X importtime) for every function
                    profiled = _child({"mode": "function", "paths": paths, "handler": fn.artifact.handler,
                                       "event": None}, fenv, importtime=True, cwd=cwd)
                    entry["slowest_imports"] = profiled.get("importtime")
            results["functions"][fn.logical_id] = entry
            print(f"coldstart: {fn.logical_id}: {entry.get('init_ms')} ms init, ratio {entry.get('init_ratio')}",
                  file=sys.stderr)
        results["init_ratio"] = {k: v.get("init_ratio") for k, v in results["functions"].items()}
        results["target"] = TARGET
        with open(out_file, "w") as f:
            json.dump(results, f, indent=1, default=str)
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


if __name__ == "__main__":
    from bench import cold_starts_as_on_lambda

    cold_starts_as_on_lambda()
    sys.exit(main(sys.argv[1:]))
