"""Part: throughput from the built artifacts vs the previous in-process dispatch, in the same run.

Issue 20 asks what shipping the built artifacts (`sam build`'s .aws-sam/build in Lambda-shaped
worker processes, infra/local/workers.py) costs in lifecycles per minute against what the local
stack did before (infra/local/dispatch.py before c5b2c63: each handler module imported from the
source tree and called in this process). Same process, same moto, same template, same driver
(bench/cost.py's Driver through the API Gateway emulation), same LIFECYCLES concurrent store-credit
lifecycles; only the dispatch differs:

- "built": dispatch.install(...) as `make run` does: the workers reach moto over HTTP.
- "in_process": the same pools, each `invoke` replaced by a call of the source handler in this
  process (environment set from the template per call, as the old dispatch did), reaching moto
  in-process (`mock_aws`).

The rounds alternate (built, in-process, built, in-process...) so that a neighbour's load on this
shared machine falls on both; the ratio is built / in-process lifecycles per minute (target ≥ 0.8).

    python -m bench.dispatch_ratio OUT.json [--lifecycles N] [--rounds R]
"""
from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import env

env.in_process()

from bench import cost, stats  # noqa: E402

_env_lock = threading.RLock()
_modules: dict[str, Any] = {}
_in_flight = {"n": 0, "last": 0.0}
_flight_lock = threading.Lock()


