"""Check a deployed stack end to end over HTTP, leaving nothing open behind.

    python -m infra.smoke --url https://returns.your-shop.com --store-token TOKEN --carrier-key KEY
    python -m infra.smoke --env staging            # the URL, a store token and the carrier key from the stack

Steps: /health; a test order pushed as the store; the customer's lookup; a return; its label
issued by the workflow (polled) and downloaded as a PDF; a carrier webhook signed with the
carrier key (for an unknown parcel, so it moves nothing: answered 404 `unknown_tracking_number`,
where a wrong key would be a 401); the return cancelled. One line per step with its time;
exit 1 at the first failure, naming it. The order is `SMOKE-<time>` paid `manual` with nothing
captured, so nothing it does can move money.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

SMOKE_EMAIL = "smoke-test@returns.invalid"
LABEL_WAIT_SECONDS = 90


class SmokeFailed(Exception):
    pass


class Client:
    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base = base_url.rstrip("/")
        self.timeout = timeout

    def call(self, method: str, path: str, body: Any = None, headers: dict | None = None,
             raw: bytes | None = None) -> tuple[int, dict, bytes]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        sent = {"Content-Type": "application/json", **(headers or {})}
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()


def _json(payload: bytes) -> dict:
    try:
        return json.loads(payload)
    except ValueError:
        return {}


def _check(step: str, answer: tuple[int, dict, bytes], *wanted: int) -> dict:
    status, _, payload = answer
    return _expect(step, status, wanted, payload)


def _expect(step: str, status: int, wanted: tuple[int, ...], payload: bytes) -> dict:
    if status not in wanted:
        raise SmokeFailed(f"{step}: HTTP {status} (wanted {'/'.join(map(str, wanted))}): {payload[:300]!r}")
    return _json(payload)


def _order(order_id: str) -> dict:
    delivered = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0).isoformat()
    return {"customer": {"email": SMOKE_EMAIL, "name": "Smoke Test", "locale": "en-GB"},
            "currency": "EUR", "placed_at": delivered, "delivered_at": delivered,
            "shipping_address": {"line1": "1 rue de la Paix", "postcode": "75002", "city": "Paris", "country": "FR"},
            "payment": {"provider": "manual", "reference": order_id, "captured_amount": 0},
            "lines": [{"sku": "SMOKE-1", "name": "Smoke test item", "qty": 1, "unit_price": 0}]}


def run(base_url: str, store_token: str, carrier_key: str, say=print, label_wait: float = LABEL_WAIT_SECONDS) -> str:
    """The checks, in order; returns the smoke return's id. Raises SmokeFailed naming the step."""
    api = Client(base_url)
    store = {"Authorization": f"Bearer {store_token}"}
    order_id = f"SMOKE-{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"

    def step(name: str, fn):
        started = time.monotonic()
        out = fn()
        say(f"ok   {name} ({(time.monotonic() - started) * 1000:.0f} ms)")
        return out

    step("GET /health", lambda: _check("GET /health", api.call("GET", "/health"), 200))
    step(f"PUT /orders/{order_id} (store)", lambda: _check(
        "PUT /orders", api.call("PUT", f"/orders/{order_id}", _order(order_id), store), 200, 201))
    found = step("POST /returns/lookup (customer)", lambda: _check(
        "POST /returns/lookup", api.call("POST", "/returns/lookup", {"order_id": order_id, "email": SMOKE_EMAIL}), 200))
    customer = {"Authorization": f"Bearer {found['token']}"}
    created = step("POST /returns", lambda: _check("POST /returns", api.call(
        "POST", "/returns", {"order_id": order_id, "resolution": "refund", "dropoff": {"method": "letterbox"},
                             "items": [{"sku": "SMOKE-1", "qty": 1, "reason": "changed_mind"}]},
        {**customer, "Idempotency-Key": f"smoke-{order_id}"}), 201))
    return_id = created["return_id"]

    try:
        def label_ready() -> dict:
            deadline = time.monotonic() + label_wait
            while True:
                ret = _check("GET /returns/{id}", api.call("GET", f"/returns/{return_id}", headers=customer), 200)
                if ret.get("label"):
                    return ret
                if ret.get("status") not in ("requested", "under_review", "awaiting_dropoff"):
                    raise SmokeFailed(f"label: the return went to {ret.get('status')} without a label")
                if time.monotonic() > deadline:
                    raise SmokeFailed(f"label: not issued within {label_wait:.0f} s (status {ret.get('status')})")
                time.sleep(1)

        step("label issued by the workflow", label_ready)

        def pdf() -> None:
            status, headers, payload = api.call("GET", f"/returns/{return_id}/label",
                                                headers={**customer, "Accept": "application/pdf"})
            _expect("GET /returns/{id}/label", status, (200,), payload)
            if not payload.startswith(b"%PDF"):
                raise SmokeFailed(f"label: not a PDF ({headers.get('Content-Type')}, starts {payload[:8]!r})")

        step("GET /returns/{id}/label is a PDF", pdf)

        def carrier() -> None:
            raw = json.dumps({"tracking_number": f"SMOKE-NO-PARCEL-{uuid.uuid4().hex[:8]}", "event": "in_transit",
                              "occurred_at": datetime.now(UTC).isoformat()}).encode()
            signature = "sha256=" + hmac.new(carrier_key.encode(), raw, hashlib.sha256).hexdigest()
            status, _, payload = api.call("POST", "/carrier/events", raw=raw,
                                          headers={"X-Carrier-Signature": signature})
            if status == 401:
                raise SmokeFailed("carrier webhook: 401, the carrier key is not the stack's")
            body = _expect("POST /carrier/events", status, (404,), payload)
            if (body.get("error") or {}).get("code") != "unknown_tracking_number":
                raise SmokeFailed(f"carrier webhook: unexpected answer {payload[:200]!r}")

        step("POST /carrier/events signed with the carrier key", carrier)
        cancelling = {**customer, "Idempotency-Key": f"smoke-cancel-{order_id}"}
        step("POST /returns/{id}/cancel", lambda: _check("POST /returns/{id}/cancel", api.call(
            "POST", f"/returns/{return_id}/cancel", {}, cancelling), 200))
    except SmokeFailed:
        # Leave nothing open: a return left behind would hold its order and wait for a parcel.
        api.call("POST", f"/returns/{return_id}/cancel", {},
                 {**customer, "Idempotency-Key": f"smoke-cancel-{order_id}"})
        raise
    return return_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.smoke", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="the API's base URL (the ApiUrl output, or the custom domain)")
    parser.add_argument("--store-token", help="a bearer token of the store role")
    parser.add_argument("--carrier-key", help="the carrier's webhook key (carrier-secret show)")
    parser.add_argument("--env", help="staging or prod: read the URL and carrier key from the stack")
    args = parser.parse_args(argv)
    url, token, key = args.url, args.store_token, args.carrier_key
    if args.env:
        from . import deploy
        url, token, key = deploy.smoke_credentials(args.env, url, token, key)
    missing = [flag for flag, value in (("--url", url), ("--store-token", token), ("--carrier-key", key))
               if not value]
    if missing:
        print(f"smoke: missing {', '.join(missing)} (or pass --env)", file=sys.stderr)
        return 2
    try:
        return_id = run(url, token, key)
    except SmokeFailed as exc:
        print(f"FAIL {exc}", file=sys.stderr)
        return 1
    print(f"smoke passed: return {return_id} was created, labelled and cancelled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
