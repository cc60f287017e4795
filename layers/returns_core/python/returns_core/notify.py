"""Customer messages: SES templated emails and SNS SMS, each recorded in the return's timeline."""
from __future__ import annotations

import json
import logging

from . import aws, config, lifecycle, orders
from .models import ReturnModel
from .views import plain, return_view

log = logging.getLogger(__name__)
SMS_KINDS = ("label_ready", "refund_issued")


def _links(ret: ReturnModel) -> dict:
    base = config.setting("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return {"portal_url": f"{base}/portal?return_id={ret.return_id}",
            "label_url": f"{base}/returns/{ret.return_id}/label"}


def email(ret: ReturnModel, template: str, **extras) -> None:
    from .notifications import messages
    from .notifications.ses_templates import template_name

    order = orders.get(ret.order_id)
    customer = plain(order.customer)
    links = _links(ret)
    data = messages.build(template, return_view(ret), customer, **{**links, **extras})
    name = template_name(config.setting("SES_TEMPLATE_PREFIX"), template, ret.locale or "en")
    aws.client("ses").send_templated_email(
        Source=config.setting("SENDER_EMAIL"), Destination={"ToAddresses": [customer["email"]]},
        Template=name, TemplateData=json.dumps(data, ensure_ascii=False))
    lifecycle.record(ret, actor="system", event="message.sent", detail={"channel": "email", "template": name})


def sms(ret: ReturnModel, kind: str, **extras) -> None:
    from .notifications import messages

    order = orders.get(ret.order_id)
    customer = plain(order.customer)
    phone = customer.get("phone")
    if not phone or customer.get("sms_opt_out"):
        return
    text = messages.sms_text(kind, ret.locale, {**return_view(ret), **_links(ret), **extras})
    aws.client("sns").publish(PhoneNumber=phone, Message=text,
                              MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String",
                                                                          "StringValue": "Transactional"}})
    lifecycle.record(ret, actor="system", event="message.sent", detail={"channel": "sms", "template": kind})
