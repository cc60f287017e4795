"""Small helpers for driving lifecycles in tests."""
from __future__ import annotations

import time
from datetime import timedelta

from returns_core.rules import clock


def order_payload(email: str = "ana@example.com", locale: str = "fr-FR", provider: str = "stripe",
                  captured: int | None = None, days_since_delivery: int = 3, lines: list | None = None) -> dict:
    """A paid order; `captured` defaults to the lines' list total (no discount: a return refunds what
    was paid for its units, so a capture below the list total would read as a discount)."""
    delivered = clock.now() - timedelta(days=days_since_delivery)
    lines = lines or [
        {"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 2, "unit_price": 2499, "final_sale": False},
        {"sku": "JEANS-32", "name": "Jeans 32", "qty": 1, "unit_price": 7999, "final_sale": False},
        {"sku": "SOCKS", "name": "Socks", "qty": 1, "unit_price": 999, "final_sale": True},
    ]
    if captured is None:
        captured = sum(int(line["qty"]) * int(line["unit_price"]) for line in lines)
    return {
        "customer": {"email": email, "name": "Ana Lefèvre", "phone": "+33600000000", "locale": locale},
        "currency": "EUR", "placed_at": clock.iso(delivered - timedelta(days=2)), "delivered_at": clock.iso(delivered),
        "shipping_address": {"line1": "12 rue Oberkampf", "postcode": "75011", "city": "Paris", "country": "FR"},
        "payment": {"provider": provider, "reference": "pi_test_1", "captured_amount": captured},
        "lines": lines,
    }


def wait_for(fetch, predicate, timeout: float = 30.0, what: str = "condition", interval: float = 0.02):
    """Poll `fetch()` until `predicate(value)`; the workflow runs in moto's threads."""
    deadline = time.monotonic() + timeout
    value = fetch()
    while not predicate(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last value: {value!r}")
        time.sleep(interval)
        value = fetch()
    return value


def effects_settled() -> None:
    """Wait until what follows the API's moves has run: the StatusEffects function's asynchronous
    invocations (outbound/deferred_effects.py) that Lambda's emulated queue accepted so far."""
    from infra.local import dispatch

    dispatch.drain()


def states_entered(events: list[dict]) -> list[str]:
    """The states an execution entered, in order, from its history (each one a billed transition)."""
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def history_of(stack, return_id: str) -> list[dict]:
    """The history of the return's execution (named after the return)."""
    import boto3

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + return_id
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def parked_wait(return_id: str) -> tuple[str | None, str | None]:
    """(the workflow wait the return is parked in, its task token), as stored; (None, None) while moto
    reads the item another thread writes."""
    from returns_core.store import returns

    try:
        ret = returns.get(return_id)
    except RuntimeError:
        return None, None
    return ret.waiting_for, ret.task_token


from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
