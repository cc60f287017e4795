"""Part 1: cost per 1,000 returns, from full lifecycles on the local stack as it ships.

The template is deployed into moto (`mock_aws` in this process) and every function runs from
`sam build`'s artifacts (.aws-sam/build) in Lambda-shaped worker processes (infra/local/workers.py)
that reach the same moto over HTTP (a `ThreadedMotoServer` in this process, as tests/conftest.py
does). Each lifecycle is driven as a client drives it: HTTP requests to the API Gateway emulation
(infra/local/gateway.py, under /Prod) in front of the built ApiFunction, each one API Gateway
request. The workflow runs in moto's ASL interpreter, its Lambda tasks in the workers.

What is counted, and where:
- AWS requests and DynamoDB units: at the emulator (bench/probe.py, `install_emulator`), so calls
  from the workers and from this process are counted alike; the bench's own polling is not.
- Lambda: every invocation that reaches a worker (workers.Worker.invoke, i.e. after INIT), billed
  as its wall time x the function's configured memory.
- Step Functions: the billed transitions of each execution, from its history. A path without an
  execution (a claim: the API, and the Settle function it invokes synchronously) is billed none.
Lifecycles run one at a time so that every AWS call lands in its own path's bucket (the Settle
function a claim's resolve invokes included: it runs inside the same request).

    python -m bench.cost OUT.json [--reps N] [--budget SECONDS]
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import sys
import time
from contextlib import ExitStack
from typing import Any

from bench import env

env.in_process()

from bench import prices, stats  # noqa: E402
from bench.probe import Probe, forget_cached_clients  # noqa: E402

# path -> share of returns in the blended mix (stated, so the blend can be argued with). Issue 20's new
# paths take their share from `refund` (the paths before keep theirs): returnless 5%, an EU withdrawal 3%,
# a dispute paid an adjustment 2%, a claim 2%.
MIX = {"refund": 0.33, "store_credit": 0.20, "approval": 0.05, "cancel": 0.15, "expire": 0.15,
       "keep_item": 0.05, "withdrawal": 0.03, "dispute_adjustment": 0.02, "claim": 0.02}
# path -> the routes it is driven through that not every branch of the API had: a path whose route is not
# on this branch (`_route_exists`) is not driven, it is reported as pending with the reason (`pending_paths`),
# and the blend weighs the paths measured only.
REQUIRED_ROUTES = {"withdrawal": ("POST /withdrawals",),
                   "claim": ("POST /claims", "POST /claims/{claim_id}/resolve")}
PATH_NOTES = {
    "keep_item": "returnless (policy keep_item): no label, no parcel; refunded to the card, customer confirms",
    "dispute_adjustment": "refund path, then the customer disputes; ops upholds with an adjustment refund; "
                          "dispute follow-up, then auto-close",
    "withdrawal": "EU withdrawal of the whole order (POST /withdrawals: preview, then confirm), letterbox, "
                  "parcel arrives and is inspected before the deadline, refunded to the card (delivery "
                  "included), customer confirms",
    "claim": "claim not_received (POST /claims), ops resolves with a refund to the card (POST "
             "/claims/{id}/resolve, Settle invoked synchronously); no Step Functions execution",
    "refund": "happy path: refund to the card through Stripe (localstripe), customer confirms",
    "store_credit": "store credit, nobody confirms: follow-up email then auto-close",
    "approval": "refund over the finance threshold: parks in awaiting_approval, finance approves",
    "cancel": "customer cancels after the label is issued",
    "expire": "never dropped off: reminder, then expired",
}
# Paths measured beside the mix (a store's choice, not a share of today's returns): priced, never blended.
OUTSIDE_MIX_NOTES = {
    "first_scan": "refund to the card at the carrier's first scan (policy refund_on first_scan, issue 33): "
                  "refunded before the parcel arrives, then scanned and inspected all the same, customer confirms",
}
ORDER_LINES = [
    {"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 2, "unit_price": 2499, "final_sale": False},
    {"sku": "JEANS-32", "name": "Jeans 32", "qty": 1, "unit_price": 7999, "final_sale": False},
]
BIG_LINES = [{"sku": "COAT-L", "name": "Coat L", "qty": 1, "unit_price": 62000, "final_sale": False}]
BASE_PATH = "/Prod"                        # as an execute-api URL serves the stage
CARRIER_SECRET = b"local-carrier-secret"   # samconfig's local CarrierSigningSecret

probe = Probe()


def _timed_workers() -> None:
    """Bill every Lambda invocation where it runs: a worker's invoke (INIT excluded, as a warm
    environment is), wall time x the function's configured memory, per function."""
    from infra.local import workers

    original = workers.Worker.invoke

    def invoke(self, event, context, timeout):
        t0 = time.perf_counter()
        try:
            return original(self, event, context, timeout)
        finally:
            ms = math.ceil((time.perf_counter() - t0) * 1000)
            memory = int(context.get("memory_limit_in_mb", 128))
            probe.add(f"lambda.{self.logical_id}.invocations")
            probe.add(f"lambda.{self.logical_id}.ms", ms)
            probe.add("lambda.requests")
            probe.add("lambda.gb_seconds", memory / 1024 * ms / 1000)

    workers.Worker.invoke = invoke


