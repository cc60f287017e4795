"""Customer messages: which SES templates there are (catalogue), the data each is sent with
(messages) and the SMS texts. The templates themselves, their renderer and their generator into
template.yaml are not shipped: they live in infra/mail/."""
from __future__ import annotations

from . import messages
from .catalogue import LOCALES, TEMPLATES, locale_for, template_name
from .messages import build, format_date, sms_text

__all__ = [
    "LOCALES",
    "TEMPLATES",
    "build",
    "format_date",
    "locale_for",
    "messages",
    "sms_text",
    "template_name",
]
