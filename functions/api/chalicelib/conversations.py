"""Conversations with the customer on a return or a claim (usecases/conversations.py): messages, notes,
taking and escalating a conversation, the ops inbox, the ready-made replies, satisfaction's figures.

A customer reaches only its own return's or claim's conversation (the same 404 as an unknown id), writes
only as the customer, and never reads a note. HTML in a message is text: the API returns it as written,
and the pages show it with textContent.
"""
from __future__ import annotations

from chalice import Blueprint, Response

from . import routes, schemas
from .authn import owned_return
from .claims import _owned_claim
from .endpoints import Call, Effect, endpoint
from .errors import ApiError

bp = Blueprint(__name__)


def _agent_name(who) -> str:
    """What the customer reads under an agent's message: the part of the staff id before any '@' or ':'."""
    sub = str(who.sub or "")
    return sub.split(":")[-1].split("@")[0] if who.role == "ops" else ""


def _write(call: Call, owner) -> Effect:
    from returns_core.usecases import conversations

    who, req = call.who, call.body
    if who.role == "customer" and (req.reply_id or req.internal):
        field = "reply_id" if req.reply_id else "internal"
        raise ApiError(403, "agents_only", "only customer service writes ready-made replies and notes", field=field)

    def effect() -> Response:
        if who.role == "customer":
            message = conversations.customer_says(owner, req.body, who.sub)
        elif req.internal:
            message = conversations.note(owner, req.body, who.sub)
        else:
            message = conversations.agent_says(owner, req.body, who.sub, req.reply_id, _agent_name(who))
        return Response(body=message, status_code=201)

    return effect


def _read(call: Call, owner) -> dict:
    from returns_core.usecases import conversations

    staff = call.who.role != "customer"
    answer: dict = {"items": conversations.messages_of(owner, staff=staff)}
    if staff:
        answer["conversation"] = conversations.state_of(owner)
    return answer


@endpoint(bp, routes.RETURN_MESSAGE)
def post_return_message(call: Call, return_id: str) -> Effect:
    from returns_core.usecases import conversations

    return _write(call, conversations.of_return(owned_return(call.who, return_id)))


@endpoint(bp, routes.RETURN_MESSAGES)
def return_messages(call: Call, return_id: str) -> dict:
    from returns_core.usecases import conversations

    return _read(call, conversations.of_return(owned_return(call.who, return_id)))


@endpoint(bp, routes.CLAIM_MESSAGE)
def post_claim_message(call: Call, claim_id: str) -> Effect:
    from returns_core.usecases import conversations

    return _write(call, conversations.of_claim(_owned_claim(call.who, claim_id)))


@endpoint(bp, routes.CLAIM_MESSAGES)
def claim_messages(call: Call, claim_id: str) -> dict:
    from returns_core.usecases import conversations

    return _read(call, conversations.of_claim(_owned_claim(call.who, claim_id)))


@endpoint(bp, routes.TAKE_CONVERSATION)
def take(call: Call, return_id: str) -> dict:
    """No Idempotency-Key record: taking a conversation twice leaves it as once."""
    from returns_core.usecases import conversations

    return conversations.take(conversations.of_return(owned_return(call.who, return_id)), call.who.sub)


@endpoint(bp, routes.ESCALATE_CONVERSATION)
def escalate(call: Call, return_id: str) -> Effect:
    from returns_core.usecases import conversations

    owner = conversations.of_return(owned_return(call.who, return_id))
    return lambda: conversations.escalate(owner, call.body.reason, call.who.sub)


@endpoint(bp, routes.OPS_INBOX)
def inbox(call: Call) -> dict:
    from returns_core.usecases import conversations

    lead = call.who.lead or call.query(schemas.InboxQuery).lead == "true"
    return {"items": conversations.inbox(lead=lead)}


@endpoint(bp, routes.OPS_REPLIES)
def replies(call: Call) -> dict:
    from returns_core.usecases import ready_replies

    return {"items": ready_replies.listing(call.query(schemas.RepliesQuery).locale)}


@endpoint(bp, routes.EDIT_REPLY)
def edit_reply(call: Call, reply_id: str) -> dict:
    from returns_core.usecases import ready_replies

    req = call.body
    return ready_replies.edit(reply_id, req.locale, req.title, req.body, call.who.sub)


@endpoint(bp, routes.SATISFACTION)
def satisfaction(call: Call) -> dict:
    from returns_core.usecases import satisfaction

    q = call.query(schemas.DateRange)
    if q.from_ is None or q.to is None:
        raise ApiError(400, "invalid_request", "from and to are required (YYYY-MM-DD)",
                       field="from" if q.from_ is None else "to")
    return satisfaction.figures(q.from_, q.to)
