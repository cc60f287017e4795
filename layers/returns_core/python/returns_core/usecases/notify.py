"""Telling the customer: the message built from the return, sent, and recorded in its timeline."""
from __future__ import annotations

from ..edge import auth
from ..outbound import messaging
from ..outbound.notifications import messages
from ..rules.shapes import Customer
from ..store import returns
from ..store.models import ReturnModel
from ..views import customer_return_view
from . import orders


def _links(ret: ReturnModel) -> dict:
    return messaging.public_links(ret.return_id, auth.mint_label_link(ret.order_id, ret.return_id),
                                  auth.mint_portal_link(ret.order_id, ret.return_id))


def _customer(ret: ReturnModel, customer: Customer | None) -> Customer:
    return customer if customer is not None else orders.get(ret.order_id).customer


def email(ret: ReturnModel, template: str, *, customer: Customer | None = None, **extras) -> None:
    """`customer`: the order's customer, when the caller has read it already."""
    customer = _customer(ret, customer)
    data = messages.build(template, customer_return_view(ret), customer, **{**_links(ret), **extras})
    name = messaging.send_email(customer["email"], template, ret.locale or "en", data,
                                about={"return_id": ret.return_id})
    returns.append_timeline(ret, actor="system", event="message.sent", detail={"channel": "email", "template": name})


def sms(ret: ReturnModel, kind: str, *, customer: Customer | None = None, **extras) -> None:
    customer = _customer(ret, customer)
    phone = customer.get("phone")
    if not phone or customer.get("sms_opt_out"):
        return
    text = messages.sms_text(kind, ret.locale, {**customer_return_view(ret), **_links(ret), **extras})
    messaging.send_sms(phone, text)
    returns.append_timeline(ret, actor="system", event="message.sent", detail={"channel": "sms", "template": kind})
