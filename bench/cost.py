"""Part 1: cost per 1,000 returns, from full lifecycles run in-process on moto.

Each lifecycle is driven through the domain layer the way the API would drive it; every
HTTP request a real client makes is named and timed as one API Gateway request and one
invocation of the API function. The workflow runs in moto's ASL interpreter with the
Lambda tasks dispatched in-process (their wall time x configured memory is billed).
Lifecycles run one at a time so that every AWS call lands in its own return's bucket.

    python -m bench.cost OUT.json [--reps N]
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from contextlib import ExitStack
from typing import Any, Callable

from bench import env

env.in_process()

from bench import prices  # noqa: E402
from bench.probe import Probe, forget_cached_clients  # noqa: E402

# path -> share of returns in the blended mix (stated, so the blend can be argued with)
MIX = {"refund": 0.45, "store_credit": 0.20, "approval": 0.05, "cancel": 0.15, "expire": 0.15}
PATH_NOTES = {
    "refund": "happy path: refund to the card through Stripe (localstripe), customer confirms",
    "store_credit": "store credit, nobody confirms: follow-up email then auto-close",
    "approval": "refund over the finance threshold: parks in awaiting_approval, finance approves",
    "cancel": "customer cancels after the label is issued",
    "expire": "never dropped off: reminder, then expired",
}
ORDER_LINES = [
    {"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 2, "unit_price": 2499, "final_sale": False},
    {"sku": "JEANS-32", "name": "Jeans 32", "qty": 1, "unit_price": 7999, "final_sale": False},
]
BIG_LINES = [{"sku": "COAT-L", "name": "Coat L", "qty": 1, "unit_price": 62000, "final_sale": False}]

probe = Probe()
_current_path: list[str] = ["warmup"]


def _timed_dispatch() -> None:
    """Measure every Lambda task: wall time x configured memory, per function."""
    from infra.local import dispatch

    original = dispatch.call

    def call(fn, event):
        t0 = time.perf_counter()
        try:
            return original(fn, event)
        finally:
            ms = math.ceil((time.perf_counter() - t0) * 1000)
            probe.add(f"lambda.{fn.logical_id}.invocations")
            probe.add(f"lambda.{fn.logical_id}.ms", ms)
            probe.add("lambda.requests")
            probe.add("lambda.gb_seconds", fn.memory_mb / 1024 * ms / 1000)

    dispatch.call = call


API_MEMORY_MB = 512


def api(route: str, action: Callable[[], Any]) -> Any:
    """One HTTP request of a real client: an API Gateway request and an API function invocation."""
    t0 = time.perf_counter()
    try:
        return action()
    finally:
        ms = math.ceil((time.perf_counter() - t0) * 1000)
        probe.add("api.requests")
        probe.add(f"api.{route}")
        probe.add("lambda.ApiFunction.invocations")
        probe.add("lambda.ApiFunction.ms", ms)
        probe.add("lambda.requests")
        probe.add("lambda.gb_seconds", API_MEMORY_MB / 1024 * ms / 1000)


def wait_for(fetch, predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    with probe.paused():
        value = fetch()
        while not predicate(value):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; last: {getattr(value, 'status', value)!r}")
            time.sleep(0.05)
            value = fetch()
    return value


# ---------------------------------------------------------------- one lifecycle
class Driver:
    def __init__(self, stack, stripe_url: str | None):
        self.stack, self.stripe_url, self.n = stack, stripe_url, 0

    def _order(self, provider: str, lines: list[dict]) -> tuple[str, str, dict]:
        from workflow.helpers import order_payload

        self.n += 1
        order_id = f"o-{int(time.time() * 1000)}-{self.n}"
        email = f"bench{self.n}-{order_id}@example.com"   # one customer each: no risk review
        captured = sum(l["qty"] * l["unit_price"] for l in lines)
        payload = order_payload(email=email, provider=provider, captured=captured, lines=lines)
        if provider == "stripe":
            from payments_support import create_captured_payment_intent
            with probe.paused():   # the shop's own payment, not the return's
                payload["payment"]["reference"] = create_captured_payment_intent(self.stripe_url, captured, "EUR")
        return order_id, email, payload

    def _get(self, return_id: str):
        from returns_core import views
        from returns_core.usecases import lifecycle
        from returns_core.store import returns
        return api("GET /returns/{id}", lambda: views.return_view(returns.get(return_id)))

    def start(self, provider: str, resolution: str, lines: list[dict], items: list[dict]):
        from returns_core.edge import auth
        from returns_core import views
        from returns_core.usecases import lifecycle, orders, request_return as return_requests
        from returns_core.store import returns

        order_id, email, payload = self._order(provider, lines)
        api("PUT /orders/{id}", lambda: orders.upsert(order_id, payload))

        def lookup():
            order = orders.find_for_customer(order_id, email)
            return auth.mint("customer", email, order_id=order_id), views.order_view(order)
        api("POST /returns/lookup", lookup)
        ret = api("POST /returns", lambda: return_requests.create(
            orders.get(order_id), items, resolution, {"method": "letterbox"}, f"customer:{order_id}"))
        ret = wait_for(lambda: returns.get(ret.return_id),
                       lambda r: r.status == "awaiting_dropoff" and r.waiting_for == "dropoff", 30, "label")
        self._get(ret.return_id)
        return ret

    def download_label(self, ret) -> None:
        from returns_core import aws, config
        api("GET /returns/{id}/label", lambda: aws.client("s3").get_object(
            Bucket=config.setting("LABELS_BUCKET"), Key=ret.label["s3_key"])["Body"].read())

    def ship_and_inspect(self, ret, sku: str) -> None:
        from returns_core.usecases import carrier_tracking as carrier_events, lifecycle, warehouse
        from returns_core.store import returns

        for n, event in enumerate(("dropped_off", "in_transit", "delivered")):
            api("POST /carrier/events", lambda: carrier_events.apply(
                ret.tracking_number, event, f"2026-11-2{n}T10:00:00Z", "Paris"))
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "arrival", 30, "arrival")
        api("POST /warehouse/scans", lambda: warehouse.scan(ret.code, "warehouse:bench"))
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "inspection", 30, "inspection")
        api("POST /returns/{id}/inspection", lambda: warehouse.inspect(
            ret.return_id, [{"sku": sku, "qty": 1, "condition": "resellable"}], "warehouse:bench"))

    def confirm(self, ret) -> None:
        from returns_core.usecases import lifecycle
        from returns_core.store import returns
        api("POST /returns/{id}/confirm", lambda: lifecycle.transition(
            returns.get(ret.return_id), "closed", actor="customer", event="return.confirmed",
            detail={"satisfied": True}, allowed_from={"refunded"}))

    # --- the paths
    def refund(self):
        from returns_core.usecases import lifecycle
        from returns_core.store import returns
        ret = self.start("stripe", "refund", ORDER_LINES, [{"sku": "JEANS-32", "qty": 1, "reason": "too_small"}])
        self.download_label(ret)
        self.ship_and_inspect(ret, "JEANS-32")
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "confirmation", 30, "refund")
        self._get(ret.return_id)
        self.confirm(ret)
        return ret

    def store_credit(self):
        from returns_core.usecases import lifecycle
        from returns_core.store import returns
        ret = self.start("manual", "store_credit", ORDER_LINES, [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}])
        self.download_label(ret)
        self.ship_and_inspect(ret, "TSHIRT-M")
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.status in ("refunded", "closed"), 30, "credit")
        self._get(ret.return_id)
        return ret   # follow-up and auto-close run on their own

    def approval(self):
        from returns_core.usecases import lifecycle
        from returns_core.store import returns
        from returns_core.store.models import ReturnModel
        ret = self.start("stripe", "refund", BIG_LINES, [{"sku": "COAT-L", "qty": 1, "reason": "changed_mind"}])
        self.download_label(ret)
        self.ship_and_inspect(ret, "COAT-L")
        r = wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "approval", 30, "approval")
        assert r.status == "awaiting_approval", r.status
        api("POST /returns/{id}/refund/approve", lambda: lifecycle.transition(
            returns.get(ret.return_id), "refunding", actor="finance:bench", event="refund.approved",
            allowed_from={"awaiting_approval"},
            updates=[ReturnModel.approval.set({"by": "finance:bench", "at": "2026-11-22T10:00:00Z", "note": "ok"})]))
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "confirmation", 30, "refund")
        self._get(ret.return_id)
        self.confirm(ret)
        return ret

    def cancel(self):
        from returns_core.rules import statuses
        from returns_core.usecases import lifecycle
        from returns_core.store import returns
        ret = self.start("manual", "store_credit", ORDER_LINES, [{"sku": "TSHIRT-M", "qty": 1, "reason": "changed_mind"}])
        api("POST /returns/{id}/cancel", lambda: lifecycle.transition(
            returns.get(ret.return_id), "cancelled", actor="customer", event="return.cancelled",
            allowed_from=statuses.CANCELLABLE))
        return ret

    def expire(self):
        ret = self.start("manual", "store_credit", ORDER_LINES, [{"sku": "TSHIRT-M", "qty": 1, "reason": "changed_mind"}])
        self.download_label(ret)
        return ret


def _finish(ret, timeout: float = 30) -> dict:
    """Wait for the execution to end; its billed transitions from the history."""
    import boto3
    from returns_core.usecases import lifecycle
    from returns_core.store import returns

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    with probe.paused():
        arn = returns.get(ret.return_id).execution_arn
        wait_for(lambda: sfn.describe_execution(executionArn=arn), lambda e: e["status"] != "RUNNING", timeout, "end")
        events, token = [], None
        while True:
            page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                break
        status = sfn.describe_execution(executionArn=arn)["status"]
        final = returns.get(ret.return_id).status
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    to_refund = len(entered)
    if "AwaitConfirmation" in entered:
        to_refund = entered.index("AwaitConfirmation") + 1
    return {"transitions": len(entered), "transitions_to_refund": to_refund, "states": entered,
            "execution": status, "final_status": final}


def _session(overrides: dict[str, str], stripe_url: str | None, paths: list[str], reps: int,
             results: dict, warmup: bool, deadline: float) -> None:
    from moto import mock_aws

    from infra.local import deploy, dispatch
    from returns_core import aws
    from returns_core.outbound import secret_store as secrets

    with mock_aws(config=env.MOTO_CONFIG):
        aws.reset()
        secrets.reset()
        if stripe_url:
            overrides = {**overrides, "StripeApiBase": stripe_url}
        stack = deploy.deploy("local", overrides=overrides)
        dispatch.install(stack.functions)
        os.environ.update(stack.environment)
        env.ensure_ses_templates(stack.environment["SES_TEMPLATE_PREFIX"])
        forget_cached_clients()
        driver = Driver(stack, stripe_url)
        try:
            if warmup:   # imports and first clients: cold starts are part 2, not the per-return cost
                with probe.into("warmup"):
                    _finish(getattr(driver, paths[0])())
            for rep in range(reps):
                for path in paths:
                    if time.monotonic() > deadline:
                        print(f"cost: time budget reached, skipping {path} #{rep}", file=sys.stderr)
                        continue
                    with probe.into(f"{path}#{rep}"):
                        t0 = time.perf_counter()
                        ret = getattr(driver, path)()
                        info = _finish(ret)
                    info["wall_s"] = round(time.perf_counter() - t0, 2)
                    info["counts"] = dict(probe.buckets[f"{path}#{rep}"])
                    results.setdefault(path, []).append(info)
                    print(f"cost: {path} #{rep}: {info['transitions']} transitions, {info['final_status']}, "
                          f"{info['wall_s']} s", file=sys.stderr)
        finally:
            dispatch.uninstall()
            aws.reset()
            secrets.reset()


# ---------------------------------------------------------------- pricing
def price(counts: dict) -> dict[str, float]:
    c = counts
    s3_storage = c.get("s3.bytes_stored", 0) / 1e9 * prices.LABEL_RETENTION_MONTHS
    return {
        "stepfunctions": prices.usd("stepfunctions_standard_transition", c.get("sfn.transitions", 0)),
        "lambda": prices.usd("lambda_request", c.get("lambda.requests", 0))
        + prices.usd("lambda_arm64_gb_second", c.get("lambda.gb_seconds", 0)),
        "dynamodb": prices.usd("dynamodb_write_request_unit", c.get("dynamodb.wru", 0))
        + prices.usd("dynamodb_read_request_unit", c.get("dynamodb.rru", 0)),
        "ses": prices.usd("ses_email", c.get("ses.emails", 0)),
        "sns": prices.usd("sns_publish", c.get("sns.publish", 0)),
        "s3": prices.usd("s3_put", c.get("s3.put_requests", 0)) + prices.usd("s3_get", c.get("s3.get_requests", 0))
        + prices.usd("s3_storage_gb_month", s3_storage),
        "apigateway": prices.usd("apigateway_rest_request", c.get("api.requests", 0)),
        "secretsmanager": prices.usd("secretsmanager_api_call", c.get("secretsmanager.calls", 0)),
    }


QUANTITIES = ["sfn.transitions", "lambda.requests", "lambda.gb_seconds", "dynamodb.wru", "dynamodb.rru",
              "ses.emails", "sns.publish", "sns.sms", "s3.put_requests", "s3.get_requests", "api.requests",
              "secretsmanager.calls", "dynamodb.scan_calls"]


def summarise(results: dict) -> dict:
    paths: dict[str, Any] = {}
    for path, runs in results.items():
        mean: dict[str, float] = {}
        for run in runs:
            counts = dict(run["counts"])
            counts["sfn.transitions"] = run["transitions"]
            for k, v in counts.items():
                mean[k] = mean.get(k, 0) + v / len(runs)
        usd = price(mean)
        lambdas = {k.split(".")[1]: round(v, 2) for k, v in mean.items()
                   if k.startswith("lambda.") and k.endswith(".invocations")}
        paths[path] = {
            "runs": len(runs), "note": PATH_NOTES[path],
            "per_return": {k: round(mean.get(k, 0), 4) for k in QUANTITIES},
            "lambda_invocations": lambdas,
            "lambda_ms": {k.split(".")[1]: round(v) for k, v in mean.items() if k.endswith(".ms")},
            "api_routes": {k[4:]: round(v, 2) for k, v in mean.items() if k.startswith("api.") and k != "api.requests"},
            "usd_per_1000": {k: round(v * 1000, 4) for k, v in usd.items()},
            "usd_per_1000_total": round(sum(usd.values()) * 1000, 4),
            "transitions": runs[0]["transitions"], "transitions_to_refund": runs[0]["transitions_to_refund"],
            "states": runs[0]["states"], "final_status": [r["final_status"] for r in runs],
            "executions": [r["execution"] for r in runs], "wall_s": [r["wall_s"] for r in runs],
        }
    weights = {p: w for p, w in MIX.items() if p in paths}
    total_w = sum(weights.values()) or 1
    blended = {svc: round(sum(paths[p]["usd_per_1000"][svc] * w for p, w in weights.items()) / total_w, 4)
               for svc in next(iter(paths.values()))["usd_per_1000"]} if paths else {}
    return {
        "paths": paths, "mix": weights,
        "blended_usd_per_1000": blended,
        "cost_per_1000_returns_usd": round(sum(blended.values()), 4),
        "happy_path_usd_per_1000": paths.get("refund", {}).get("usd_per_1000_total"),
        "worst_path_usd_per_1000": max((p["usd_per_1000_total"] for p in paths.values()), default=None),
        "happy_path_transitions": paths.get("refund", {}).get("transitions"),
        "happy_path_transitions_to_refund": paths.get("refund", {}).get("transitions_to_refund"),
        "scans_per_lifecycle": int(max((p["per_return"]["dynamodb.scan_calls"] for p in paths.values()), default=0)),
        "sms_per_1000_excluded": {p: round(v["per_return"]["sns.sms"] * 1000) for p, v in paths.items()},
        "prices": {k: {"usd": p.usd, "unit": p.unit, "source": p.source, "as_of": p.as_of, "note": p.note}
                   for k, p in prices.PRICES.items()},
        "method": ("DynamoDB units from item sizes (moto's ConsumedCapacity is a constant); Lambda duration is "
                   "wall time in-process on moto (an over-estimate of AWS); API calls simulated through the domain"),
    }


def main(argv: list[str]) -> int:
    out = argv[0]
    reps = int(argv[argv.index("--reps") + 1]) if "--reps" in argv else 2
    budget = float(argv[argv.index("--budget") + 1]) if "--budget" in argv else 240
    deadline = time.monotonic() + budget
    from payments_support import running_localstripe

    probe.install()
    _timed_dispatch()
    results: dict[str, list] = {}
    with ExitStack() as stack:
        url = stack.enter_context(running_localstripe())
        _session({}, url, ["refund", "approval", "cancel"], reps, results, True, deadline)
        _session({"FollowupDelaySeconds": "1", "AutocloseDelaySeconds": "1"}, None, ["store_credit"], reps,
                 results, False, deadline)
        _session({"DropoffTimeoutSeconds": "2", "DropoffReminderLeadSeconds": "1"}, None, ["expire"], reps,
                 results, False, deadline)
    summary = summarise(results)
    with open(out, "w") as f:
        json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
