"""The local stack as a user runs it (`python -m infra.local run`) in a subprocess on free ports with its
own data folder (`Stack`), and the calls the local-stack tests make of it; the `stacks` fixture is in
tests/infra/conftest.py."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 120    # a sam build check, the deploy and the restore on a loaded 2-core box
WAIT_SECONDS = 60

def environment() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for key in ("AWS_ENDPOINT_URL", "MOTO_PORT"):
        env.pop(key, None)
    return env


class Stack:
    """One `python -m infra.local run` process on its own ports and data folder."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir, self.log_path = data_dir, log
        self.api_port, self.aws_port, self.stripe_port = free_port(), free_port(), free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def stripe(self) -> str:
        return f"http://127.0.0.1:{self.stripe_port}"

    def start(self) -> Stack:
        self.log = open(self.log_path, "a")  # noqa: SIM115 - the stack's output, closed by stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "run", "--api-port", str(self.api_port), "--aws-port",
             str(self.aws_port), "--stripe-port", str(self.stripe_port), "--data-dir", str(self.data_dir)],
            cwd=ROOT, env=environment(), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"the stack exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            try:
                if self.request("GET", "/health")[0] == 200:
                    return self
            except OSError:
                pass
            assert time.monotonic() < deadline, f"the stack did not come up:\n{self.output()[-3000:]}"
            time.sleep(0.2)

    def output(self) -> str:
        return self.log_path.read_text()

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Stop the launcher with `sig` (not its workers: they end with it); its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def token(self, role: str, sub: str = "tester", order: str | None = None) -> str:
        args = [sys.executable, "-m", "infra.local", "token", "--role", role, "--sub", sub,
                "--data-dir", str(self.data_dir)] + (["--order", order] if order else [])
        return subprocess.run(args, cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()

    def request(self, method: str, path: str, body=None, token: str | None = None, raw: bytes | None = None,
                headers: dict | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {}),
            **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, payload = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, payload = err.code, err.read()
        try:
            return status, json.loads(payload or b"null")
        except ValueError:
            return status, payload       # a label's PDF


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def push_order(stack: Stack, store: str, order_id: str, payment: dict, email: str = "ana@example.com") -> None:
    delivered = iso(-timedelta(days=3))
    status, body = stack.request("PUT", f"/orders/{order_id}", {
        "customer": {"email": email, "name": "Ana", "phone": "+33600000000", "locale": "fr-FR"},
        "currency": "EUR", "placed_at": delivered, "delivered_at": delivered,
        "shipping_address": {"line1": "12 rue Oberkampf", "postcode": "75011", "city": "Paris", "country": "FR"},
        "payment": payment,
        "lines": [{"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 2, "unit_price": 2499, "final_sale": False},
                  {"sku": "JEANS-32", "name": "Jeans 32", "qty": 1, "unit_price": 7999, "final_sale": False}]}, store)
    assert status in (200, 201), body


def until(stack: Stack, return_id: str, token: str, statuses: set[str]) -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        status, ret = stack.request("GET", f"/returns/{return_id}", token=token)
        assert status == 200, ret
        if ret["status"] in statuses:
            return ret
        assert time.monotonic() < deadline, f"still {ret['status']}, expected {statuses}:\n{stack.output()[-3000:]}"
        time.sleep(0.3)


def carrier_event(stack: Stack, tracking_number: str, event: str) -> None:
    body = json.dumps({"tracking_number": tracking_number, "event": event,
                       "occurred_at": iso(-timedelta(minutes=1)), "location": "Paris"}).encode()
    signature = hmac.new(b"local-carrier-secret", body, hashlib.sha256).hexdigest()
    status, answer = stack.request("POST", "/carrier/events", raw=body,
                                   headers={"X-Carrier-Signature": f"sha256={signature}"})
    assert status == 202, answer