def _emulator() -> dict[str, str]:
    """moto over HTTP for the workers: a ThreadedMotoServer serving this process's backends."""
    import logging

    from moto.server import ThreadedMotoServer

    from infra.local.server import _list_moto_modules_once

    _list_moto_modules_once()   # as `make run` does: moto lists its packages per request otherwise
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "_server": server}


def _route_exists(route: str) -> bool:
    """Whether the API on this branch has `route` ("POST /withdrawals"): a route of that method and path
    declared in functions/api/chalicelib/routes.py, which the app registers (REQUIRED_ROUTES)."""
    import re
    from pathlib import Path

    method, path = route.split(" ", 1)
    declared = re.compile(r'_route\(\s*"' + re.escape(method) + r'",\s*"' + re.escape(path) + r'"')
    return bool(declared.search((Path(env.ROOT) / "functions/api/chalicelib/routes.py").read_text()))


def pending_paths() -> dict[str, str]:
    """path -> why it cannot be driven on this branch: the routes of REQUIRED_ROUTES it lacks."""
    pending = {}
    for path, routes in REQUIRED_ROUTES.items():
        missing = [r for r in routes if not _route_exists(r)]
        if missing:
            pending[path] = f"{', '.join(missing)} not on this branch (Driver.{path} waits for it)"
    return pending


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


# ---------------------------------------------------------------- the API, as a client calls it
class Api:
    """HTTP requests to the gateway emulation in front of the built ApiFunction, without a socket
    (as tests/conftest.py's GatewayClient): each one an API Gateway request, named by its route."""

    def __init__(self) -> None:
        from infra.local import dispatch
        from infra.local.gateway import RestApi
        from infra.local.template import load

        self.gateway = RestApi.from_template(load(), dispatch.invoker("ApiFunction"), base_path=BASE_PATH)

    def __call__(self, route: str, method: str, path: str, body: Any = None, token: str | None = None,
                 headers: dict | None = None, raw: bytes | None = None, key: bool = False,
                 ok: tuple[int, ...] = (200, 201, 202)) -> Any:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        sent = [("Host", "bench.execute-api.us-east-1.amazonaws.com"), ("Content-Type", "application/json"),
                *((headers or {}).items())]
        if token:
            sent.append(("Authorization", f"Bearer {token}"))
        if key:   # as the portal and warehouse pages send it
            sent.append(("Idempotency-Key", os.urandom(12).hex()))
        if data:
            sent.append(("Content-Length", str(len(data))))
        probe.add("api.requests")
        probe.add(f"api.{route}")
        response = self.gateway.handle(method, BASE_PATH + path, sent, data)
        if response.status_code not in ok:
            raise AssertionError(f"{route}: HTTP {response.status_code} {response.body[:300]!r}")
        if (response.header("Content-Type") or "").startswith("application/json"):
            return json.loads(response.body)
        return response.body


