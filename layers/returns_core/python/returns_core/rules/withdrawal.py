"""The EU right of withdrawal (Directive 2011/83/EU, Art. 9-16 and Art. 11a as added by 2023/2673).

Pure rules: who may withdraw, for how long, which lines the statutory right covers, what the refund
owes and by when. The usecase (usecases/withdrawals.py) reads the order and writes the return.

What the law covers here, kept simple and explicit:
- the right holds for orders shipped to an EU/EEA country, for 14 days from delivery, or for the
  store's own longer window when its policy gives one (`window_days` of the line's terms);
- it is statutory, so the store's commercial refusals do not apply: a `final_sale` flag or a
  resolution list without `refund` does not take it away. A line the store's policy marks
  `returnable: false` stays out: that is how a store declares the Art. 16 exceptions (sealed hygiene
  goods unsealed, made to measure, perishable...), and its message says why;
- no reason is asked: each item's reason is `withdrawal`, which carries no return-shipping fee, and no
  restocking fee is charged (Art. 13, 14: only diminished value after inspection may be deducted);
- the refund is due 14 days after the notice; when every line of the order is withdrawn it includes
  the standard delivery paid (`shipping_paid`, Art. 13(1)).
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from . import waits
from .policy import Policy
from .shapes import Withdrawal

REASON = "withdrawal"
PERIOD_DAYS = 14             # Art. 9(1): 14 days from the day the goods are delivered
REFUND_DAYS = 14             # Art. 13(1): refund no later than 14 days after the notice
ALERT_LEAD_DAYS = 3          # ops is alerted this long before a refund deadline would be missed

# The EU's 27 and the EEA's three (the Directive applies in the EEA), ISO 3166-1 alpha-2.
EU_EEA = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
    "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
})


def applies_to(country: str | None) -> bool:
    """The shipping country is one where the Directive gives the consumer this right."""
    return (country or "").strip().upper() in EU_EEA


def period_days(terms: Policy) -> int:
    """The withdrawal period of a line: 14 days, or the store's longer window."""
    return max(PERIOD_DAYS, int(terms.window_days))


def statutory_terms(terms: Policy) -> Policy:
    """The line's terms as the statutory right leaves them: the longer of the two windows, a refund,
    no restocking fee, no return-shipping fee, and the parcel always comes back (no keep-item)."""
    return replace(terms, window_days=period_days(terms), restocking_fee_percent=0, shipping_fee_reasons=(),
                   keep_item=False, resolutions=tuple(dict.fromkeys(("refund", *terms.resolutions))))


def statutory_line(line: dict[str, Any]) -> dict[str, Any]:
    """An order line as the right sees it: a store's `final_sale` is a commercial term, not a legal exception."""
    return {**line, "final_sale": False}


def refund_due_by(received_at: datetime, refund_seconds: int = REFUND_DAYS * 86400) -> datetime:
    """When the refund must have been paid: `received_at` + 14 days (tests may shorten it; the demo and the
    local stack never do: they shorten the workflow's waits only, see seconds_left)."""
    return received_at + timedelta(seconds=refund_seconds)


def whole_order(order_lines: list[dict[str, Any]], reserved_before: dict[str, int],
                selection: list[dict[str, Any]]) -> bool:
    """Every unit of the order is withdrawn by this selection (nothing of it was held or kept before):
    then the standard delivery is refunded too."""
    asked = {i["sku"]: int(i["qty"]) for i in selection}
    return all(int(reserved_before.get(line["sku"], 0)) == 0 and asked.get(line["sku"], 0) == int(line["qty"])
               for line in order_lines)


def withdrawal_id(order_id: str, selection: list[dict[str, Any]]) -> str:
    """The same order and the same lines give the same id: a second confirm finds the first
    (the return is opened under a condition that this id is new on the order)."""
    canonical = ";".join(f"{i['sku']}={int(i['qty'])}" for i in sorted(selection, key=lambda i: i["sku"]))
    return "wd_" + hashlib.sha256(f"{order_id}|{canonical}".encode()).hexdigest()[:24]


def on_time(refund_due_by: str, refunded_at: str | None, now: str) -> bool | None:
    """Paid by the deadline: True; paid late, or unpaid past it: False; unpaid and not yet due: None.
    ISO 8601 UTC strings of the same format compare as instants."""
    if refunded_at:
        return refunded_at <= refund_due_by
    return False if now > refund_due_by else None


def seconds_left(received_at: datetime, refund_due_by: datetime, now: datetime, alert_lead_seconds: int,
                 wait_scale: int = 1) -> dict[str, int]:
    """The workflow's clock for a withdrawal's refund: seconds until ops is alerted and until the
    deadline (0 once passed). Waits take at least one second, so a passed moment reads as 0 here and
    the workflow's Choice acts at once.

    `wait_scale` > 1 (the demo, the tests): the workflow's deadline comes as much sooner after the
    notice as every other wait (waits.scaled of the notice's period, and of the alert's lead), so it
    is reached, not chased; `refund_due_by`, what the customer and finance are shown, stays the law's."""
    due_at = refund_due_by
    if wait_scale > 1:
        period = int((refund_due_by - received_at).total_seconds())
        due_at = received_at + timedelta(seconds=waits.scaled(period, wait_scale))
    due = max(0, int((due_at - now).total_seconds()))
    return {"alert_in": max(0, due - waits.scaled(alert_lead_seconds, wait_scale)), "due_in": due}


def with_delivery_refund(quote: dict[str, Any], delivery_refund: int) -> dict[str, Any]:
    """A quote (policy.Quote.to_api()) of a withdrawal's return: the standard delivery refunded on top
    (0 for a partial withdrawal). Applied to the request's quote and to every final quote after it."""
    return {**quote, "delivery_refund": int(delivery_refund),
            "refund_amount": int(quote["refund_amount"]) + int(delivery_refund)}


def final_quote(quote: dict[str, Any], stored: Withdrawal | None) -> dict[str, Any]:
    """A return's final quote (inspection, lost parcel, deadline) with what its withdrawal adds, if any."""
    return with_delivery_refund(quote, int(stored.get("delivery_refund") or 0)) if stored else quote
