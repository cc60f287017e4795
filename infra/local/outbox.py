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
           "subject": "", "text": "", "html": ""}
    found = _template_of(message.template)
    try:
        data = json.loads(message.template_data)
    except ValueError:
        data = None
    if found and isinstance(data, dict):
        out["template"], out["locale"] = found
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
