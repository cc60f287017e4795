"""Conversations with the customer on a return or a claim (rules/conversations.py, store/conversations.py).

- A customer's message (the portal, or an email reply: usecases/inbound_mail.py) puts the conversation in
  the ops inbox, its first answer due within the store's service hours.
- An agent's message (free text or a ready-made reply filled from the return) takes it out, records how
  long the customer waited (satisfaction's median first response), and is emailed to the customer
  (`agent_message`) with the conversation's own reply address.
- A note is for staff only: the customer never reads it, and it changes no wait.
- An agent takes a conversation (it is theirs) or escalates it to a lead with a reason.
- The sweep (HandleTimeout's InboxSweep schedule) alerts ops once per wait that passed its due time.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from .. import config
from ..edge import auth, reply_addresses
from ..outbound import events, message_photos, messaging
from ..outbound.notifications import messages as builders
from ..rules import clock, conversations as rules, ids, proactive
from ..store import claims as claim_store, conversations as store, returns as return_store
from ..store.models import ClaimModel, ConversationModel, MessageModel, ReturnModel
from ..views import customer_return_view, return_view
from ..views.claims import claim_view
from . import orders, ready_replies

log = logging.getLogger(__name__)
PROACTIVE_ACTOR = "system:proactive"


@dataclass(frozen=True)
class Owner:
    """The return or claim a conversation belongs to; `conversation` is its id."""
    conversation: str
    order_id: str
    locale: str
    return_id: str | None = None
    claim_id: str | None = None


def of_return(ret: ReturnModel) -> Owner:
    return Owner(ret.return_id, ret.order_id, ret.locale or "en", return_id=ret.return_id)


def of_claim(claim: ClaimModel) -> Owner:
    return Owner(claim.claim_id, claim.order_id, claim.locale or "en", claim_id=claim.claim_id)


def message_view(message: MessageModel) -> dict:
    view = {"message_id": message.message_id, "at": message.at, "from": message.sender, "body": message.body,
            "channel": message.channel}
    if message.attachments:
        view["attachments"] = [{k: a.get(k) for k in ("photo_id", "content_type", "size", "name", "refused")
                                if a.get(k) is not None} for a in message.attachments]
    return view


def _hours() -> rules.ServiceHours:
    return rules.ServiceHours.parse(config.service_hours())


def _load(owner: Owner):
    def load() -> ConversationModel:
        return store.state(owner.conversation) or store.fresh(
            owner.conversation, order_id=owner.order_id, locale=owner.locale, return_id=owner.return_id,
            claim_id=owner.claim_id)
    return load


def _message(sender: str, body: str, actor: str, channel: str, at: str, reply_id: str | None = None,
             attachments: list | None = None) -> dict:
    return {"message_id": ids.new_message_id(), "at": at, "sender": sender, "body": body,
            "actor": actor, "channel": channel, "reply_id": reply_id, "attachments": attachments or None}


def customer_says(owner: Owner, body: str, actor: str, channel: str = "portal",
                  attachments: list | None = None) -> dict:
    """The customer's message; the conversation waits for an answer (the inbox) from now, if it did not."""
    text = rules.checked_body(body)
    at = clock.iso()

    def change(conv: ConversationModel) -> list:
        conv.last_message_at = at
        if not conv.waiting_since:
            conv.waiting_since = at
            conv.first_response_due = clock.iso(rules.first_response_due(
                clock.parse(at), _hours(), config.first_response_hours()))
            conv.overdue_alerted = None
        conv.inbox = store.INBOX_OPEN
        return []

    _, message = store.append(_load(owner), _message(rules.CUSTOMER, text, actor, channel, at,
                                                     attachments=attachments), change)
    return message_view(message)


