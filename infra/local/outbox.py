"""The local stack's outbox: the emails and SMS the emulator captured, as a customer would see them.

Not part of what ships: the local server (infra/local/server.py) answers `/outbox` and
`/outbox/messages` itself, in the process where moto's server runs, so the captured messages are
read from moto's backends directly and each email is rendered with our renderer.
"""
from __future__ import annotations

import json
from pathlib import Path

PAGE = Path(__file__).resolve().parent / "outbox.html"
ACCOUNT = "123456789012"  # moto's default account, the one infra/local deploys into


def _template_of(name: str) -> tuple[str, str] | None:
    """``returns-local-parcel_received-fr`` → (``parcel_received``, ``fr``)."""
    from returns_core.outbound.notifications import TEMPLATES

    base, _, locale = name.rpartition("-")
    template = next((t for t in TEMPLATES if base == t or base.endswith("-" + t)), None)
    return (template, locale) if template else None


def _email(message) -> dict:
    from infra.mail.render import render

    out = {"id": message.id, "from": message.source, "to": list(message.destinations.get("ToAddresses", [])),
           "ses_template": message.template, "template": None, "locale": None,
           "subject": "", "text": "", "html": "", "reply_to": None}
    found = _template_of(message.template)
    try:
        data = json.loads(message.template_data)
    except ValueError:
        data = None
    if found and isinstance(data, dict):
        out["template"], out["locale"] = found
        # moto keeps no Reply-To: the conversation's address rides in the data (usecases/conversations.py)
        out["reply_to"] = data.get("reply_address") or None
        rendered = render(found[0], found[1], data)
        out.update(subject=rendered.subject, text=rendered.text, html=rendered.html)
    return out


def messages() -> dict:
    """Every email and SMS the emulator has sent, newest first."""
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    from returns_core import config

    region = config.region()
    sent = [m for m in ses_backends[ACCOUNT][region].sent_messages if hasattr(m, "template_data")]
    sms = list(sns_backends[ACCOUNT][region].sms_messages.items())
    return {
        "emails": [_email(m) for m in reversed(sent)],
        "sms": [{"id": mid, "to": phone, "message": text} for mid, (phone, text) in reversed(sms)],
    }


def reply(raw: bytes, bucket: str, invoke) -> dict:
    """A customer's email reply, as SES receives one: the MIME message stored under `inbound/` in the
    inbound mail bucket, then InboundMailFunction invoked with the receipt rule's event, so the local
    stack runs the same parsing and checks as AWS. `invoke(event)` → (result, error)."""
    import uuid
    from email import policy
    from email.parser import BytesParser
    from email.utils import getaddresses

    from returns_core import aws, config

    if not raw.strip():
        return {"accepted": False, "reason": "empty"}
    message = BytesParser(policy=policy.default).parsebytes(raw)
    headers = [str(v) for name in ("To", "Cc") for v in message.get_all(name, [])]
    domain = config.mail_domain()
    recipients = [a.lower() for _, a in getaddresses(headers) if a and a.lower().endswith("@" + domain)]
    message_id = uuid.uuid4().hex
    aws.client("s3").put_object(Bucket=bucket, Key=f"inbound/{message_id}", Body=raw)
    passed = {"status": "PASS"}
    event = {"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {
        "mail": {"messageId": message_id, "destination": recipients},
        "receipt": {"recipients": recipients, "spfVerdict": passed, "dkimVerdict": passed, "dmarcVerdict": passed,
                    "action": {"type": "Lambda", "invocationType": "Event"}}}}]}
    result, error = invoke(event)
    if error:
        return {"accepted": False, "reason": "function_error"}
    return (result.get("results") or [{"accepted": False, "reason": "nothing"}])[0]
