"""An email that did not arrive: SES's bounce, complaint and reject events, told where people look.

SES publishes them through the stack's configuration set to the mail events topic, which the
StatusEffects function reads (template.yaml `MailEvents`). The configuration set already keeps a
bounced or complaining address off every later send (its suppression list: SES accepts the send and
reports it as a bounce `OnSuppressionList`). What SES cannot do is tell the store: here the return's
(or claim's) timeline says which message was not delivered and why, and ops is alerted, so customer
service can reach the customer another way. No email address is kept or logged: the message's tags
name the return and the template (outbound/messaging.py).

A transient bounce is not recorded: SES retries it itself, and a final failure comes as a permanent one.
SNS delivers at least once: an event already recorded (same SES message id) is not recorded again.
"""
from __future__ import annotations

import logging
from typing import Any

from ..outbound import events
from ..rules import timeline as timeline_rules
from ..rules.errors import NotFoundError
from ..store import claims as claim_store, returns

log = logging.getLogger(__name__)

UNDELIVERED = "message.undelivered"


def why_undelivered(record: dict) -> str | None:
    """"bounced", "suppressed", "complaint", "rejected", or None for what needs no one (a delivery,
    a transient bounce). `record`: SES's event (eventType) or feedback notification (notificationType)."""
    kind = record.get("eventType") or record.get("notificationType")
    if kind == "Bounce":
        bounce = record.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return None
        return "suppressed" if bounce.get("bounceSubType") == "OnSuppressionList" else "bounced"
    return {"Complaint": "complaint", "Reject": "rejected"}.get(kind or "")


def _tag(mail: dict, name: str) -> str | None:
    values = (mail.get("tags") or {}).get(name) or []
    return values[0] if values else None


def handle(record: dict) -> str | None:
    """Record one SES event; what it was recorded as ("bounced", ...), None when nothing was."""
    why = why_undelivered(record)
    mail = record.get("mail") or {}
    if why is None:
        return None
    detail = {"channel": "email", "why": why, "template": _tag(mail, "template"), "message_id": mail.get("messageId")}
    return_id, claim_id = _tag(mail, "return_id"), _tag(mail, "claim_id")
    try:
        if return_id:
            owner: Any = returns.get(return_id)
            if _recorded(returns.timeline_of(owner), detail["message_id"]):
                return None
            returns.append_timeline(owner, actor="system", event=UNDELIVERED, detail=detail)
            events.alert_ops("email_undelivered", owner, f"return {return_id}: the {detail['template']} email was "
                             f"not delivered ({why}); SES will not send to that address again: reach the customer "
                             "another way")
        elif claim_id:
            claim = claim_store.get(claim_id)
            if _recorded(claim_store.timeline_of(claim), detail["message_id"]):
                return None
            claim_store.append_timeline(claim, actor="system", event=UNDELIVERED, detail=detail)
            events.alert_ops("email_undelivered", None, f"claim {claim_id}: the {detail['template']} email was not "
                             f"delivered ({why}); SES will not send to that address again")
        else:
            log.warning("undelivered email names no return or claim", extra={"why": why})
            return None
    except NotFoundError:
        log.warning("undelivered email names a record that is gone", extra={"why": why})
        return None
    return why


def _recorded(timeline: list[dict], message_id: str | None) -> bool:
    return any(e.get("type") == UNDELIVERED and (e.get("detail") or {}).get("message_id") == message_id
               for e in timeline) if message_id else timeline_rules.has(timeline, UNDELIVERED)