def agent_says(owner: Owner, body: str | None, actor: str, reply_id: str | None = None,
               agent_name: str = "") -> dict:
    """An agent's answer: free text, or a ready-made reply filled from the return (an agent may edit the
    filled text: `body` then wins). Emailed to the customer once written."""
    if reply_id and not (body or "").strip():
        body = ready_replies.render(reply_id, _view(owner), _customer(owner), agent_name)
    text = rules.checked_body(body)
    at = clock.iso()

    def change(conv: ConversationModel) -> list:
        answered = []
        if conv.waiting_since:
            waited = (clock.parse(at) - clock.parse(conv.waiting_since)).total_seconds()
            answered.append(store.feedback("first_response", at[:10], f"{conv.conversation}#{at}", at,
                                           seconds=int(max(0, waited))))
        conv.last_message_at = at
        conv.inbox = conv.waiting_since = conv.first_response_due = conv.overdue_alerted = None
        conv.assigned_to = conv.assigned_to or actor
        return answered

    _, message = store.append(_load(owner), _message(rules.AGENT, text, actor, "ops", at, reply_id), change)
    _email(owner, text, agent_name)
    return message_view(message)


def tell_before_asked(ret: ReturnModel, kind: str) -> bool:
    """A proactive message (rules/proactive.py) when a step of the return is late: written in the
    conversation as customer service's and emailed, once per stay in the status. It answers no question:
    a customer waiting for an answer stays in the inbox. False when it was told already."""
    owner = of_return(ret)
    key = proactive.sent_key(kind, ret.status_since)
    text = proactive.text(kind, ret.locale or "en", ret.return_id)
    at = clock.iso()

    def change(conv: ConversationModel) -> list:
        if key in (conv.proactive_sent or set()):
            raise _AlreadyTold
        conv.proactive_sent = {*(conv.proactive_sent or set()), key}
        return []

    try:
        store.append(_load(owner), _message(rules.AGENT, text, PROACTIVE_ACTOR, "ops", at), change)
    except _AlreadyTold:
        return False
    _email(owner, text, "")
    return True


class _AlreadyTold(Exception):
    pass


def note(owner: Owner, body: str, actor: str) -> dict:
    """An internal note: staff read it beside the messages; it is never shown or sent to the customer."""
    text = rules.checked_body(body)
    at = clock.iso()
    _, message = store.append(_load(owner), _message(rules.NOTE, text, actor, "ops", at), lambda conv: [])
    return message_view(message)


def messages_of(owner: Owner, *, staff: bool) -> list[dict]:
    """Oldest first; the customer's without notes. Staff get each kept photo's link (fresh, it expires)."""
    stored = store.messages(owner.conversation)
    found = []
    for message in stored:
        view = message_view(message)
        if staff:
            links = {a["photo_id"]: message_photos.view_url(a["s3_key"])
                     for a in message.attachments or [] if a.get("s3_key") and a.get("photo_id")}
            for attachment in view.get("attachments", []):
                if attachment.get("photo_id") in links:
                    attachment["url"] = links[attachment["photo_id"]]
        found.append(view)
    return found if staff else [m for m in found if rules.visible_to_customer(m)]


def state_of(owner: Owner) -> dict:
    conv = store.state(owner.conversation)
    if conv is None:
        return {"assigned_to": None, "escalation": None, "waiting_since": None, "first_response_due": None}
    return {"assigned_to": conv.assigned_to, "escalation": conv.escalation, "waiting_since": conv.waiting_since,
            "first_response_due": conv.first_response_due, "last_message_at": conv.last_message_at}


def take(owner: Owner, actor: str) -> dict:
    """The conversation is this agent's from now (another agent may take it over: the last one holds it)."""
    def change(conv: ConversationModel) -> bool:
        if conv.assigned_to == actor:
            return False
        conv.assigned_to = actor
        return True

    conv = store.update_state(owner.conversation, change)
    if conv is None:
        _load(owner)().save()   # a conversation with no message yet: created, then taken
        conv = store.update_state(owner.conversation, change)
    return state_of(owner)


def escalate(owner: Owner, reason: str, actor: str) -> dict:
    """For a lead: the reason and who asked. Leads see escalated conversations first in the inbox."""
    escalation = {"reason": reason, "by": actor, "at": clock.iso()}

    def change(conv: ConversationModel) -> bool:
        conv.escalation = escalation
        return True

    if store.update_state(owner.conversation, change) is None:
        conv = _load(owner)()
        conv.escalation = escalation
        conv.save()
    events.alert_ops("conversation.escalated", None, f"conversation {owner.conversation} escalated to a lead",
                     {"conversation": owner.conversation, "return_id": owner.return_id, "claim_id": owner.claim_id})
    return state_of(owner)


