"""What the browser tests do with a page and the local stack besides signing in (staff.py): how long
they wait for an answer, screenshots, polling the API, one customer per order."""
from __future__ import annotations

from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# What a round trip to the local stack may take on a busy 2-core machine (a cold Lambda worker behind the
# API, or one the API calls synchronously, takes seconds): a bound on waiting for a page's answer, not a
# timing assertion. Every `expect` waits this long, Playwright's 5 s default being shorter than a cold
# start under load (the finance page's ledger badge waited on a cold Settle function and timed out).
ANSWER = 30_000


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_until(fetch, predicate, what: str, timeout: float = 30.0):
    """helpers.wait_for, polling the local stack's HTTP API every 0.2 s."""
    from tests.workflow.helpers import wait_for

    return wait_for(fetch, predicate, timeout=timeout, what=what, interval=0.2)


def customer_email(order_id: str) -> str:
    """One customer per order: the stack is shared by every test, and a customer's 3rd return goes to review."""
    return f"{order_id.lower()}@example.com"


def fits(page) -> None:
    """Nothing clipped or scrolled sideways: the page and every table box are as wide as they show."""
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    for box in page.locator("section, .scroll").all():
        assert box.evaluate("b => b.scrollWidth <= b.clientWidth"), box.evaluate("b => b.outerHTML.slice(0, 80)")