# ---------------------------------------------------------------- one lifecycle
class Driver:
    def __init__(self, stack, stripe_url: str | None):
        from returns_core.edge import auth

        self.stack, self.stripe_url, self.n = stack, stripe_url, 0
        self.api = Api()
        with probe.paused():   # the staff's tokens, minted once (as Cognito would issue them)
            self.store = auth.mint("store", "bench-shop")
            self.warehouse = auth.mint("warehouse", "warehouse:bench")
            self.finance = auth.mint("finance", "finance:bench")
        self.customer: dict[str, str] = {}

    def _order(self, provider: str, lines: list[dict]) -> tuple[str, str, dict]:
        from workflow.helpers import order_payload

        self.n += 1
        order_id = f"o-{int(time.time() * 1000)}-{self.n}"
        email = f"bench{self.n}-{order_id}@example.com"   # one customer each: no risk review
        captured = sum(line["qty"] * line["unit_price"] for line in lines)
        payload = order_payload(email=email, provider=provider, captured=captured, lines=lines)
        if provider == "stripe":
            from payments_support import create_captured_payment_intent
            with probe.paused():   # the shop's own payment, not the return's
                payload["payment"]["reference"] = create_captured_payment_intent(self.stripe_url, captured, "EUR")
        return order_id, email, payload

    def _get(self, ret) -> dict:
        return self.api("GET /returns/{id}", "GET", f"/returns/{ret.return_id}", token=self.customer[ret.return_id])

    def start(self, provider: str, resolution: str, lines: list[dict], items: list[dict]):
        from returns_core.store import returns

        order_id, email, payload = self._order(provider, lines)
        self.api("PUT /orders/{id}", "PUT", f"/orders/{order_id}", payload, token=self.store)
        customer = self.api("POST /returns/lookup", "POST", "/returns/lookup",
                            {"order_id": order_id, "email": email})["token"]
        created = self.api("POST /returns", "POST", "/returns", {
            "order_id": order_id, "items": items, "resolution": resolution, "dropoff": {"method": "letterbox"}},
            token=customer, key=True)
        self.customer[created["return_id"]] = customer
        ret = wait_for(lambda: returns.get(created["return_id"]),
                       lambda r: r.status == "awaiting_dropoff" and r.waiting_for == "dropoff", 30, "label")
        self._get(ret)
        return ret

    def download_label(self, ret) -> None:
        pdf = self.api("GET /returns/{id}/label", "GET", f"/returns/{ret.return_id}/label",
                       token=self.customer[ret.return_id])
        assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF"), pdf[:40]

    def carrier_event(self, ret, event: str, occurred_at: str) -> None:
        raw = json.dumps({"tracking_number": ret.tracking_number, "event": event, "occurred_at": occurred_at,
                          "location": "Paris"}).encode()
        sig = "sha256=" + hmac.new(CARRIER_SECRET, raw, hashlib.sha256).hexdigest()
        self.api("POST /carrier/events", "POST", "/carrier/events", raw=raw, headers={"X-Carrier-Signature": sig})

    def ship_and_inspect(self, ret, sku: str | None = None, waits: tuple[str, str] = ("arrival", "inspection")) -> None:
        """The parcel goes (carrier events), arrives (the warehouse's scan) and is graded: one unit of `sku`,
        or, without it, every item of the return. `waits`: the workflow waits the parcel is in, travelling
        and at the warehouse (a withdrawal's is one wait for both: rules.statuses.SPANNING_WAITS)."""
        from returns_core.store import returns

        for n, event in enumerate(("dropped_off", "in_transit", "delivered")):
            self.carrier_event(ret, event, f"2026-11-2{n}T10:00:00Z")
        travelling, arrived = waits
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == travelling, 30, "arrival")
        self.api("POST /warehouse/scans", "POST", "/warehouse/scans", {"code": ret.code}, token=self.warehouse)
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.status == "received" and r.waiting_for == arrived,
                 30, "inspection")
        graded = ([{"sku": sku, "qty": 1}] if sku else
                  [{"sku": i["sku"], "qty": int(i["qty"])} for i in ret.items])
        self.api("POST /returns/{id}/inspection", "POST", f"/returns/{ret.return_id}/inspection",
                 {"items": [{**g, "condition": "resellable"} for g in graded]}, token=self.warehouse, key=True)

    def confirm(self, ret) -> None:
        self.api("POST /returns/{id}/confirm", "POST", f"/returns/{ret.return_id}/confirm", {"satisfied": True},
                 token=self.customer[ret.return_id], key=True)

    # --- the paths
    def refund(self):
        from returns_core.store import returns
        ret = self.start("stripe", "refund", ORDER_LINES, [{"sku": "JEANS-32", "qty": 1, "reason": "too_small"}])
        self.download_label(ret)
        self.ship_and_inspect(ret, "JEANS-32")
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "confirmation", 30, "refund")
        self._get(ret)
        self.confirm(ret)
        return ret

    def store_credit(self):
        from returns_core.store import returns
        ret = self.start("manual", "store_credit", ORDER_LINES, [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}])
        self.download_label(ret)
        self.ship_and_inspect(ret, "TSHIRT-M")
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.status in ("refunded", "closed"), 30, "credit")
        self._get(ret)
        return ret   # follow-up and auto-close run on their own

    def approval(self):
        from returns_core.store import returns
        ret = self.start("stripe", "refund", BIG_LINES, [{"sku": "COAT-L", "qty": 1, "reason": "changed_mind"}])
        self.download_label(ret)
        self.ship_and_inspect(ret, "COAT-L")
        r = wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "approval", 30, "approval")
        assert r.status == "awaiting_approval", r.status
        self.api("POST /returns/{id}/refund/approve", "POST", f"/returns/{ret.return_id}/refund/approve",
                 {"note": "ok"}, token=self.finance)
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "confirmation", 30, "refund")
        self._get(ret)
        self.confirm(ret)
        return ret

    def first_scan(self):
        """Issue 33: the policy pays at the carrier's first scan (`first_scan_policy`: a rule for reason
        `wrong_item` only, so the other paths keep paying at inspection). The time from the drop-off event
        to the refund paid (the confirmation wait parked) is recorded in `dropoff_to_refund_ms`."""
        from returns_core.store import returns
        ret = self.start("stripe", "refund", ORDER_LINES, [{"sku": "JEANS-32", "qty": 1, "reason": "wrong_item"}])
        assert (ret.refund_timing or {}).get("on") == "first_scan", ret.refund_timing
        self.download_label(ret)
        t0 = time.perf_counter()
        self.carrier_event(ret, "dropped_off", "2026-11-20T10:00:00Z")
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "confirmation", 30, "early refund")
        dropoff_to_refund_ms.append((time.perf_counter() - t0) * 1000)
        for n, event in enumerate(("in_transit", "delivered"), start=1):
            self.carrier_event(ret, event, f"2026-11-2{n}T10:00:00Z")
        self.api("POST /warehouse/scans", "POST", "/warehouse/scans", {"code": ret.code}, token=self.warehouse)
        self.api("POST /returns/{id}/inspection", "POST", f"/returns/{ret.return_id}/inspection",
                 {"items": [{"sku": "JEANS-32", "qty": 1, "condition": "resellable"}]}, token=self.warehouse, key=True)
        self._get(ret)
        self.confirm(ret)
        return ret

    def first_scan_policy(self) -> None:
        """The store's policy with a rule paying `wrong_item` returns at the first scan (what `first_scan` runs)."""
        with probe.paused():   # the store's setup, once, not a return's cost
            current = self.api("GET /policy", "GET", "/policy", token=self.store)["policy"]
            rules = [r for r in current.get("rules") or [] if r.get("id") != "bench-first-scan"]
            rules.append({"id": "bench-first-scan", "match": {"reason": ["wrong_item"]},
                          "set": {"refund_on": "first_scan", "risk_hold_above": 100}})
            self.api("PUT /policy", "PUT", "/policy", {"policy": {**current, "rules": rules}}, token=self.store)

    def cancel(self):
        ret = self.start("manual", "store_credit", ORDER_LINES,
                         [{"sku": "TSHIRT-M", "qty": 1, "reason": "changed_mind"}])
        self.api("POST /returns/{id}/cancel", "POST", f"/returns/{ret.return_id}/cancel", {},
                 token=self.customer[ret.return_id], key=True)
        return ret

    def expire(self):
        ret = self.start("manual", "store_credit", ORDER_LINES,
                         [{"sku": "TSHIRT-M", "qty": 1, "reason": "changed_mind"}])
        self.download_label(ret)
        return ret

    def keep_item(self):
        """Returnless: the store's policy lets the customer keep a defective item (set once per session,
        `keep_item_policy`); no label, no parcel, straight to the refund."""
        from returns_core.store import returns

        order_id, email, payload = self._order("stripe", ORDER_LINES)
        self.api("PUT /orders/{id}", "PUT", f"/orders/{order_id}", payload, token=self.store)
        customer = self.api("POST /returns/lookup", "POST", "/returns/lookup",
                            {"order_id": order_id, "email": email})["token"]
        created = self.api("POST /returns", "POST", "/returns", {
            "order_id": order_id, "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "defective"}],
            "resolution": "refund", "dropoff": {"method": "letterbox"}}, token=customer, key=True)
        self.customer[created["return_id"]] = customer
        ret = wait_for(lambda: returns.get(created["return_id"]), lambda r: r.waiting_for == "confirmation", 30,
                       "returnless refund")
        assert all((i or {}).get("keep_item") for i in ret.items), "the policy's keep_item did not apply"
        self._get(ret)
        self.confirm(ret)
        return ret

    def keep_item_policy(self) -> None:
        """The store's policy with a returnless rule for defective items (what `keep_item` exercises)."""
        with probe.paused():   # the store's setup, once, not a return's cost
            current = self.api("GET /policy", "GET", "/policy", token=self.store)["policy"]
            rules = [r for r in current.get("rules") or [] if r.get("id") != "bench-keep"]
            rules.append({"id": "bench-keep", "match": {"reason": ["defective"]}, "set": {"keep_item": True}})
            self.api("PUT /policy", "PUT", "/policy", {"policy": {**current, "rules": rules}}, token=self.store)

    def dispute_adjustment(self):
        """The refund path, then the customer is not satisfied; customer service upholds with a partial
        refund (a ledger adjustment); the dispute's follow-up, then its auto-close (short waits)."""
        from returns_core.edge import auth
        from returns_core.store import returns

        ret = self.start("stripe", "refund", ORDER_LINES, [{"sku": "JEANS-32", "qty": 1, "reason": "too_small"}])
        self.download_label(ret)
        self.ship_and_inspect(ret, "JEANS-32")
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "confirmation", 30, "refund")
        self._get(ret)
        self.api("POST /returns/{id}/confirm", "POST", f"/returns/{ret.return_id}/confirm",
                 {"satisfied": False, "comment": "the shipping fee should not apply"},
                 token=self.customer[ret.return_id], key=True)
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "dispute", 30, "dispute wait")
        with probe.paused():
            ops = auth.mint("ops", "ops:bench")
        self.api("POST /returns/{id}/dispute/resolve", "POST", f"/returns/{ret.return_id}/dispute/resolve",
                 {"decision": "uphold", "note": "Sorry: the fee is refunded.", "refund_amount": 495,
                  "method": "refund"}, token=ops, key=True)
        return ret

    def withdrawal(self):
        """The EU withdrawal as the portal sends it: the order's preview (the "Withdraw from contract here"
        function is offered only when it answers), then "Confirm withdrawal" with the stated name and the
        previewed lines; its return is collected from the letterbox, arrives, is graded, refunded to the card
        (delivery included: the whole order) and confirmed. The withdrawal's own states (WithdrawalClock and
        its waits) run with the local deadline (samconfig's WithdrawalRefundSeconds): the parcel is graded
        long before it."""
        from returns_core.store import returns

        order_id, email, payload = self._order("stripe", ORDER_LINES)
        self.api("PUT /orders/{id}", "PUT", f"/orders/{order_id}", payload, token=self.store)
        customer = self.api("POST /returns/lookup", "POST", "/returns/lookup",
                            {"order_id": order_id, "email": email})["token"]
        preview = self.api("POST /withdrawals", "POST", "/withdrawals", {"order_id": order_id, "confirm": False},
                           token=customer)["preview"]
        made = self.api("POST /withdrawals", "POST", "/withdrawals", {
            "order_id": order_id, "confirm": True, "name": "Ana Lefèvre", "dropoff": {"method": "letterbox"},
            "lines": [{"sku": x["sku"], "qty": x["qty"]} for x in preview["lines"]]}, token=customer, key=True)
        self.customer[made["return_id"]] = customer
        ret = wait_for(lambda: returns.get(made["return_id"]),
                       lambda r: r.status == "awaiting_dropoff" and r.waiting_for == "dropoff", 30, "label")
        assert ret.withdrawal, "the return is not the withdrawal's"
        self._get(ret)
        self.download_label(ret)
        self.ship_and_inspect(ret, waits=("withdrawal_parcel", "withdrawal_parcel"))
        wait_for(lambda: returns.get(ret.return_id), lambda r: r.waiting_for == "confirmation", 30, "refund")
        self._get(ret)
        self.confirm(ret)
        return ret

    def claim(self):
        """A parcel that never came: the customer claims every line `not_received`; ops refunds it to the
        card. Both synchronous in the API (its invoke of the Settle function pays it): no execution."""
        from returns_core.edge import auth
        from returns_core.store import claims

        order_id, email, payload = self._order("stripe", ORDER_LINES)
        self.api("PUT /orders/{id}", "PUT", f"/orders/{order_id}", payload, token=self.store)
        customer = self.api("POST /returns/lookup", "POST", "/returns/lookup",
                            {"order_id": order_id, "email": email})["token"]
        opened = self.api("POST /claims", "POST", "/claims", {
            "order_id": order_id, "kind": "not_received", "message": "The parcel never arrived",
            "lines": [{"sku": x["sku"], "qty": x["qty"]} for x in ORDER_LINES]}, token=customer, key=True)
        with probe.paused():
            ops = auth.mint("ops", "ops:bench")
        self.api("GET /claims/{id}", "GET", f"/claims/{opened['claim_id']}", token=ops)
        resolved = self.api("POST /claims/{id}/resolve", "POST", f"/claims/{opened['claim_id']}/resolve",
                            {"decision": "refund", "note": "Sorry: refunded."}, token=ops, key=True)
        assert resolved["status"] == "refunded", resolved["status"]
        self.api("GET /claims/{id}", "GET", f"/claims/{opened['claim_id']}", token=customer)
        with probe.paused():
            return claims.get(opened["claim_id"])


