"""What the customer may do to a return: cancel it before drop-off, confirm or dispute the outcome."""
from __future__ import annotations

from ..rules import policy, statuses
from ..store.models import ReturnModel
from . import lifecycle


def cancel(ret: ReturnModel, reason: str | None, actor: str) -> None:
    lifecycle.transition(ret, statuses.CANCELLED, actor=actor, event="return.cancelled",
                         detail={"reason": reason} if reason else None, allowed_from=statuses.CANCELLABLE)


def confirm(ret: ReturnModel, satisfied: bool, comment: str | None, actor: str) -> None:
    status, event = policy.CONFIRMATION_OUTCOMES[bool(satisfied)]
    lifecycle.transition(ret, status, actor=actor, event=event, detail={"comment": comment} if comment else None,
                         allowed_from={statuses.REFUNDED})


def dispute(ret: ReturnModel, message: str, actor: str) -> None:
    lifecycle.transition(ret, statuses.DISPUTED, actor=actor, event="return.disputed", detail={"message": message},
                         allowed_from={statuses.REFUNDED})
