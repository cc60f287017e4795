"""Customer messages on the wire: SES templated emails and SNS SMS."""
from __future__ import annotations

import json
from urllib.parse import quote

from .. import aws, config
from .notifications.catalogue import template_name


def send_email(to: str, template: str, locale: str, data: dict) -> str:
    """Send one templated email; the SES template's name (what the timeline records)."""
    name = template_name(config.setting("SES_TEMPLATE_PREFIX"), template, locale or "en")
    aws.client("ses").send_templated_email(
        Source=config.setting("SENDER_EMAIL"), Destination={"ToAddresses": [to]},
        Template=name, TemplateData=json.dumps(data, ensure_ascii=False))
    return name


def send_sms(phone: str, text: str) -> None:
    aws.client("sns").publish(PhoneNumber=phone, Message=text,
                              MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String",
                                                                          "StringValue": "Transactional"}})


def public_links(return_id: str, label_token: str, portal_token: str) -> dict:
    """The links a message carries, each opening in a browser with no sign-in, each with its own token
    (edge/auth.py): the label link's downloads the label and nothing else, in the query (a download
    cannot send a header, and a URL travels: forwarded mail, a print shop, a proxy's log); the portal
    link's, only exchanged for a short session on the return, in the fragment, which browsers never
    send to a server or in a Referer."""
    base = config.setting("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    rid = quote(return_id, safe="")
    return {"portal_url": f"{base}/portal?return_id={rid}#t={portal_token}",
            "label_url": f"{base}/returns/{rid}/label?t={label_token}"}
