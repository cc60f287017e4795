"""Customer messages on the wire: SES templated emails and SNS SMS."""
from __future__ import annotations

import json
import re
from urllib.parse import quote

from .. import aws, config
from .notifications.catalogue import template_name

# SES message tags allow ASCII letters, digits, "_" and "-" (the SES API reference, MessageTag).
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def send_email(to: str, template: str, locale: str, data: dict, about: dict[str, str] | None = None,
               reply_to: str | None = None) -> str:
    """Send one templated email; the SES template's name (what the timeline records).

    Sent through the stack's configuration set (SES_CONFIGURATION_SET) when there is one: SES then keeps
    bounced and complaining addresses off the list, and publishes the bounce or complaint with the
    message's tags, `about` (`{"return_id": ...}` or `{"claim_id": ...}`) and the template, which is how
    usecases/mail_events.py finds whose timeline to tell, with no address kept anywhere. `reply_to`: where the
    customer's reply goes (a conversation's address)."""
    name = template_name(config.setting("SES_TEMPLATE_PREFIX"), template, locale or "en")
    tags = {**(about or {}), "template": name}
    options: dict = {"Tags": [{"Name": key, "Value": _TAG_UNSAFE.sub("_", value)[:256]} for key, value in tags.items()]}
    configuration_set = config.setting("SES_CONFIGURATION_SET", "")
    if configuration_set:
        options["ConfigurationSetName"] = configuration_set
    if reply_to:   # a conversation's own address: the customer's answer comes back to it (edge/reply_addresses.py)
        options["ReplyToAddresses"] = [reply_to]
    aws.client("ses").send_templated_email(
        Source=config.setting("SENDER_EMAIL"), Destination={"ToAddresses": [to]},
        Template=name, TemplateData=json.dumps(data, ensure_ascii=False), **options)
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