def _finish(subject, timeout: float = 30) -> dict:
    """Wait for the path's execution to end; its billed transitions from the history. A path without an
    execution (a claim: the API and the Settle function only) is billed no transition."""
    import boto3

    from returns_core.store import returns

    if getattr(subject, "return_id", None) is None:
        return _run(states=[], execution=None, final_status=subject.status)
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    with probe.paused():
        arn = returns.get(subject.return_id).execution_arn
        wait_for(lambda: sfn.describe_execution(executionArn=arn), lambda e: e["status"] != "RUNNING", timeout, "end")
        events, token = [], None
        while True:
            page = sfn.get_execution_history(executionArn=arn, maxResults=1000,
                                             **({"nextToken": token} if token else {}))
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                break
        status = sfn.describe_execution(executionArn=arn)["status"]
        final = returns.get(subject.return_id).status
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    return _run(states=entered, execution=status, final_status=final)


def _run(states: list[str], execution: str | None, final_status: str) -> dict:
    """One run's accounting: every state entered is a billed transition (Standard workflows)."""
    to_refund = len(states)
    if "AwaitConfirmation" in states:
        to_refund = states.index("AwaitConfirmation") + 1
    return {"transitions": len(states), "transitions_to_refund": to_refund, "states": states,
            "execution": execution, "final_status": final_status}


