"""The return as the API shows it (api.md's GET /returns/{id})."""
from __future__ import annotations

from ..rules.policy import is_received
from ..rules.timeline import text
from ..store import returns
from ..store.models import ReturnModel, plain


SHIPMENT_FIELDS = ("tracking_number", "carrier", "tracking_url", "lines", "at")   # not who at the store sent it


def return_view(ret: ReturnModel, lang: str = "en") -> dict:
    """`lang` (en, fr) is the language of the timeline's sentences; `locale` is the customer's own."""
    inspected = {}
    for line in (plain(ret.inspection) or {}).get("items", []):
        slot = inspected.setdefault(line["sku"], {"received_qty": 0, "conditions": [], "refund_amount": 0})
        # A lost parcel is graded without being received: its lines show their grade, not a receipt.
        slot["received_qty"] += int(line["qty"]) if is_received(line["condition"]) else 0
        slot["conditions"].append(line["condition"])
        slot["refund_amount"] += int(line.get("refund_amount", 0))
    items = []
    for item in plain(ret.items):
        got = inspected.get(item["sku"])
        items.append({
            "sku": item["sku"], "name": item.get("name"), "qty": int(item["qty"]), "reason": item["reason"],
            "comment": item.get("comment"), "exchange_for": item.get("exchange_for"),
            "received_qty": got["received_qty"] if got else None,
            "condition": ",".join(dict.fromkeys(got["conditions"])) if got else None,
            "refund_amount": got["refund_amount"] if got else None,
            "keep_item": bool(item.get("keep_item")), "rule": item.get("rule"),
        })
    label = plain(ret.label)
    refund = plain(ret.refund)
    view = {
        "return_id": ret.return_id, "order_id": ret.order_id, "status": ret.status,
        "resolution": ret.resolution, "currency": ret.currency, "items": items,
        # Returns stored before policies were versioned were judged by the built-in defaults: version 1.
        "policy_version": int(ret.policy_version) if ret.policy_version is not None else 1,
        "quote": plain(ret.quote), "dropoff": plain(ret.dropoff), "deadline": ret.deadline,
        "label": ({"tracking_number": label["tracking_number"], "code": label["code"],
                   "url": f"/returns/{ret.return_id}/label"} if label else None),
        "refund": ({k: refund.get(k) for k in ("amount", "method", "status", "reference", "issued_at")}
                   if refund else None),
        "exchange_shipment": ({k: shipment.get(k) for k in SHIPMENT_FIELDS}
                              if (shipment := plain(ret.exchange_shipment)) else None),
        "created_at": ret.created_at, "locale": ret.locale,
        "timeline": [{**entry, "text": text(entry, ret.currency, lang)} for entry in returns.timeline_of(ret)],
    }
    exception = plain(ret.exception)
    if exception:
        # An ops agent's exception: why, by whom, and the eligibility rules it waived.
        view["exception"] = {k: exception.get(k) for k in ("reason", "by", "at", "waived")}
    withdrawal = plain(ret.withdrawal)
    if withdrawal:
        # Opened by a withdrawal notice (EU right of withdrawal): its refund is due by `refund_due_by`.
        view["withdrawal"] = {k: withdrawal.get(k) for k in ("withdrawal_id", "received_at", "refund_due_by")}
    resolution = plain(ret.dispute_resolution)
    if resolution:
        # Customer service's answer to the dispute, and its adjustment refund once paid (a second
        # ledger entry of the return, kind `adjustment`).
        view["dispute_resolution"] = {k: resolution.get(k) for k in (
            "decision", "note", "at", "refund_amount", "method", "status", "reference", "issued_at")}
    return view
