"""A real localstripe server for tests: started on a free loopback port as a
subprocess, always killed afterwards: the `localstripe_url` session fixture
(tests/conftest.py) or, outside pytest, `with running_localstripe() as url: ...`.

localstripe facts that matter here: it ignores Idempotency-Key (the same key
twice makes two refunds) and accepts refunds above the captured amount, so a
test against it really sees a double payment. Without --from-scratch it
reloads /tmp/localstripe.pickle, the state of whichever localstripe last ran
on this machine; it still writes that file on every change, so concurrent
servers each get --from-scratch and never read it.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

from tests.ports import free_port

API_KEY = "sk_test_local"
START_TIMEOUT_SECONDS = 15.0


def _answers(url: str) -> bool:
    req = urllib.request.Request(f"{url}/v1/payment_intents?limit=1", headers={"Authorization": f"Bearer {API_KEY}"})
    try:
        with urllib.request.urlopen(req, timeout=1) as resp:
            return resp.status == 200
    except urllib.error.HTTPError:
        return True  # it is up, whatever it thinks of the request
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=3)


def _start_once(port: int, log) -> subprocess.Popen | None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        cwd=tempfile.gettempdir(), env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return None  # lost the port to someone else, most likely
            if _answers(url):
                return proc
            time.sleep(0.05)
    except BaseException:
        _stop(proc)
        raise
    _stop(proc)
    raise RuntimeError(f"localstripe did not answer on {url} within {START_TIMEOUT_SECONDS}s")


@contextlib.contextmanager
def running_localstripe(attempts: int = 3) -> Iterator[str]:
    """Start localstripe on a free port, yield its base URL, kill it on exit."""
    with tempfile.TemporaryFile(mode="w+b") as log:
        proc = None
        for _ in range(attempts):
            port = free_port()
            proc = _start_once(port, log)
            if proc is not None:
                break
        if proc is None:
            log.seek(0)
            raise RuntimeError("localstripe would not start:\n" + log.read().decode(errors="replace")[-2000:])
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(proc)


def stripe_client(base_url: str):
    """A StripeClient for test setup and inspection (not the code under test)."""
    import stripe

    return stripe.StripeClient(API_KEY, base_addresses={"api": base_url}, max_network_retries=0,
                               http_client=stripe.RequestsClient(timeout=5))


def create_captured_payment_intent(base_url: str, amount: int = 12997, currency: str = "EUR") -> str:
    """A confirmed, captured PaymentIntent paid by the test visa card; its id."""
    pi = stripe_client(base_url).v1.payment_intents.create(params={
        "amount": amount, "currency": currency.lower(), "payment_method": "pm_card_visa", "confirm": True,
    })
    assert pi.status == "succeeded", pi.status
    return pi.id


def list_refunds(base_url: str, payment_intent: str) -> list[dict]:
    """Every refund localstripe holds for the PaymentIntent, as plain dicts."""
    page = stripe_client(base_url).v1.refunds.list(params={"payment_intent": payment_intent, "limit": 100})
    return [r.to_dict() for r in page.auto_paging_iter()]
