"""Conversations in the conversations table: a conversation's state, its messages, the inbox, the ready-made
replies as edited, and the day partitions satisfaction reads.

A message is put on the condition that it does not exist, in one transaction with the conversation's
versioned state (its count, the inbox fields): two writers that read the same count race, the loser
reads again (store.writes.transact). Every read is a GetItem or a Query with a limit.
"""
from __future__ import annotations

from collections.abc import Callable

from pynamodb.transactions import TransactWrite

from .. import aws
from ..rules import conversations as rules
from ..rules.errors import ConflictError
from . import writes
from .models import ConversationModel, FeedbackModel, MessageModel, ReplyModel

INBOX_OPEN = "open"
MAX_INBOX = 200   # one page of the inbox; the sweep pages on


def _message_key(seq: int) -> str:
    return f"m#{seq:06d}"


def state(conversation: str) -> ConversationModel | None:
    try:
        return ConversationModel.get(conversation, "state", consistent_read=True)
    except ConversationModel.DoesNotExist:
        return None


def fresh(conversation: str, *, order_id: str, locale: str, return_id: str | None = None,
          claim_id: str | None = None) -> ConversationModel:
    return ConversationModel(conversation, "state", order_id=order_id, locale=locale or "en",
                             return_id=return_id, claim_id=claim_id, message_count=0)


def append(load: Callable[[], ConversationModel], message: dict,
           change: Callable[[ConversationModel], list[FeedbackModel]]) -> tuple[ConversationModel, MessageModel]:
    """Write `message` as the conversation's next one, with `change(conv)` applied to its state (and the
    feedback items it returns put alongside), in one transaction; retried on a lost race."""
    def attempt() -> tuple[ConversationModel, MessageModel]:
        conv = load()
        seq = int(conv.message_count or 0) + 1
        if seq > rules.MAX_MESSAGES:
            raise ConflictError("this conversation is full; ops can open a claim", code="conversation_full")
        item = MessageModel(conv.conversation, _message_key(seq), **message)
        conv.message_count = seq
        extra = change(conv)
        with TransactWrite(connection=aws.dynamodb_connection()) as tx:
            tx.save(conv)   # + the version condition (created: it does not exist)
            tx.save(item, condition=MessageModel.item.does_not_exist())
            for feedback in extra:
                tx.save(feedback, condition=FeedbackModel.item.does_not_exist())
        return conv, item

    return writes.transact(attempt, busy=lambda: ConflictError(
        "the conversation is changing too fast; try again", code="conversation_busy"))


def update_state(conversation: str, change: Callable[[ConversationModel], bool]) -> ConversationModel | None:
    """Apply `change` to the state (it says whether it changed anything) with the version condition,
    read again on a lost race. None when there is no conversation."""
    for _ in range(writes.MAX_ATTEMPTS):
        conv = state(conversation)
        if conv is None:
            return None
        if not change(conv):
            return conv
        try:
            conv.save()
            return conv
        except Exception as exc:
            if not writes.is_conflict(exc):
                raise
    raise ConflictError("the conversation is changing too fast; try again", code="conversation_busy")


def messages(conversation: str) -> list[MessageModel]:
    """Oldest first, at most rules.MAX_MESSAGES (what a conversation may hold)."""
    return list(MessageModel.query(conversation, MessageModel.item.startswith("m#"), consistent_read=True,
                                   limit=rules.MAX_MESSAGES))


def inbox(limit: int = MAX_INBOX, after: dict | None = None):
    """Conversations waiting for an answer, the longest wait first (the sparse `inbox` index)."""
    return ConversationModel.inbox_index.query(INBOX_OPEN, limit=limit, last_evaluated_key=after)


# ---------------------------------------------------------------- ready-made replies as edited

def edited_replies(locale: str) -> list[ReplyModel]:
    return list(ReplyModel.query(f"replies#{locale}", limit=200))


def save_reply(locale: str, reply_id: str, title: str, body: str, by: str, at: str) -> ReplyModel:
    reply = ReplyModel(f"replies#{locale}", reply_id, title=title, body=body, updated_by=by, updated_at=at)
    reply.save()   # an edit replaces the last one: the latest text is the reply
    return reply


# ---------------------------------------------------------------- satisfaction's day partitions

def feedback(kind: str, day: str, item: str, at: str, **values) -> FeedbackModel:
    return FeedbackModel(f"{kind}#{day}", item, at=at, **values)


def put_once(entry: FeedbackModel) -> bool:
    """True if this put it; False if it was there already (a repeated answer)."""
    try:
        entry.save(condition=FeedbackModel.item.does_not_exist())
        return True
    except Exception as exc:
        if writes.is_conflict(exc):
            return False
        raise


def feedback_of_day(kind: str, day: str) -> list[FeedbackModel]:
    return list(FeedbackModel.query(f"{kind}#{day}", limit=10_000))
