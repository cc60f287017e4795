"""A customer's email reply, appended to its conversation as the portal's message would be
(usecases/conversations.py customer_says), or refused.

Refused, logged with the reason only (no address, no text) and never appended: a message sent to no
reply address of ours or to one whose signature does not hold (edge/reply_addresses.py); one whose From
is not the return's or claim's customer (a forged or another sender); one SES found failing DMARC, or
both SPF and DKIM; one with no text and no photo. A photo is kept (outbound/message_photos.py) and named
in the message; another attachment is named as refused, by type or size.
"""
from __future__ import annotations

import logging

from ..edge import reply_addresses
from ..outbound import message_photos
from ..rules import conversations as rules, ids, mail_replies
from ..rules.errors import NotFoundError
from ..store import claims as claim_store, conversations as store, returns as return_store
from . import conversations, orders

log = logging.getLogger(__name__)
EMAIL_ACTOR = "customer:email"
_PHOTOS_ONLY = "\U0001f4f7"   # a reply that is only photos: the camera stands for its text


def _refused(reason: str, conversation: str | None = None) -> dict:
    log.warning("inbound mail refused", extra={"reason": reason, "conversation": conversation})
    return {"accepted": False, "reason": reason}


def _failed_authentication(verdicts: dict | None) -> bool:
    found = {k: str((v or {}).get("status", "")).upper() for k, v in (verdicts or {}).items()}
    return found.get("dmarcVerdict") == "FAIL" or (found.get("spfVerdict") == "FAIL" and
                                                   found.get("dkimVerdict") == "FAIL")


def _bounded(text: str) -> str:
    """A mail cannot be answered 422: a text over the limit is cut there, and says so."""
    data = text.encode("utf-8")
    if len(data) <= rules.MAX_BODY_BYTES:
        return text
    return data[:rules.MAX_BODY_BYTES - 3].decode("utf-8", "ignore") + "\u2026"


def _owner(conversation: str) -> conversations.Owner | None:
    """The return or claim the (signed) conversation id names, whether or not anyone wrote in it yet."""
    state = store.state(conversation)
    try:
        if state is not None and state.claim_id or conversation.startswith("clm_"):
            return conversations.of_claim(claim_store.get(state.claim_id if state else conversation))
        return conversations.of_return(return_store.get(state.return_id if state else conversation))
    except NotFoundError:
        return None


def receive(raw: bytes, envelope_recipients: list[str], verdicts: dict | None = None) -> dict:
    """`envelope_recipients`: the addresses SES received it for (the receipt's `recipients`); `verdicts`: the
    receipt's spfVerdict, dkimVerdict, dmarcVerdict."""
    try:
        reply = mail_replies.parse(raw)
    except ValueError:
        return _refused("unreadable")
    named = [reply_addresses.conversation_of(a) for a in [*envelope_recipients, *reply.recipients]]
    found = {c for c in named if c}
    if len(found) != 1:
        return _refused("unknown_address" if not found else "several_conversations")
    conversation = found.pop()
    owner = _owner(conversation)
    if owner is None:
        return _refused("unknown_conversation", conversation)
    customer_email = str(orders.get(owner.order_id).customer.get("email") or "").strip().lower()
    if not reply.sender or reply.sender != customer_email:
        return _refused("forged_sender", conversation)
    if _failed_authentication(verdicts):
        return _refused("failed_authentication", conversation)
    if not reply.text and not reply.photos:
        return _refused("empty", conversation)
    attachments = []
    for photo in reply.photos:
        photo_id = ids.new_photo_id()
        key = message_photos.put(conversation, photo_id, photo.data, photo.content_type)
        attachments.append({"photo_id": photo_id, "s3_key": key, "content_type": photo.content_type,
                            "size": photo.size, "name": photo.name[:200]})
    attachments += [{"name": str(r["name"])[:200], "content_type": r["content_type"], "size": r["size"],
                     "refused": r["reason"]} for r in reply.refused]
    message = conversations.customer_says(owner, _bounded(reply.text or _PHOTOS_ONLY), EMAIL_ACTOR,
                                          channel="email", attachments=attachments or None)
    log.info("inbound mail appended", extra={"conversation": conversation, "photos": len(reply.photos),
                                             "refused_attachments": len(reply.refused)})
    return {"accepted": True, "conversation": conversation, "message_id": message["message_id"],
            "photos": len(reply.photos), "refused_attachments": [r["reason"] for r in reply.refused]}
