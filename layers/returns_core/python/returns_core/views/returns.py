"""The return as the API shows it (api.md's GET /returns/{id}): to staff whole, to its customer through
an allow-list (`customer_return_view`)."""
from __future__ import annotations

from ..rules.policy import is_received
from ..rules.timeline import text
from ..store import returns
from ..store.models import ReturnModel

SHIPMENT_FIELDS = ("tracking_number", "carrier", "tracking_url", "lines", "at")   # not who at the store sent it


def risk_of(ret: ReturnModel) -> dict:
    """The return's risk as staff lists show it: score and reasons (a return requested before scores: 0,
    none), and ops's verdict when one was given."""
    risk = {"score": int((ret.risk or {}).get("score") or 0), "reasons": list((ret.risk or {}).get("reasons") or [])}
    if ret.risk_verdict:
        risk["verdict"] = ret.risk_verdict.get("verdict")
    return risk


def return_view(ret: ReturnModel, lang: str = "en") -> dict:
    """`lang` (en, fr) is the language of the timeline's sentences; `locale` is the customer's own."""
    inspected = {}
    for line in (ret.inspection or {}).get("items", []):
        slot = inspected.setdefault(line["sku"], {"received_qty": 0, "conditions": [], "refund_amount": 0})
        # A lost parcel is graded without being received: its lines show their grade, not a receipt.
        slot["received_qty"] += int(line["qty"]) if is_received(line["condition"]) else 0
        slot["conditions"].append(line["condition"])
        slot["refund_amount"] += int(line.get("refund_amount", 0))
    items = []
    for item in ret.items:
        got = inspected.get(item["sku"])
        items.append({
            "sku": item["sku"], "name": item.get("name"), "qty": int(item["qty"]), "reason": item["reason"],
            "comment": item.get("comment"), "exchange_for": item.get("exchange_for"),
            "received_qty": got["received_qty"] if got else None,
            "condition": ",".join(dict.fromkeys(got["conditions"])) if got else None,
            "refund_amount": got["refund_amount"] if got else None,
            "keep_item": bool(item.get("keep_item")), "rule": item.get("rule"),
        })
    label = ret.label
    refund = ret.refund
    view = {
        "return_id": ret.return_id, "order_id": ret.order_id, "status": ret.status,
        "resolution": ret.resolution, "currency": ret.currency, "items": items,
        # Returns stored before policies were versioned were judged by the built-in defaults: version 1.
        "policy_version": int(ret.policy_version) if ret.policy_version is not None else 1,
        "quote": ret.quote, "dropoff": ret.dropoff, "deadline": ret.deadline,
        "label": ({"tracking_number": label["tracking_number"], "code": label["code"],
                   "url": f"/returns/{ret.return_id}/label"} if label else None),
        "refund": ({k: refund.get(k) for k in ("amount", "method", "status", "reference", "issued_at")}
                   if refund else None),
        "exchange_shipment": ({k: shipment.get(k) for k in SHIPMENT_FIELDS}
                              if (shipment := ret.exchange_shipment) else None),
        "created_at": ret.created_at, "locale": ret.locale,
        "timeline": [{**entry, "text": text(entry, ret.currency, lang)} for entry in returns.timeline_of(ret)],
    }
    # Staff only (not in CUSTOMER_FIELDS): the risk score and its reasons, ops's verdict, when the refund is
    # paid and why, and the receipt of a parcel whose refund was paid before it arrived.
    view["risk"] = risk_of(ret)
    if ret.risk_verdict:
        view["risk_verdict"] = {k: ret.risk_verdict.get(k) for k in ("verdict", "note", "by", "at")}
    if ret.refund_timing:
        view["refund_timing"] = dict(ret.refund_timing)
    if ret.parcel_received_at:
        view["parcel_received_at"] = ret.parcel_received_at
    exception = ret.exception
    if exception:
        # An ops agent's exception: why, by whom, and the eligibility rules it waived.
        view["exception"] = {k: exception.get(k) for k in ("reason", "by", "at", "waived")}
    withdrawal = ret.withdrawal
    if withdrawal:
        # Opened by a withdrawal notice (EU right of withdrawal): its refund is due by `refund_due_by`.
        view["withdrawal"] = {k: withdrawal.get(k) for k in ("withdrawal_id", "received_at", "refund_due_by")}
    resolution = ret.dispute_resolution
    if resolution:
        # Customer service's answer to the dispute, and its adjustment refund once paid (a second
        # ledger entry of the return, kind `adjustment`).
        view["dispute_resolution"] = {k: resolution.get(k) for k in (
            "decision", "note", "at", "refund_amount", "method", "status", "reference", "issued_at")}
    return view


# --- what the customer sees -------------------------------------------------------------------
# An allow-list, not a deny-list: a field added to the staff view (an error text, a stack trace, a
# staff member's name, a note) reaches the customer only once it is named here. Customers see causes
# (a sentence in their language), never internals.

CUSTOMER_FIELDS = ("return_id", "order_id", "status", "resolution", "currency", "items", "policy_version",
                   "quote", "dropoff", "deadline", "label", "refund", "exchange_shipment", "created_at", "locale",
                   "timeline", "withdrawal", "dispute_resolution", "exception")
