"""Ready-made replies: listed per language (the seeded set, as agents edited it), edited, and filled in
from one return's data in its customer's language (rules/ready_replies.py holds the texts)."""
from __future__ import annotations

from ..outbound.notifications.catalogue import locale_for
from ..outbound.notifications.messages import format_date
from ..rules import clock, ready_replies as rules
from ..rules.errors import NotFoundError, UnprocessableError
from ..rules.money import format_amount
from ..store import conversations as store

_STATUS = {
    "en": {"requested": "registered", "in_review": "being reviewed", "awaiting_dropoff": "waiting for drop-off",
           "in_transit": "on its way to us", "received": "received", "inspected": "inspected",
           "awaiting_approval": "waiting for approval", "refunding": "being refunded", "refunded": "refunded",
           "closed": "closed"},
    "fr": {"requested": "enregistré", "in_review": "en cours d’examen", "awaiting_dropoff": "en attente de dépôt",
           "in_transit": "en route vers nous", "received": "reçu", "inspected": "contrôlé",
           "awaiting_approval": "en attente de validation", "refunding": "en cours de remboursement",
           "refunded": "remboursé", "closed": "clos"},
}
_METHOD = {"en": {"store_credit": "store credit", "manual": "bank transfer"},
           "fr": {"store_credit": "avoir", "manual": "virement"}}
_ORIGINAL = {"en": "your original payment method", "fr": "votre moyen de paiement d’origine"}
_WHY = {
    "en": {"restocking_fee": "restocking fee", "return_shipping_fee": "return shipping",
           "grade": "{name}: received {condition}, refunded {refunded} of {paid}"},
    "fr": {"restocking_fee": "frais de remise en stock", "return_shipping_fee": "frais de retour",
           "grade": "{name} : reçu {condition}, remboursé {refunded} sur {paid}"},
}
_CONDITIONS = {"en": {"opened": "opened", "damaged": "damaged", "wrong_item": "not the item we sent",
                      "missing": "missing from the parcel"},
               "fr": {"opened": "ouvert", "damaged": "abîmé", "wrong_item": "article différent",
                      "missing": "absent du colis"}}


def listing(locale: str) -> list[dict]:
    loc = locale_for(locale)
    edited = {r.item: r for r in store.edited_replies(loc)}
    out = []
    for reply in rules.seeded(loc):
        mine = edited.pop(reply["reply_id"], None)
        out.append({**reply, "title": mine.title, "body": mine.body} if mine else reply)
    # Replies agents added under a new id come after the seeded ones, in id order.
    added = sorted(edited.values(), key=lambda r: r.item)
    out += [{"reply_id": r.item, "title": r.title, "body": r.body} for r in added]
    return out


def edit(reply_id: str, locale: str, title: str, body: str, by: str) -> dict:
    if locale not in rules.REPLY_LOCALES:
        raise UnprocessableError(f"locale is one of {', '.join(rules.REPLY_LOCALES)}", field="locale")
    reply = store.save_reply(locale, reply_id, title, body, by, clock.iso())
    return {"reply_id": reply.item, "title": reply.title, "body": reply.body, "locale": locale,
            "updated_by": reply.updated_by, "updated_at": reply.updated_at}


def text_of(reply_id: str, locale: str) -> str:
    for reply in listing(locale):
        if reply["reply_id"] == reply_id:
            return reply["body"]
    raise NotFoundError("no such ready-made reply", field="reply_id", code="reply_not_found")


def _explanation(view: dict, loc: str) -> tuple[str, int]:
    """The quote's deductions, one line each, and their total."""
    currency, quote, why = view["currency"], view.get("quote") or {}, _WHY[loc]
    lines, total = [], 0
    for fee in ("restocking_fee", "return_shipping_fee"):
        if quote.get(fee):
            lines.append(f"- {why[fee]}: -{format_amount(int(quote[fee]), currency, loc)}")
            total += int(quote[fee])
    for item in view.get("items") or []:
        condition = (item.get("condition") or "").split(",")[0]
        if condition in _CONDITIONS[loc] and item.get("refund_amount") is not None:
            paid = int(item.get("paid") or 0)
            total += max(0, paid - int(item["refund_amount"]))
            lines.append("- " + why["grade"].format(
                name=item.get("name") or item["sku"], condition=_CONDITIONS[loc][condition],
                refunded=format_amount(int(item["refund_amount"]), currency, loc),
                paid=format_amount(paid, currency, loc) if paid else "…"))
    return "\n".join(lines), total


def values_for(view: dict, customer: dict, agent_name: str = "") -> dict:
    """The placeholders' values for one return (its staff view) and its customer, in their language."""
    loc = locale_for(customer.get("locale") or view.get("locale"))
    currency = view.get("currency") or "EUR"
    quote = view.get("quote") or {}
    refund = view.get("refund") or {}
    explanation, deducted = _explanation(view, loc)
    method = refund.get("method") or view.get("resolution")
    return {
        "customer_name": customer.get("name") or "", "return_id": view.get("return_id") or view.get("claim_id"),
        "order_id": view.get("order_id"), "status": _STATUS[loc].get(view.get("status"), view.get("status")),
        "refund_amount": format_amount(int(refund.get("amount") or quote.get("refund_amount") or 0), currency, loc),
        "items_total": format_amount(int(quote.get("items_total") or 0), currency, loc),
        "deductions": format_amount(deducted, currency, loc),
        "quote_explanation": explanation,
        "deadline": format_date(view["deadline"], loc) if view.get("deadline") else "",
        "tracking_number": (view.get("label") or {}).get("tracking_number") or "",
        "refund_method": _METHOD[loc].get(method, _ORIGINAL[loc]),
        "agent_name": agent_name,
    }


def render(reply_id: str, view: dict, customer: dict, agent_name: str = "") -> str:
    loc = locale_for(customer.get("locale") or view.get("locale"))
    return rules.render(text_of(reply_id, loc), values_for(view, customer, agent_name))