def _quiet(seconds: float = 1.0, limit: float = 60.0) -> None:
    """Wait until no in-process invocation has run for `seconds`: a lifecycle's last step may still be
    sending its side effects when the driver has seen its status, and none may outlive mock_aws (its
    clients would then aim at AWS itself)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with _flight_lock:
            if _in_flight["n"] == 0 and time.monotonic() - _in_flight["last"] >= seconds:
                return
        time.sleep(0.1)


class _Context:
    def __init__(self, fn) -> None:
        self.function_name, self.memory_limit_in_mb = fn.name, fn.memory_mb
        self.invoked_function_arn, self.aws_request_id = fn.arn, str(uuid.uuid4())
        self.function_version, self.log_group_name, self.log_stream_name = "$LATEST", f"/aws/lambda/{fn.name}", "local"
        self._deadline = time.monotonic() + fn.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _source_handler(fn, code_uri: str, handler: str) -> Callable:
    """functions/<step>/app.py from the source tree, under a unique module name (every step's is `app`)."""
    module_file, attr = handler.rsplit(".", 1)
    key = f"_bench_src_{fn.logical_id}_{module_file}"
    if key not in _modules:
        path = env.ROOT / code_uri / f"{module_file}.py"
        spec = importlib.util.spec_from_file_location(key, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        with _env_lock:
            os.environ.update(fn.environment)
            spec.loader.exec_module(module)
        _modules[key] = module
    return getattr(_modules[key], attr)


def _in_process(fn, code_uri: str, handler: str) -> Callable[[Any], tuple[Any, str | None]]:
    target = _source_handler(fn, code_uri, handler)

    def invoke(event: Any) -> tuple[Any, str | None]:
        with _env_lock:
            os.environ.update(fn.environment)
        with _flight_lock:
            _in_flight["n"] += 1
        try:
            return target(event, _Context(fn)), None
        except Exception as exc:  # noqa: BLE001 - reported as Lambda reports it
            return {"errorType": type(exc).__name__, "errorMessage": str(exc)[:1000],
                    "stackTrace": traceback.format_exception(exc)[-3:]}, "Unhandled"
        finally:
            with _flight_lock:
                _in_flight["n"] -= 1
                _in_flight["last"] = time.monotonic()
    return invoke


def _round(mode: str, n: int, stack, api: cost.Api, offset: int) -> dict:
    errors: list[str] = []
    durations: list[float] = []
    lock = threading.Lock()

    def one(k: int) -> None:
        driver = cost.Driver.__new__(cost.Driver)
        driver.stack, driver.stripe_url, driver.n, driver.api, driver.customer = stack, None, offset + k * 100, api, {}
        driver.store, driver.warehouse, driver.finance = api.tokens
        t0 = time.monotonic()
        try:
            driver.store_credit()
            with lock:
                durations.append(time.monotonic() - t0)
        except Exception as exc:  # noqa: BLE001 - a failed lifecycle is a result
            with lock:
                errors.append(f"{mode} #{k}: {type(exc).__name__}: {exc}"[:300])

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(one, range(n)))
    wall = time.monotonic() - t0
    return {"mode": mode, "lifecycles": n, "completed": len(durations), "failures": len(errors),
            "wall_seconds": round(wall, 1), "per_minute": stats.per_minute(len(durations), wall),
            "lifecycle_seconds_median": round(stats.percentile(durations, 50), 1) if durations else None,
            "errors": errors[:5]}


def run(lifecycles: int, rounds: int) -> dict:
    from moto import mock_aws

    from infra import artifacts
    from infra.local import deploy, dispatch
    from infra.local.template import load
    from returns_core import aws
    from returns_core.edge import auth
    from returns_core.outbound import secret_store as secrets

    artifacts.build(quiet=True)
    access = cost._emulator()
    server = access.pop("_server")
    resources = load()["Resources"]
    results: list[dict] = []
    try:
        with mock_aws(config=env.MOTO_CONFIG):
            aws.reset()
            secrets.reset()
            stack = deploy.deploy("local")
            os.environ.update(stack.environment)
            env.ensure_ses_templates(stack.environment["SES_TEMPLATE_PREFIX"])
            cost.forget_cached_clients()
            dispatch.install(stack.functions, access)
            built = {name: pool.invoke for name, pool in dispatch._pools.items()}
            local = {}
            for name, fn in stack.functions.items():
                props = resources[fn.logical_id]["Properties"]
                local[name] = _in_process(fn, props["CodeUri"].rstrip("/"), props["Handler"])
            api = cost.Api()   # the gateway calls the ApiFunction pool's `invoke` as it is at each request
            gateway_pool = next(p for p in dispatch._pools.values() if p.logical_id == "ApiFunction")
            api.gateway = type(api.gateway).from_template(load(), lambda event: gateway_pool.invoke(event),
                                                          base_path=cost.BASE_PATH)
            api.tokens = (auth.mint("store", "bench-shop"), auth.mint("warehouse", "warehouse:bench"),
                          auth.mint("finance", "finance:bench"))
            # warm-up: every function's first INIT in both modes, outside the clock
            for mode, table in (("built", built), ("in_process", local)):
                for name, pool in dispatch._pools.items():
                    pool.invoke = table[name]
                _round(f"warmup-{mode}", 1, stack, api, offset=900_000 + len(mode))
            for r in range(rounds):
                for mode, table in (("built", built), ("in_process", local)):
                    for name, pool in dispatch._pools.items():
                        pool.invoke = table[name]
                    results.append(_round(mode, lifecycles, stack, api, offset=(r * 2 + (mode == "built")) * 10_000))
                    _quiet()   # the round's last side effects, before the next round's clock
                    print(f"throughput: {mode} round {r}: {results[-1]['per_minute']}/min, "
                          f"{results[-1]['failures']} failed", file=sys.stderr)
            for name, pool in dispatch._pools.items():   # what is still running finishes in-process, then
                pool.invoke = local[name]                # nothing is left in flight when mock_aws ends
            _quiet(seconds=2.0)
            dispatch.uninstall()
            aws.reset()
            secrets.reset()
    finally:
        server.stop()
    by_mode: dict[str, dict] = {}
    for mode in ("built", "in_process"):
        mine = [r for r in results if r["mode"] == mode]
        done, wall = sum(r["completed"] for r in mine), sum(r["wall_seconds"] for r in mine)
        by_mode[mode] = {"lifecycles": sum(r["lifecycles"] for r in mine), "completed": done,
                         "failures": sum(r["failures"] for r in mine), "wall_seconds": round(wall, 1),
                         "per_minute": stats.per_minute(done, wall)}
    return {"concurrency": lifecycles, "rounds": rounds, "by_mode": by_mode,
            "ratio_built_to_in_process": stats.ratio(by_mode["built"]["per_minute"],
                                                     by_mode["in_process"]["per_minute"]),
            "target_ratio": 0.8, "runs": results,
            "method": ("same process, moto, template and driver (bench/cost.py's Driver through the API Gateway "
                       "emulation), store-credit lifecycles to `refunded`; built = sam build artifacts in "
                       "Lambda-shaped worker processes over HTTP to moto; in_process = the source handlers called "
                       "in the bench's process (the dispatch before c5b2c63); rounds alternate")}


def main(argv: list[str]) -> int:
    lifecycles = int(argv[argv.index("--lifecycles") + 1]) if "--lifecycles" in argv else 8
    rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else 2
    result = run(lifecycles, rounds)
    with open(argv[0], "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    from bench import cold_starts_as_on_lambda

    cold_starts_as_on_lambda()
    sys.exit(main(sys.argv[1:]))
