"""Part 4: 50 concurrent lifecycles through the HTTP API of the local stack (`make run`).

Starts `.venv/bin/python -m infra.local run --api-port P --aws-port Q` on two free ports (so a
`make run` someone keeps on :8000/:5000 is left alone); the stack builds first (or reuses a fresh
.aws-sam/build) and runs every function from those artifacts in Lambda-shaped workers, the API
behind the gateway emulation. Gets staff tokens from `python -m infra.local token --aws-port Q`,
then drives each lifecycle as its people do:
PUT /orders/{id} → POST /returns/lookup → POST /returns → GET /returns/{id} until the label
→ (the customer walks to the letterbox) POST /carrier/events (signed) → (the parcel travels)
POST /warehouse/scans → (it waits its turn at the bench) POST /returns/{id}/inspection →
GET /returns/{id} now and then until refunded (store credit). Stops the stack at the end. Skips,
saying why, when the stack cannot start.

The load is 50 lifecycles in flight at once, arriving at a steady pace: a new return every
ARRIVAL_SECONDS (3 s: 1,200 returns, so 1,200 scans, an hour, the "hundreds of parcels an hour"
of a busy warehouse), each person's steps separated by the THINK_SECONDS of a compressed day
(drop-off, transit, the inspection queue; ±20 %, seeded). Lifecycles last about 2.5 minutes, so
all 50 are in flight together (the peak is measured and reported). This is an open load: the
arrivals do not wait for the stack, as customers do not. It is not a saturation test (50 clients
firing requests back to back measure how long the queue is, not what a person waits for);
throughput at saturation is bench/dispatch_ratio.py's.

Latency (issue 20, `latency_ms`): the same lifecycles time what a person waits for, client-side over
HTTP: lookup, POST /returns, label ready (POST /returns sent → GET /returns/{id}/label answers the
PDF; the view polled every 0.5 s as the portal does, so up to 0.5 s coarse), scan, inspection.
"idle": IDLE_LIFECYCLES run one after another, with no think time, before the load; "load": the
LIFECYCLES paced ones. p50/p95/p99 per figure (bench/stats.py).

    python -m bench.throughput OUT.json
    BENCH_LIFECYCLES=10 BENCH_ARRIVAL_SECONDS=1 BENCH_THINK_SCALE=0.2 python -m bench.throughput OUT.json  # quick
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv/bin/python").exists() else sys.executable
API = "http://127.0.0.1:8000"   # set by run() to the stack's own port
AWS_PORT = 5000
LIFECYCLES = int(os.environ.get("BENCH_LIFECYCLES", "50"))
CARRIER_SECRET = b"local-carrier-secret"
DATA_DIR = ""   # the stack's data folder, this run's own (run())
START_TIMEOUT = 150   # a stale .aws-sam/build is rebuilt first (sam build: about 30 s here)
LIFECYCLE_TIMEOUT = 360
IDLE_LIFECYCLES = int(os.environ.get("BENCH_IDLE_LIFECYCLES", "5"))
ARRIVAL_SECONDS = float(os.environ.get("BENCH_ARRIVAL_SECONDS", "3"))
# The people's pace, compressed: label ready -> drop-off, drop-off -> scan, scan -> inspection.
THINK_SECONDS = {"dropoff": 80.0, "transit": 50.0, "inspection_queue": 20.0}
THINK_SCALE = float(os.environ.get("BENCH_THINK_SCALE", "1"))
REFUND_POLL_SECONDS = 3.0   # the customer looks again now and then (the refund email tells them anyway)
LABEL_POLL_SECONDS = 0.5    # the portal's own poll while the customer waits for the label
# request (method, route) -> the latency figure it is
TIMED = {("POST", "/returns/lookup"): "lookup", ("POST", "/returns"): "post_returns",
         ("POST", "/warehouse/scans"): "scan", ("POST", "/returns/{id}/inspection"): "inspection"}
LATENCY_FIGURES = ["lookup", "post_returns", "label_ready", "scan", "inspection"]
LATENCIES: dict[str, dict[str, list[float]]] = {}
_latency_lock = threading.Lock()


def _timed(phase: str, figure: str, ms: float) -> None:
    with _latency_lock:
        LATENCIES.setdefault(phase, {}).setdefault(figure, []).append(ms)


class Failure(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


RETRIES = {"connection": 0}
_retry_lock = threading.Lock()


def call(method: str, path: str, body: dict | None = None, token: str | None = None,
         headers: dict | None = None, raw: bytes | None = None, retries: int = 4) -> tuple[int, dict | None]:
    """One request; a refused or reset connection is retried like a real client would, POSTs with the
    same Idempotency-Key (api.md: same key and body, same response, no second effect)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    h = {"Content-Type": "application/json", **(headers or {})}
    if token:
        h["Authorization"] = f"Bearer {token}"
    if method == "POST" and path != "/carrier/events":
        h.setdefault("Idempotency-Key", os.urandom(12).hex())
    for attempt in range(retries + 1):
        req = urllib.request.Request(API + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                text = r.read()
                status = r.status
            break
        except urllib.error.HTTPError as e:
            text, status = e.read(), e.code
            break
        except (ConnectionResetError, ConnectionRefusedError, urllib.error.URLError) as e:
            if attempt == retries or (isinstance(e, urllib.error.URLError) and not isinstance(
                    getattr(e, "reason", None), (ConnectionResetError, ConnectionRefusedError))):
                raise
            with _retry_lock:
                RETRIES["connection"] += 1
            time.sleep(0.2 * 2 ** attempt)
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, None


def expect(what: str, got: tuple[int, dict | None], *ok: int) -> dict:
    status, body = got
    if status not in ok:
        raise Failure(f"{what}: HTTP {status} {json.dumps(body)[:200] if body else ''}")
    return body or {}


def _token(role: str) -> str:
    p = subprocess.run([PY, "-m", "infra.local", "token", "--role", role, "--sub", "bench",
                        "--aws-port", str(AWS_PORT), "--data-dir", DATA_DIR],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    if p.returncode != 0:
        raise Failure(f"token --role {role}: {p.stderr.strip()[-200:]}")
    return p.stdout.strip().splitlines()[-1]


def lifecycle(n: int, store: str, warehouse: str, stamp: str, phase: str = "load", paced: bool = False) -> dict:
    """One return from order to refund; `paced`: with its people's think times between the steps."""
    t0 = time.monotonic()
    jitter = random.Random(f"{stamp}-{n}")

    def think(step: str) -> None:
        if paced:
            time.sleep(THINK_SECONDS[step] * THINK_SCALE * jitter.uniform(0.8, 1.2))

    deadline = t0 + LIFECYCLE_TIMEOUT
    order_id = f"bench-{stamp}-{n}"
    email = f"bench-{stamp}-{n}@example.com"
    delivered = datetime.now(UTC) - timedelta(days=3)
    iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    order = {"customer": {"email": email, "name": "Ana", "phone": "+33600000000", "locale": "fr-FR"},
             "currency": "EUR", "placed_at": iso(delivered - timedelta(days=2)), "delivered_at": iso(delivered),
             "shipping_address": {"line1": "12 rue Oberkampf", "postcode": "75011", "city": "Paris", "country": "FR"},
             "payment": {"provider": "manual", "reference": f"ref-{n}", "captured_amount": 12997},
             "lines": [{"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 2, "unit_price": 2499, "final_sale": False},
                       {"sku": "JEANS-32", "name": "Jeans 32", "qty": 1, "unit_price": 7999, "final_sale": False}]}
    requests = 0

    def req(method: str, path: str, *a, **k):
        nonlocal requests
        requests += 1
        t1 = time.monotonic()
        route = re.sub(r"/(bench-[^/]+|ret_[^/]+)", "/{id}", path)
        try:
            got = call(method, path, *a, **k)
            if (method, route) in TIMED and got[0] < 300:
                _timed(phase, TIMED[method, route], (time.monotonic() - t1) * 1000)
            return got
        except (TimeoutError, OSError) as exc:   # name the request (not its ids) and how long it waited
            raise Failure(f"{method} {route}: {type(exc).__name__}: {exc} after {time.monotonic() - t1:.1f} s "
                          f"(lifecycle at {t1 - t0:.1f} s)") from exc

    def poll(return_id: str, token: str, done, what: str, every: float) -> dict:
        while True:
            body = expect(f"GET /returns/{{id}} ({what})", req("GET", f"/returns/{return_id}", token=token), 200)
            if done(body):
                return body
            if body.get("status") in ("cancelled", "expired", "rejected", "refund_failed", "closed"):
                raise Failure(f"{what}: the return became {body.get('status')}")
            if time.monotonic() > deadline:
                raise Failure(f"timed out waiting for {what} (status {body.get('status')})")
            time.sleep(every)

    expect("PUT /orders/{id}", req("PUT", f"/orders/{order_id}", order, store), 200, 201)
    customer = expect("POST /returns/lookup", req("POST", "/returns/lookup", {"order_id": order_id, "email": email}),
                      200)["token"]
    requested = time.monotonic()
    ret = expect("POST /returns", req("POST", "/returns", {
        "order_id": order_id, "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, customer), 201)
    rid = ret["return_id"]
    # label ready: what the customer waits for, the PDF itself. The portal's way: the return's view every
    # 0.5 s until it names its label, then the PDF (50 clients polling the PDF itself would be the load).
    ret = poll(rid, customer, lambda b: b.get("status") == "awaiting_dropoff" and (b.get("label") or {}).get("code"),
               "label", LABEL_POLL_SECONDS)
    status, _ = req("GET", f"/returns/{rid}/label", token=customer)
    if status != 200:
        raise Failure(f"GET /returns/{{id}}/label: HTTP {status} once the return named its label")
    _timed(phase, "label_ready", (time.monotonic() - requested) * 1000)
    label = ret["label"]
    think("dropoff")
    raw = json.dumps({"tracking_number": label["tracking_number"], "event": "dropped_off",
                      "occurred_at": iso(datetime.now(UTC)), "location": "Paris"}).encode()
    sig = "sha256=" + hmac.new(CARRIER_SECRET, raw, hashlib.sha256).hexdigest()
    expect("POST /carrier/events", req("POST", "/carrier/events", raw=raw, headers={"X-Carrier-Signature": sig}),
           200, 202)
    think("transit")
    expect("POST /warehouse/scans", req("POST", "/warehouse/scans", {"code": label["code"]}, warehouse), 200)
    think("inspection_queue")
    expect("POST /returns/{id}/inspection", req("POST", f"/returns/{rid}/inspection", {
        "items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]}, warehouse), 200)
    poll(rid, customer, lambda b: b.get("status") == "refunded", "refund",
         REFUND_POLL_SECONDS if paced else LABEL_POLL_SECONDS)
    return {"seconds": time.monotonic() - t0, "requests": requests}


def latency_summary() -> dict:
    from bench.stats import summary_ms

    with _latency_lock:
        return {phase: {f: summary_ms(LATENCIES.get(phase, {}).get(f, [])) for f in LATENCY_FIGURES}
                for phase in ("idle", "load")}


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()


def run() -> dict:
    result: dict = {"lifecycles": LIFECYCLES, "failures": None, "per_minute": None}
    if not (ROOT / "infra/local/__main__.py").exists() or not (ROOT / "functions/api/app.py").exists():
        result["skipped"] = "the local runner (infra/local/__main__.py) or the API (functions/api/app.py) is missing"
        return result
    global API, AWS_PORT
    api_port, AWS_PORT = _free_port(), _free_port()
    API = f"http://127.0.0.1:{api_port}"
    result["stack"] = {"api": API, "aws_port": AWS_PORT, "artifacts": ".aws-sam/build",
                       "command": f"python -m infra.local run --api-port {api_port} --aws-port {AWS_PORT}"}
    log = open("/tmp/bench-local-stack.log", "w")  # noqa: SIM115 - the stack's output, open while it runs
    # A data folder of its own, new each run: the developer's `.local/` keeps what earlier runs left (hundreds
    # of open returns, each resumed before the stack serves), and the figures would depend on it.
    global DATA_DIR
    DATA_DIR = data_dir = tempfile.mkdtemp(prefix="bench-local-")
    proc = subprocess.Popen([PY, "-m", "infra.local", "run", "--api-port", str(api_port), "--aws-port", str(AWS_PORT),
                             "--data-dir", data_dir],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "POWERTOOLS_LOG_LEVEL": "WARNING"})
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                result["skipped"] = (f"`python -m infra.local run` exited with {proc.returncode} "
                                     "(see /tmp/bench-local-stack.log)")
                return result
            try:
                if call("GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                result["skipped"] = f"the local stack did not answer GET /health within {START_TIMEOUT} s"
                return result
            time.sleep(0.5)
        try:   # the runner says where its functions come from (server.py prints it once deployed)
            with open("/tmp/bench-local-stack.log") as f:
                result["stack"]["served_from"] = next(
                    (line.strip() for line in f if line.startswith("functions run from")), None)
        except OSError:
            pass
        try:
            store, warehouse = _token("store"), _token("warehouse")
        except Failure as exc:
            result["skipped"] = str(exc)
            return result
        RETRIES["connection"] = 0   # the health probes above were refused while the stack started
        stamp = str(int(time.time()))
        idle_errors: list[str] = []
        for n in range(IDLE_LIFECYCLES):   # one at a time: what a person waits for on a quiet stack
            try:
                lifecycle(10_000 + n, store, warehouse, stamp, phase="idle")
            except Exception as exc:  # noqa: BLE001 - a result, not a crash
                idle_errors.append(f"idle #{n}: {type(exc).__name__}: {exc}"[:300])
        errors: list[str] = []
        durations: list[float] = []
        requests = 0
        lock = threading.Lock()
        in_flight = {"now": 0, "peak": 0}

        def one(n: int) -> None:
            nonlocal requests
            time.sleep(n * ARRIVAL_SECONDS)   # an open load: arrivals at a steady pace, whatever the stack does
            with lock:
                in_flight["now"] += 1
                in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
            try:
                r = lifecycle(n, store, warehouse, stamp, paced=True)
                with lock:
                    durations.append(r["seconds"])
                    requests += r["requests"]
            except Exception as exc:  # noqa: BLE001 - a failed lifecycle is a result, not a crash of the bench
                with lock:
                    errors.append(f"#{n}: {type(exc).__name__}: {exc}"[:300])
            finally:
                with lock:
                    in_flight["now"] -= 1

        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=LIFECYCLES) as pool:
            list(pool.map(one, range(LIFECYCLES)))
        wall = time.monotonic() - t0
        result.update({
            "failures": len(errors), "per_minute": round(len(durations) / wall * 60, 1),
            "arrival_seconds": ARRIVAL_SECONDS, "offered_per_hour": round(3600 / ARRIVAL_SECONDS),
            "think_seconds": {k: round(v * THINK_SCALE, 1) for k, v in THINK_SECONDS.items()},
            "peak_in_flight": in_flight["peak"],
            "wall_seconds": round(wall, 1), "http_requests": requests,
            "connection_retries": RETRIES["connection"],
            "lifecycle_seconds_median": round(sorted(durations)[len(durations) // 2], 1) if durations else None,
            "lifecycle_seconds_max": round(max(durations), 1) if durations else None,
            "errors": (idle_errors + errors)[:10],
            "idle_lifecycles": IDLE_LIFECYCLES, "idle_failures": len(idle_errors),
            "latency_ms": latency_summary(),
        })
        return result
    finally:
        _stop(proc)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str]) -> int:
    result = run()
    with open(argv[0], "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    from bench import cold_starts_as_on_lambda

    cold_starts_as_on_lambda()
    sys.exit(main(sys.argv[1:]))
