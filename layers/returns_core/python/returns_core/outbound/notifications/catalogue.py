"""Which customer emails there are, in which languages, and the name each has in SES.

The Lambdas send a template by name (outbound/messaging.py) and never read or render one: the
templates' text is SES's, generated into template.yaml from infra/mail/templates by
infra/mail/ses_templates.py, and rendered locally for the outbox and the tests by infra/mail/render.py.
"""
from __future__ import annotations

LOCALES: tuple[str, ...] = ("en", "fr")

TEMPLATES: tuple[str, ...] = (
    "return_requested",
    "dropoff_reminder",
    "return_expired",
    "parcel_received",
    "inspection_result",
    "refund_issued",
    "review_outcome",
    "dispute_opened",
    "followup",
    "return_closed",
    "exchange_shipping",
    "parcel_lost",
    "dispute_resolved",
    "dispute_followup",
    "claim_received",
    "claim_resolved",
    "withdrawal_received",
    "agent_message",
)


def locale_for(locale: str | None) -> str:
    """``fr``, ``fr-FR``, ``FR_ca`` → ``fr``; anything else (or nothing) → ``en``."""
    return "fr" if (locale or "").strip().lower().startswith("fr") else "en"


def template_name(prefix: str, template: str, locale: str | None) -> str:
    """The SES template name: ``<prefix>-<template>-<en|fr>``."""
    if template not in TEMPLATES:
        raise KeyError(f"unknown notification template {template!r}")
    return f"{prefix}-{template}-{locale_for(locale)}"