failed: dict[str, list[str]] = {}   # path -> what went wrong, per run (reported, never priced)
dropoff_to_refund_ms: list[float] = []   # the first_scan path: the carrier's drop-off event -> the refund paid


def _session(overrides: dict[str, str], stripe_url: str | None, paths: list[str], reps: int,
             results: dict, warmup: bool, deadline: float, aws_access: dict[str, str]) -> None:
    from moto import mock_aws

    from infra.local import deploy, dispatch
    from returns_core import aws
    from returns_core.outbound import secret_store as secrets

    with mock_aws(config=env.MOTO_CONFIG):
        aws.reset()
        secrets.reset()
        if stripe_url:
            overrides = {**overrides, "StripeApiBase": stripe_url}
        with probe.into("deploy"):
            stack = deploy.deploy("local", overrides=overrides)
        dispatch.install(stack.functions, aws_access)
        os.environ.update(stack.environment)
        env.ensure_ses_templates(stack.environment["SES_TEMPLATE_PREFIX"])
        forget_cached_clients()
        driver = Driver(stack, stripe_url)
        if "keep_item" in paths:
            driver.keep_item_policy()
        if "first_scan" in paths:
            driver.first_scan_policy()
        try:
            if warmup:   # every function's worker INIT and first clients: cold starts are part 2, not the
                with probe.into("warmup"):   # per-return cost (each session has new workers)
                    _finish(getattr(driver, paths[0])())
            for rep in range(reps):
                for path in paths:
                    if time.monotonic() > deadline:
                        print(f"cost: time budget reached, skipping {path} #{rep}", file=sys.stderr)
                        continue
                    with probe.into(f"{path}#{rep}"):
                        t0 = time.perf_counter()
                        try:
                            ret = getattr(driver, path)()
                            info = _finish(ret)
                        except Exception as exc:  # noqa: BLE001 - one path's failure is its result, not the run's
                            failed.setdefault(path, []).append(f"#{rep}: {type(exc).__name__}: {exc}"[:300])
                            print(f"cost: {path} #{rep} FAILED: {type(exc).__name__}: {exc}"[:300], file=sys.stderr)
                            continue
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
            "runs": len(runs), "note": PATH_NOTES.get(path) or OUTSIDE_MIX_NOTES[path],
            "per_return": {k: round(mean.get(k, 0), 4) for k in QUANTITIES},
            "lambda_invocations": lambdas,
            "lambda_ms": {k.split(".")[1]: round(v) for k, v in mean.items() if k.endswith(".ms")},
            "api_routes": {k[4:]: round(v, 2) for k, v in mean.items() if k.startswith("api.") and k != "api.requests"},
            "aws_calls": {k[5:]: round(v, 2) for k, v in sorted(mean.items()) if k.startswith("call.")},
            "emails_by_template": {k[len("ses.template."):]: round(v, 2) for k, v in sorted(mean.items())
                                   if k.startswith("ses.template.")},
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
        "artifacts": ".aws-sam/build",
        "method": ("the sam build artifacts in Lambda-shaped worker processes (runtime venv, boto3 only) on moto; "
                   "the API through the API Gateway emulation (under /Prod). AWS requests and DynamoDB units counted "
                   "at the emulator (moto's request handlers), from the workers and this process alike; DynamoDB "
                   "units from item sizes (moto's ConsumedCapacity is a constant); Lambda duration is each worker "
                   "invocation's wall time on moto (INIT excluded; an over-estimate of AWS)"),
        "probe_errors": probe.errors[:10],
    }