def inbox(lead: bool = False) -> list[dict]:
    """Conversations waiting for an answer, the longest wait first; for a lead, escalated ones first."""
    items = [{"return_id": hit.return_id, "claim_id": hit.claim_id, "last_message_at": hit.last_message_at,
              "first_response_due": hit.first_response_due, "waiting_since": hit.waiting_since,
              "assigned_to": hit.assigned_to, "escalated": bool(hit.escalation),
              "escalation": hit.escalation} for hit in store.inbox()]
    if lead:
        items.sort(key=lambda item: not item["escalated"])   # stable: each group keeps its order
    return items


def sweep_overdue(now: datetime | None = None) -> int:
    """Alert ops once for every wait past its first response's due time; how many were alerted.
    The inbox is read oldest wait first and the due time grows with the wait's start, so the read stops
    at the first wait not yet due."""
    moment = clock.iso(now)
    alerted = 0
    for hit in store.inbox():
        if not hit.first_response_due or hit.first_response_due > moment:
            break
        if not _mark_alerted(hit.conversation):
            continue   # alerted already (by an earlier sweep, or a racing one), or answered meanwhile
        events.alert_ops("conversation.overdue", None,
                         f"a customer has waited past the first response time on {hit.conversation}",
                         {"conversation": hit.conversation, "return_id": hit.return_id, "claim_id": hit.claim_id,
                          "first_response_due": hit.first_response_due})
        alerted += 1
    return alerted


def _mark_alerted(conversation: str) -> bool:
    """True if this call marked the wait as alerted (the conditional write makes it once per wait)."""
    marked: list[bool] = []

    def change(conv: ConversationModel) -> bool:
        marked.clear()
        if conv.overdue_alerted or not conv.inbox:
            return False
        conv.overdue_alerted = True
        marked.append(True)
        return True

    store.update_state(conversation, change)
    return bool(marked)


# ---------------------------------------------------------------- the customer's email

def _customer(owner: Owner) -> dict:
    return dict(orders.get(owner.order_id).customer)


def _view(owner: Owner) -> dict:
    if owner.return_id:
        ret = return_store.get(owner.return_id)
        view = return_view(ret)
        paid = {item["sku"]: item.get("paid") for item in ret.items}
        view["items"] = [{**item, "paid": paid.get(item["sku"])} for item in view["items"]]
        return view
    return claim_view(claim_store.get(owner.claim_id))


def _email(owner: Owner, text: str, agent_name: str) -> None:
    """The agent's message by email, with the conversation's reply address. Its failure is recorded in the
    timeline and logged (no personal data); the message stands in the conversation."""
    try:
        customer = _customer(owner)
        links = {}
        if owner.return_id:
            links = messaging.public_links(owner.return_id, auth.mint_label_link(owner.order_id, owner.return_id),
                                           auth.mint_portal_link(owner.order_id, owner.return_id))
        view = customer_return_view(return_store.get(owner.return_id)) if owner.return_id else _view(owner)
        data = builders.build("agent_message", view, customer, body=text, agent_name=agent_name, **links)
        reply_to = reply_addresses.address_of(owner.conversation)
        data["reply_address"] = reply_to or ""   # unprinted: the local outbox's Reply (SES keeps the header)
        about = {"return_id": owner.return_id} if owner.return_id else {"claim_id": owner.claim_id}
        name = messaging.send_email(customer["email"], "agent_message", owner.locale, data, about=about,
                                    reply_to=reply_to)
        _tell_timeline(owner, "message.sent", {"channel": "email", "template": name})
    except Exception as exc:  # noqa: BLE001 - recorded; the agent's message is kept and shown
        log.warning("agent message email failed", extra={"conversation": owner.conversation,
                                                         "error": type(exc).__name__})
        try:
            _tell_timeline(owner, "effect.failed", {"error": type(exc).__name__, "effect": "agent_message"})
        except Exception:  # noqa: BLE001 - the log line above is what is left
            pass


def _tell_timeline(owner: Owner, event: str, detail: dict) -> None:
    if owner.return_id:
        return_store.append_timeline(return_store.get(owner.return_id), actor="system", event=event, detail=detail)
    else:
        claim_store.append_timeline(claim_store.get(owner.claim_id), actor="system", event=event, detail=detail)
