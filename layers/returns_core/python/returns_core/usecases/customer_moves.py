"""What the customer may do to a return: cancel it before drop-off, confirm or dispute the outcome."""
from __future__ import annotations

from ..rules import policy, statuses
from ..store.models import ReturnModel
from . import lifecycle, satisfaction


def cancel(ret: ReturnModel, reason: str | None, actor: str) -> None:
    lifecycle.transition(ret, statuses.CANCELLED, actor=actor, event="return.cancelled",
                         detail={"reason": reason} if reason else None, allowed_from=statuses.CANCELLABLE)


def confirm(ret: ReturnModel, satisfied: bool, comment: str | None, actor: str, score: int | None = None) -> None:
    """`score` (1..5, optional): how satisfied the customer is, kept for satisfaction's figures once."""
    scored = {"score": score} if score is not None else {}
    if ret.status == statuses.RESOLVED:
        # The answer to a resolved dispute's follow-up closes the return either way (api.md); what
        # the customer says is kept for customer service.
        lifecycle.transition(ret, statuses.CLOSED, actor=actor, event="return.confirmed",
                             detail={"satisfied": bool(satisfied), **({"comment": comment} if comment else {}),
                                     **scored},
                             allowed_from={statuses.RESOLVED})
    else:
        status, event = policy.CONFIRMATION_OUTCOMES[bool(satisfied)]
        detail = {**({"comment": comment} if comment else {}), **scored}
        lifecycle.transition(ret, status, actor=actor, event=event, detail=detail or None,
                             allowed_from={statuses.REFUNDED})
    if score is not None:
        satisfaction.record(ret, score)


def dispute(ret: ReturnModel, message: str, actor: str) -> None:
    lifecycle.transition(ret, statuses.DISPUTED, actor=actor, event="return.disputed", detail={"message": message},
                         allowed_from={statuses.REFUNDED})
