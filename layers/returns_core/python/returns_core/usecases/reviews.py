"""Ops reviews a risky return: approved, it goes on to its label; rejected, it ends."""
from __future__ import annotations

from ..rules import clock, policy, statuses
from ..store import returns
from ..store.models import ReturnModel
from . import lifecycle


def decide(return_id: str, decision: str, note: str | None, actor: str) -> ReturnModel:
    ret = returns.get(return_id)
    target, event = policy.REVIEW_DECISIONS[decision]
    lifecycle.transition(ret, target, actor=actor, event=event, detail={"note": note} if note else None,
                         allowed_from={statuses.IN_REVIEW},
                         updates=[ReturnModel.review.set({"decision": decision, "by": actor,
                                                          "at": clock.iso(), "note": note})])
    return ret