CUSTOMER_NESTED = {
    "items": ("sku", "name", "qty", "reason", "comment", "exchange_for", "received_qty", "condition",
              "refund_amount", "keep_item", "rule"),
    "quote": ("items_total", "restocking_fee", "return_shipping_fee", "bonus", "refund_amount", "delivery_refund"),
    "dropoff": ("method", "relay_point", "address", "carrier"),
    "label": ("tracking_number", "code", "url", "qr_url"),
    "refund": ("amount", "method", "status", "reference", "issued_at"),
    "exchange_shipment": SHIPMENT_FIELDS,
    "withdrawal": ("withdrawal_id", "received_at", "refund_due_by"),
    # Customer service's answer is written to the customer; who answered stays with staff.
    "dispute_resolution": ("decision", "note", "at", "refund_amount", "method", "status", "reference", "issued_at"),
    # That an exception was made and what it waived; why and by whom are customer service's notes.
    "exception": ("at", "waived"),
}
_CARRIER = ("event", "occurred_at", "location")   # what the carrier's tracking says, as the carrier's page would
# What of a timeline entry's `detail` the customer sees, by entry type; any other type shows no detail
# (its `text` says what happened). A failed refund's error, a label failure's carrier answer, an
# inspector's note: none is named here.
CUSTOMER_DETAIL = {
    # The customer's own words and choices, shown back to them.
    "return.requested": ("items", "resolution"), "return.cancelled": ("reason",),
    "return.confirmed": ("satisfied", "comment", "score"), "return.disputed": ("message",),
    "refund.issued": ("amount",), "dispute.adjustment_paid": ("amount",), "claim.refunded": ("amount",),
    "refund.paid_early": ("on", "amount"),
    "exchange.shipped": ("tracking_number", "carrier", "tracking_url"),
    "message.sent": ("channel", "template"),   # which message: the one in the customer's mailbox
    "message.undelivered": ("channel",),       # why (a bounce, their own complaint) stays with staff
    "withdrawal.received": ("withdrawal_id", "received_at", "refund_due_by", "lines"),
    "withdrawal.refund_due": ("refund_due_by",),
    "carrier.dropped_off": _CARRIER, "carrier.in_transit": _CARRIER, "carrier.delivered": _CARRIER,
    "carrier.lost": _CARRIER,
}
# Entries that are staff's business only: ops's verdict on the return, and an inspection found worth less
# than the refund already paid (nothing is taken back; ops decides). The customer's timeline leaves them out.
STAFF_ONLY_TYPES = frozenset({"risk.verdict", "inspection.below_refund"})
# Who did it, as the customer is told: themselves, the carrier, our systems, or our team (never a name).
_PUBLIC_ACTORS = ("system", "carrier")


def public_actor(actor: object) -> str:
    text_actor = str(actor or "")
    if text_actor.startswith(("customer:", "link:")):
        return "customer"
    return text_actor if text_actor in _PUBLIC_ACTORS else "staff"


def _known_message(name: object) -> bool:
    """A sent message's template as we record it: one of ours, bare (an SMS kind) or as SES names it
    (`<stack>-<template>-<locale>`). Only such a name is shown back; any other text is nobody's to see."""
    from ..outbound.notifications.catalogue import LOCALES, TEMPLATES
    from ..outbound.notifications.messages import SMS_KINDS

    text = str(name or "")
    if text in TEMPLATES or text in SMS_KINDS:
        return True
    return any(text.endswith(f"-{template}-{locale}") for template in TEMPLATES for locale in LOCALES)


def customer_entry(entry: dict) -> dict:
    """One timeline entry as its customer sees it: when, what, who (a kind, never a name), the sentence,
    and only the detail CUSTOMER_DETAIL names for its type."""
    detail, allowed = entry.get("detail"), CUSTOMER_DETAIL.get(entry.get("type") or "", ())
    shown = {k: detail[k] for k in allowed if k in detail} if isinstance(detail, dict) else {}
    if "template" in shown and not _known_message(shown["template"]):
        del shown["template"]   # a value we did not write (an edited record): shown as nothing
    out = {"at": entry.get("at"), "type": entry.get("type"), "actor": public_actor(entry.get("actor")),
           "detail": shown or None}
    for key in ("text", "claim_id"):
        if key in entry:
            out[key] = entry[key]
    return out


def for_customer(view: dict) -> dict:
    """A staff view (return_view) cut down to what its customer may see."""
    out = {}
    for key in CUSTOMER_FIELDS:
        if key not in view:
            continue
        value = view[key]
        if key == "timeline":
            value = [customer_entry(e) for e in value or [] if e.get("type") not in STAFF_ONLY_TYPES]
        elif key in CUSTOMER_NESTED and isinstance(value, dict):
            value = {k: value[k] for k in CUSTOMER_NESTED[key] if k in value}
        elif key in CUSTOMER_NESTED and isinstance(value, list):
            value = [{k: v[k] for k in CUSTOMER_NESTED[key] if k in v} for v in value]
        out[key] = value
    return out


def customer_return_view(ret: ReturnModel, lang: str = "en") -> dict:
    return for_customer(return_view(ret, lang))


def return_view_for(role: str, ret: ReturnModel, lang: str = "en") -> dict:
    """The view the caller's role may see: the customer's allow-list, or staff's whole view."""
    return customer_return_view(ret, lang) if role == "customer" else return_view(ret, lang)