def main(argv: list[str]) -> int:
    out = argv[0]
    reps = int(argv[argv.index("--reps") + 1]) if "--reps" in argv else 2
    budget = float(argv[argv.index("--budget") + 1]) if "--budget" in argv else 240
    deadline = time.monotonic() + budget
    from payments_support import running_localstripe

    from infra import artifacts

    artifacts.build(quiet=True)   # before the clock matters: a no-op when .aws-sam/build is fresh
    pending = pending_paths()
    probe.install_emulator()
    _timed_workers()
    access = _emulator()
    server = access.pop("_server")
    results: dict[str, list] = {}
    try:
        with ExitStack() as stack:
            url = stack.enter_context(running_localstripe())
            first = [p for p in ("refund", "approval", "cancel", "keep_item", "withdrawal", "claim", "first_scan")
                     if p not in pending]
            _session({}, url, first, reps, results, True, deadline, access)
            # the dispute's follow-up and auto-close come 1 s after each other; the refund's follow-up keeps
            # its default delay (the customer disputes before it)
            _session({"DisputeFollowupDelaySeconds": "1", "AutocloseDelaySeconds": "1"}, url,
                     ["dispute_adjustment"], reps, results, True, deadline, access)
            _session({"FollowupDelaySeconds": "1", "AutocloseDelaySeconds": "1"}, None, ["store_credit"], reps,
                     results, True, deadline, access)
            _session({"DropoffTimeoutSeconds": "2", "DropoffReminderLeadSeconds": "1"}, None, ["expire"], reps,
                     results, True, deadline, access)
    finally:
        server.stop()
    summary = summarise(results)
    summary["pending_paths"] = pending
    summary["failed_runs"] = failed
    # Issue 33: what paying at the first scan costs (outside the blend: a store's choice, not a share of
    # today's returns) and how long a customer waits from the drop-off to the refund.
    summary["first_scan"] = {"usd_per_1000": (summary["paths"].get("first_scan") or {}).get("usd_per_1000_total"),
                             "dropoff_to_refund_ms": stats.summary_ms(dropoff_to_refund_ms)}
    with open(out, "w") as f:
        json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    from bench import cold_starts_as_on_lambda

    cold_starts_as_on_lambda()
    sys.exit(main(sys.argv[1:]))
