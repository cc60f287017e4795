"""Build the SES ``TemplateData`` of every customer message.

Each builder takes plain dicts — the return as ``GET /returns/{id}`` shows it,
the order's customer ``{name, email, locale, phone}`` — plus the extras that
message needs, and returns a dict in which every amount and date is already
formatted for the customer's locale and every variable its template reads is
present. Values printed by a template are strings (moto's SES refuses anything
else); ``{{#if}}`` flags are booleans. A builder raises ``ValueError`` rather
than send a message with a hole in it.

Dates are shown in UTC: the deadlines the workflow sets are UTC instants.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from ...rules.money import format_amount
from .catalogue import locale_for

_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet",
           "août", "septembre", "octobre", "novembre", "décembre"),
}
_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}
_DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CONDITIONS = {
    "en": {"resellable": "as new", "opened": "opened", "damaged": "damaged",
           "wrong_item": "not the item we sent", "missing": "missing from the parcel"},
    "fr": {"resellable": "comme neuf", "opened": "ouvert", "damaged": "abîmé",
           "wrong_item": "article différent de celui envoyé", "missing": "absent du colis"},
}
_YOUR_ADDRESS = {"en": "your delivery address", "fr": "à votre adresse de livraison"}

Return = Mapping[str, Any]
Customer = Mapping[str, Any]


# ---------------------------------------------------------------- formatting helpers

def format_date(value: str | date | datetime, locale: str | None) -> str:
    """``22 November 2026`` / ``22 novembre 2026`` (``1er`` on the first, in French)."""
    loc = locale_for(locale)
    day = _to_date(value)
    number = "1er" if loc == "fr" and day.day == 1 else str(day.day)
    return f"{number} {_MONTHS[loc][day.month - 1]} {day.year}"


def _to_date(value: str | date | datetime) -> date:
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        return _to_date(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    raise ValueError(f"not a date: {value!r}")


def _money(amount: Any, currency: str, loc: str) -> str:
    if amount is None:
        amount = 0
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError(f"amounts are integer minor units, not {type(amount).__name__}")
    return format_amount(amount, currency, loc)


def _deduction(amount: Any, currency: str, loc: str) -> str:
    """A fee shown as what it takes off the refund: ``-€2.00`` (``€0.00`` when none)."""
    return _money(-abs(amount or 0), currency, loc)


def _addition(amount: Any, currency: str, loc: str) -> str:
    text = _money(amount, currency, loc)
    return f"+{text}" if (amount or 0) > 0 else text


def _currency(ret: Return) -> str:
    currency = ret.get("currency")
    if not currency:
        raise ValueError("the return has no currency")
    return str(currency)


def _address(address: Any) -> str:
    if isinstance(address, str):
        return address.strip()
    if not isinstance(address, Mapping):
        return ""
    street = ", ".join(str(address[k]).strip() for k in ("line1", "line2", "address") if address.get(k))
    town = " ".join(str(address[k]).strip() for k in ("postcode", "city") if address.get(k))
    return ", ".join(part for part in (street, town) if part)


def _day_name(day: Any, loc: str) -> str:
    key = str(day).strip().lower()[:3]
    return _DAYS[loc][_DAY_KEYS.index(key)] if key in _DAY_KEYS else str(day)


def _hours_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_hours_value(v) for v in value)
    if isinstance(value, Mapping):
        if value.get("hours"):
            return _hours_value(value["hours"])
        if value.get("open") and value.get("close"):
            return f"{value['open']}–{value['close']}"
    return str(value)


def opening_hours_lines(hours: Any, locale: str | None) -> list[dict[str, str]]:
    """Relay opening hours, whatever shape the carrier gives, as ``[{"line": ...}]``."""
    loc = locale_for(locale)
    if not hours:
        return []
    if isinstance(hours, str):
        lines = [part.strip() for part in hours.replace(";", "\n").splitlines() if part.strip()]
    elif isinstance(hours, Mapping):
        lines = [f"{_day_name(day, loc)}{' ' if loc == 'fr' else ''}: {_hours_value(v)}" for day, v in hours.items()]
    else:
        lines = []
        for entry in hours:
            if isinstance(entry, Mapping) and (entry.get("day") or entry.get("days")):
                day = entry.get("day") or entry.get("days")
                lines.append(f"{_day_name(day, loc)}{' ' if loc == 'fr' else ''}: {_hours_value(entry)}")
            else:
                lines.append(_hours_value(entry))
    return [{"line": line} for line in lines]


def _item_name(item: Mapping[str, Any], names: Mapping[str, str] | None) -> str:
    sku = str(item.get("sku", ""))
    return str((names or {}).get(sku) or item.get("name") or sku)


def _items(items: Sequence[Mapping[str, Any]], names: Mapping[str, str] | None, *,
           received: bool = False) -> list[dict[str, str]]:
    out = []
    for item in items:
        qty = item.get("received_qty") if received and item.get("received_qty") is not None else item.get("qty")
        out.append({"sku": str(item.get("sku", "")), "name": _item_name(item, names), "qty": str(qty or 0)})
    return out


def _label(ret: Return) -> Mapping[str, Any]:
    return ret.get("label") or {}


def _base(ret: Return, customer: Customer, portal_url: str, store_name: str) -> dict[str, Any]:
    return {
        "customer_name": str(customer.get("name") or "").strip(),
        "return_id": str(ret.get("return_id") or ""),
        "order_id": str(ret.get("order_id") or ""),
        "portal_url": portal_url or "",
        "store_name": store_name or "",
    }


def _dropoff(ret: Return, loc: str, relay_point: Mapping[str, Any] | None, shipping_address: Any) -> dict[str, Any]:
    dropoff = ret.get("dropoff") or {}
    is_relay = dropoff.get("method", "relay_point" if relay_point else "letterbox") == "relay_point"
    data: dict[str, Any] = {"is_relay_point": is_relay, "relay_name": "", "relay_address": "",
                            "relay_hours": [], "letterbox_address": ""}
    if is_relay:
        relay = relay_point or dropoff.get("relay_point") or (dropoff if dropoff.get("name") else None)
        if not relay or not relay.get("name"):
            raise ValueError("a relay-point return needs the relay point (name, address, opening hours)")
        data["relay_name"] = str(relay["name"])
        data["relay_address"] = _address(relay)
        data["relay_hours"] = opening_hours_lines(relay.get("opening_hours"), loc)
    else:
        data["letterbox_address"] = _address(dropoff.get("address") or shipping_address) or _YOUR_ADDRESS[loc]
    return data


def _deadline(ret: Return, loc: str) -> str:
    if not ret.get("deadline"):
        raise ValueError("the return has no drop-off deadline")
    return format_date(ret["deadline"], loc)


def _label_url(ret: Return, label_url: str | None) -> str:
    url = label_url or _label(ret).get("url")
    if not url:
        raise ValueError("no label URL: pass label_url or set return.label.url")
    return str(url)


# ---------------------------------------------------------------- one builder per template

def return_requested(ret: Return, customer: Customer, *, label_url: str | None = None,
                     relay_point: Mapping[str, Any] | None = None, shipping_address: Any = None,
                     product_names: Mapping[str, str] | None = None,
                     portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    loc = locale_for(customer.get("locale"))
    return {
        **_base(ret, customer, portal_url, store_name),
        "label_url": _label_url(ret, label_url),
        "tracking_number": str(_label(ret).get("tracking_number") or ""),
        "deadline": _deadline(ret, loc),
        "items": _items(ret.get("items") or [], product_names),
        **_dropoff(ret, loc, relay_point, shipping_address),
    }


def dropoff_reminder(ret: Return, customer: Customer, *, label_url: str | None = None,
                     relay_point: Mapping[str, Any] | None = None, shipping_address: Any = None,
                     portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    loc = locale_for(customer.get("locale"))
    data = {
        **_base(ret, customer, portal_url, store_name),
        "label_url": _label_url(ret, label_url),
        "deadline": _deadline(ret, loc),
        **_dropoff(ret, loc, relay_point, shipping_address),
    }
    del data["relay_hours"]
    return data


def return_expired(ret: Return, customer: Customer, *, portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    loc = locale_for(customer.get("locale"))
    return {**_base(ret, customer, portal_url, store_name), "deadline": _deadline(ret, loc)}


def parcel_received(ret: Return, customer: Customer, *, received_at: str | date | datetime | None = None,
                    product_names: Mapping[str, str] | None = None,
                    portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    loc = locale_for(customer.get("locale"))
    if received_at is None:
        received_at = next((e.get("at") for e in reversed(ret.get("timeline") or [])
                            if e.get("type") in ("received", "parcel_received", "scanned") and e.get("at")),
                           None) or datetime.now(UTC)
    received = any(item.get("received_qty") is not None for item in ret.get("items") or [])
    return {
        **_base(ret, customer, portal_url, store_name),
        "received_date": format_date(received_at, loc),
        "items": _items(ret.get("items") or [], product_names, received=received),
    }


def inspection_result(ret: Return, customer: Customer, *, product_names: Mapping[str, str] | None = None,
                      portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    loc = locale_for(customer.get("locale"))
    currency = _currency(ret)
    quote = ret.get("quote")
    if not quote:
        raise ValueError("the return has no quote yet: inspect it first")
    conditions = _CONDITIONS[loc]
    items = []
    for item in ret.get("items") or []:
        qty = item.get("received_qty") if item.get("received_qty") is not None else item.get("qty")
        condition = item.get("condition") or ""
        items.append({
            "sku": str(item.get("sku", "")),
            "name": _item_name(item, product_names),
            "qty": str(qty or 0),
            "condition": conditions.get(condition, condition.replace("_", " ")) or "—",
            "refund_amount": _money(item.get("refund_amount"), currency, loc),
        })
    return {
        **_base(ret, customer, portal_url, store_name),
        "items": items,
        "items_total": _money(quote.get("items_total"), currency, loc),
        "restocking_fee": _deduction(quote.get("restocking_fee"), currency, loc),
        "return_shipping_fee": _deduction(quote.get("return_shipping_fee"), currency, loc),
        "bonus": _addition(quote.get("bonus"), currency, loc),
        "total": _money(quote.get("refund_amount"), currency, loc),
        "needs_approval": ret.get("status") == "awaiting_approval",
    }


def refund_method(ret: Return) -> str:
    """``original_payment``, ``store_credit`` or ``manual``, whatever the provider was called."""
    method = str((ret.get("refund") or {}).get("method") or ret.get("resolution") or "").lower()
    if method == "store_credit":
        return "store_credit"
    if method == "manual":
        return "manual"
    return "original_payment"


def _paid_back(amount: Any) -> None:
    """A refund message announces money paid back; with nothing paid back there is nothing to announce
    (rules/effects.announce keeps such messages from being sent; this refuses to build one anyway)."""
    if isinstance(amount, int) and not isinstance(amount, bool) and amount <= 0:
        raise ValueError("nothing was paid back: a refund message needs an amount above zero")


def refund_issued(ret: Return, customer: Customer, *, portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    loc = locale_for(customer.get("locale"))
    refund = ret.get("refund") or {}
    if refund.get("amount") is None:
        raise ValueError("the return has no refund yet")
    _paid_back(refund["amount"])
    method = refund_method(ret)
    return {
        **_base(ret, customer, portal_url, store_name),
        "refund_amount": _money(refund["amount"], _currency(ret), loc),
        "refund_method": method,
        "is_original_payment": method == "original_payment",
        "is_store_credit": method == "store_credit",
        "is_manual": method == "manual",
        "refund_reference": str(refund.get("reference") or ret.get("return_id") or ""),
        # A returnless refund: the customer keeps every item (the policy's keep_item).
        "keep_item": bool(ret.get("items")) and all(bool(i.get("keep_item")) for i in ret.get("items") or []),
    }


def review_outcome(ret: Return, customer: Customer, *, approved: bool | None = None, note: str = "",
                   portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    if approved is None:
        approved = ret.get("status") != "rejected"
    return {**_base(ret, customer, portal_url, store_name), "approved": bool(approved), "note": (note or "").strip()}


def dispute_opened(ret: Return, customer: Customer, *, message: str = "",
                   portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    return {**_base(ret, customer, portal_url, store_name), "customer_message": (message or "").strip()}


def followup(ret: Return, customer: Customer, *, confirm_url: str | None = None, dispute_url: str | None = None,
             portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    confirm_url = confirm_url or portal_url
    dispute_url = dispute_url or portal_url
    if not (confirm_url and dispute_url):
        raise ValueError("the follow-up needs confirm_url and dispute_url (or portal_url)")
    return {**_base(ret, customer, portal_url, store_name), "confirm_url": confirm_url, "dispute_url": dispute_url}


def return_closed(ret: Return, customer: Customer, *, portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    return _base(ret, customer, portal_url, store_name)


def exchange_shipping(ret: Return, customer: Customer, *, tracking_number: str, tracking_url: str = "",
                      items: Sequence[Mapping[str, Any]] | None = None,
                      product_names: Mapping[str, str] | None = None,
                      portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    if not tracking_number:
        raise ValueError("the replacement parcel needs a tracking number")
    return {
        **_base(ret, customer, portal_url, store_name),
        "items": _items(items if items is not None else ret.get("items") or [], product_names),
        "tracking_number": str(tracking_number),
        "tracking_url": tracking_url or "",
    }


def parcel_lost(ret: Return, customer: Customer, *, portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    loc = locale_for(customer.get("locale"))
    amount = (ret.get("refund") or {}).get("amount")
    if amount is None:
        amount = (ret.get("quote") or {}).get("refund_amount")
    exchange = ret.get("resolution") == "exchange"
    return {
        **_base(ret, customer, portal_url, store_name),
        "tracking_number": str(_label(ret).get("tracking_number") or ""),
        # An exchange is settled by its replacement: the customer hears of that, not of a refund
        # (flags, not nested {{#if}}: moto's SES gets those wrong).
        "is_exchange": exchange,
        "is_refund": not exchange,
        "exchange_refund": exchange and bool(amount),
        "refunds_amount": not exchange and bool(amount),
        "refunds_items": not exchange and not amount,
        "has_amount": bool(amount),
        "refund_amount": _money(amount, _currency(ret), loc) if amount else "",
    }


def _days(count: int, loc: str) -> str:
    unit = ("jour" if count == 1 else "jours") if loc == "fr" else ("day" if count == 1 else "days")
    return f"{count}\u00a0{unit}" if loc == "fr" else f"{count} {unit}"


def dispute_resolved(ret: Return, customer: Customer, *, decision: str = "", note: str = "",
                     adjustment_amount: int | None = None, closes_after_days: int | None = None,
                     confirm_url: str | None = None, portal_url: str = "",
                     store_name: str = "") -> dict[str, Any]:
    """Customer service's answer to a dispute: upheld (maybe with an adjustment refund) or rejected.
    Without `decision`, the return's own `dispute_resolution` says it.

    Also the last word of the case (issue 20: no second "is everything all right?" email): how to say all
    is well in one click, where to write if it is not, and that the case closes on its own after
    `closes_after_days` (the workflow's dispute follow-up delay) otherwise."""
    confirm_url = confirm_url or portal_url
    if not (confirm_url and portal_url) or not closes_after_days or closes_after_days < 1:
        raise ValueError("a dispute's resolution needs confirm_url, portal_url and closes_after_days")
    given = ret.get("dispute_resolution") or {}
    decision = decision or given.get("decision") or ""
    note = note or given.get("note") or ""
    if adjustment_amount is None:
        adjustment_amount = given.get("refund_amount")
    if decision not in ("uphold", "reject"):
        raise ValueError("a dispute's resolution is uphold or reject")
    loc = locale_for(customer.get("locale"))
    return {**_base(ret, customer, portal_url, store_name), "upheld": decision == "uphold",
            "rejected": decision == "reject", "note": (note or "").strip(),
            "has_adjustment": bool(adjustment_amount),
            "adjustment_amount": _money(adjustment_amount, _currency(ret), loc) if adjustment_amount else "",
            "confirm_url": confirm_url, "closes_after": _days(int(closes_after_days), loc)}


def dispute_followup(ret: Return, customer: Customer, *, confirm_url: str | None = None, portal_url: str = "",
                     store_name: str = "") -> dict[str, Any]:
    confirm_url = confirm_url or portal_url
    if not (confirm_url and portal_url):
        raise ValueError("the dispute follow-up needs confirm_url and portal_url")
    return {**_base(ret, customer, portal_url, store_name), "confirm_url": confirm_url}


def _claim_lines(ret: Return) -> list[dict[str, str]]:
    lines = ret.get("lines") or ret.get("items") or []
    return [{"name": str(line.get("name") or line.get("sku") or ""), "qty": str(int(line.get("qty") or 0))}
            for line in lines]


def claim_received(ret: Return, customer: Customer, *, kind: str = "", portal_url: str = "",
                   store_name: str = "") -> dict[str, Any]:
    """A claim (a problem with an order needing no return parcel) was received; `ret` is the claim as
    GET /claims/{id} shows it."""
    kind = kind or str(ret.get("kind") or "")
    return {**_base(ret, customer, portal_url, store_name), "claim_id": str(ret.get("claim_id") or ""),
            "not_received": kind == "not_received", "damaged_on_arrival": kind == "damaged_on_arrival",
            "missing_item": kind == "missing_item", "lines": _claim_lines(ret)}


def claim_resolved(ret: Return, customer: Customer, *, decision: str = "", note: str = "",
                   amount: int | None = None, portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    """Customer service's answer to a claim: refunded (how much), reshipped or rejected (why: the note).
    Without `decision`, the claim's own `resolution` says it."""
    given = ret.get("resolution") if isinstance(ret.get("resolution"), Mapping) else {}
    decision = decision or given.get("decision") or ""
    note = note or given.get("note") or ""
    if amount is None:
        amount = given.get("amount")
    if decision not in ("refund", "reship", "reject"):
        raise ValueError("a claim's resolution is refund, reship or reject")
    if decision == "refund" and not amount:
        raise ValueError("a claim's refund needs its amount")
    loc = locale_for(customer.get("locale"))
    return {**_base(ret, customer, portal_url, store_name), "claim_id": str(ret.get("claim_id") or ""),
            "refunded": decision == "refund", "reshipped": decision == "reship", "rejected": decision == "reject",
            "note": (note or "").strip(),
            "amount": _money(amount, _currency(ret), loc) if decision == "refund" else ""}
def format_moment(value: str | datetime, locale: str | None) -> str:
    """``1 December 2026 at 16:05 UTC`` / ``1er décembre 2026 à 16 h 05 UTC``: a date and time, its zone stated."""
    loc = locale_for(locale)
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    clock = f"{moment.hour} h {moment.minute:02d}" if loc == "fr" else f"{moment.hour:02d}:{moment.minute:02d}"
    return f"{format_date(moment, loc)} {'à' if loc == 'fr' else 'at'} {clock} UTC"


def withdrawal_received(ret: Return, customer: Customer, *, product_names: Mapping[str, str] | None = None,
                        portal_url: str = "", store_name: str = "") -> dict[str, Any]:
    """The acknowledgement of a withdrawal notice (Art. 11a): what was withdrawn, and when the notice was
    received. A return without `withdrawal` (none in practice) is acknowledged at its creation."""
    loc = locale_for(customer.get("locale"))
    notice = ret.get("withdrawal") or {}
    received_at = notice.get("received_at") or ret.get("created_at")
    if not received_at:
        raise ValueError("a withdrawal's acknowledgement needs the time the notice was received")
    due = notice.get("refund_due_by")
    return {**_base(ret, customer, portal_url, store_name),
            "received_at": format_moment(received_at, loc),
            "refund_due_by": format_date(due, loc) if due else "", "has_due_date": bool(due),
            "items": _items(ret.get("items") or [], product_names)}


def agent_message(ret: Return, customer: Customer, *, body: str = "", agent_name: str = "", portal_url: str = "",
                  store_name: str = "") -> dict[str, Any]:
    """An agent's message in the customer's conversation (a return's or a claim's: `ret` is its view).
    The text is the agent's, sent as text: SES escapes it in the HTML part, as every value."""
    if not body.strip():
        raise ValueError("an agent's message needs its text")
    data = _base(ret, customer, portal_url, store_name)
    data.update(body=body, agent_name=agent_name, reference=str(ret.get("return_id") or ret.get("claim_id") or ""))
    return data


BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "return_requested": return_requested,
    "dropoff_reminder": dropoff_reminder,
    "return_expired": return_expired,
    "parcel_received": parcel_received,
    "inspection_result": inspection_result,
    "refund_issued": refund_issued,
    "review_outcome": review_outcome,
    "dispute_opened": dispute_opened,
    "followup": followup,
    "return_closed": return_closed,
    "exchange_shipping": exchange_shipping,
    "parcel_lost": parcel_lost,
    "dispute_resolved": dispute_resolved,
    "dispute_followup": dispute_followup,
    "claim_received": claim_received,
    "claim_resolved": claim_resolved,
    "withdrawal_received": withdrawal_received,
    "agent_message": agent_message,
}


def build(template: str, ret: Return, customer: Customer, **extras: Any) -> dict[str, Any]:
    """The TemplateData of ``template``: dispatches to the builder of that name.

    Extras the builder does not take are ignored, so a caller can pass the same
    links (``portal_url``, ``label_url``...) to every message.
    """
    try:
        builder = BUILDERS[template]
    except KeyError:
        raise KeyError(f"no message builder for template {template!r}") from None
    code = builder.__code__
    accepted = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
    return builder(ret, customer, **{k: v for k, v in extras.items() if k in accepted})


# ---------------------------------------------------------------- SMS

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXT = set("^{}\\[~]|€\f")  # each takes two septets
_TO_GSM = str.maketrans({
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "’": "'", "‘": "'", "“": '"', "”": '"',
    "«": '"', "»": '"', "–": "-", "—": "-", "…": "...", "ç": "c", "â": "a", "ê": "e",
    "î": "i", "ô": "o", "û": "u", "ë": "e", "ï": "i", "ÿ": "y", "œ": "oe", "Œ": "OE",
    "À": "A", "Â": "A", "Ê": "E", "È": "E", "Î": "I", "Ô": "O", "Û": "U", "×": "x",
})
SMS_MAX = 160
_OPT_OUT = {"en": "Reply STOP to opt out", "fr": "Répondez STOP pour ne plus recevoir de SMS"}
SMS_KINDS = ("label_ready", "refund_issued")


def to_gsm7(text: str) -> str:
    """Replace what GSM-7 cannot carry by its nearest plain letter (``ê`` → ``e``)."""
    text = text.translate(_TO_GSM)
    return "".join(c if c in _GSM7 or c in _GSM7_EXT else "?" for c in text)


def gsm7_length(text: str) -> int:
    """Septets used: extension characters such as ``€`` count twice."""
    return sum(2 if c in _GSM7_EXT else 1 for c in text)


def _sms_data(kind: str, loc: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Accept the raw return view as well as the email's TemplateData."""
    out = dict(data)
    if kind == "label_ready":
        deadline = out.get("deadline")
        if isinstance(deadline, (date, datetime)) or (isinstance(deadline, str) and deadline[:4].isdigit()):
            out["deadline"] = format_date(deadline, loc)
        if not out.get("label_url"):
            out["label_url"] = (out.get("label") or {}).get("url") or ""
    elif kind == "refund_issued":
        if not isinstance(out.get("refund_amount"), str):
            amount = out.get("refund_amount")
            if amount is None:
                amount = (out.get("refund") or {}).get("amount")
            if amount is None or not out.get("currency"):
                raise ValueError("refund_issued SMS needs refund_amount (or refund.amount and currency)")
            _paid_back(amount)
            out["refund_amount"] = _money(amount, str(out["currency"]), loc)
        if not out.get("refund_method"):
            out["refund_method"] = refund_method(out)
    return out


def sms_text(kind: str, locale: str | None, data: Mapping[str, Any]) -> str:
    """A short SMS, GSM-7 only, at most 160 septets, ending with the opt-out hint.

    ``data`` is the TemplateData of the matching email (:func:`return_requested`
    for ``label_ready``: ``label_url``, ``deadline``; :func:`refund_issued` for
    ``refund_issued``: ``refund_amount``, ``refund_method``) or the raw return
    view (``deadline``, ``label.url``, ``refund.amount``, ``currency``). A URL is
    included only when it fits (presigned label URLs rarely do); otherwise the
    message points to the email.
    """
    loc = locale_for(locale)
    stop = _OPT_OUT[loc]
    data = _sms_data(kind, loc, data)
    if kind == "label_ready":
        deadline = data.get("deadline") or ""
        url = str(data.get("label_url") or "")
        if loc == "fr":
            candidates = [f"Votre étiquette de retour : {url} - à déposer avant le {deadline}. Merci !",
                          f"Votre étiquette de retour est dans votre e-mail. À déposer avant le {deadline}. Merci !",
                          "Votre étiquette de retour est dans votre e-mail. Merci !"]
        else:
            candidates = [f"Your return label: {url} - please send the parcel by {deadline}. Thank you!",
                          f"Your return label is in your email. Please send the parcel by {deadline}. Thank you!",
                          "Your return label is in your email. Thank you!"]
        if not url:
            candidates = candidates[1:]
    elif kind == "refund_issued":
        amount = data.get("refund_amount") or ""
        method = data.get("refund_method") or "original_payment"
        if loc == "fr":
            candidates = {
                "store_credit": [f"Votre avoir de {amount} est disponible dès maintenant sur votre compte. Merci !"],
                "manual": [f"Nous vous avons remboursé {amount}. Il arrive sous quelques jours ouvrés. Merci !"],
            }.get(method, [f"Nous vous avons remboursé {amount} sur votre moyen de paiement, "
                           "sous 5 à 10 jours ouvrés. Merci !"])
        else:
            candidates = {
                "store_credit": [f"Your {amount} store credit is in your account now. Thank you!"],
                "manual": [f"We have refunded you {amount}; it arrives within a few business days. Thank you!"],
            }.get(method, [f"We have refunded {amount} to your payment method; allow 5-10 business days. Thank you!"])
        candidates.append("Merci ! Votre remboursement est en route." if loc == "fr"
                          else "Your refund is on its way. Thank you!")
    else:
        raise KeyError(f"unknown SMS kind {kind!r}; known: {', '.join(SMS_KINDS)}")
    for body in candidates:
        text = to_gsm7(f"{body} {stop}")
        if gsm7_length(text) <= SMS_MAX:
            return text
    raise ValueError("no SMS wording fits in 160 characters")  # unreachable with the wordings above
