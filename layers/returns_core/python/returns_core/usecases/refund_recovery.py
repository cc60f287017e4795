"""Refunds recover by themselves: a sweeper, run on a schedule in the Settle function, finishes what a
transient fault left unpaid, so no refund waits for a person to press "retry" because Stripe was down
for a minute.

- A return's refund that failed on a transient fault (`refund.failure.transient`: the provider was
  unreachable, the step's retries ran out, another invocation held the lease) is retried the way ops
  retries it (`refund_failed` -> `refunding`, which resumes the workflow's wait, whose Settle step asks
  the provider what it already did under the refund's key before paying), with backoff: the n-th
  automatic retry comes RETRY_BASE_SECONDS * 2^(n-1) after the failure, at most AUTOMATIC_RETRIES
  times; then the refund stays with ops (who is alerted by the failure, as before). A refusal by the
  provider (a card that cannot be refunded) is never retried automatically.
- A claim's refund left `refund_pending` (the API's synchronous call to Settle failed or timed out)
  is paid here, once, under its movement key, after CLAIM_GRACE_SECONDS.
Reads are bounded: one Query per status on the `by_status` index, never a Scan.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ..rules import claims as claim_rules, clock, statuses
from ..rules.errors import ConflictError, InvalidTransition
from ..store.models import ClaimModel, ReturnModel
from . import lifecycle

log = logging.getLogger(__name__)

AUTOMATIC_RETRIES = 5
RETRY_BASE_SECONDS = 300          # 5 min, then 10, 20, 40, 80: about two and a half hours in all
CLAIM_GRACE_SECONDS = 120         # longer than the API's own call to Settle (its Lambda timeout: 30 s)


def retry_due(failed_since: datetime, retries_done: int) -> datetime | None:
    """When the next automatic retry of a refund that failed at `failed_since` is due; None: no more."""
    if retries_done >= AUTOMATIC_RETRIES:
        return None
    return failed_since + timedelta(seconds=RETRY_BASE_SECONDS * (2 ** retries_done))


def sweep(now: datetime | None = None) -> dict:
    """One pass; what it did, by count (no ids: this is logged)."""
    now = now or clock.now()
    retried = _retry_failed_refunds(now)
    paid, waiting = _pay_pending_claims(now)
    return {"refunds_retried": retried, "claims_paid": paid, "claims_waiting": waiting}


def _retry_failed_refunds(now: datetime) -> int:
    retried = 0
    for ret in ReturnModel.load_many(ReturnModel.by_status.query(statuses.REFUND_FAILED)):
        refund = ret.refund or {}
        failure = refund.get("failure") or {}
        if ret.status != statuses.REFUND_FAILED or not failure.get("transient"):
            continue
        done = int(refund.get("automatic_retries") or 0)
        due = retry_due(clock.parse(ret.status_since), done)
        if due is None or now < due:
            continue
        try:
            moved = lifecycle.transition(
                ret, statuses.REFUNDING, actor="system", event="refund.retried_automatically",
                detail={"attempt": done + 1, "of": AUTOMATIC_RETRIES}, allowed_from={statuses.REFUND_FAILED},
                updates=[ReturnModel.refund["automatic_retries"].set(done + 1)])
        except InvalidTransition:
            continue   # ops retried it (or it moved on) meanwhile
        retried += int(moved.changed)
    return retried


def _pay_pending_claims(now: datetime) -> tuple[int, int]:
    from . import claims  # claims -> movements -> ledger: loaded when there is a claim to pay

    paid = waiting = 0
    before = clock.iso(now - timedelta(seconds=CLAIM_GRACE_SECONDS))
    hits = ClaimModel.by_status.query(claim_rules.REFUND_PENDING, ClaimModel.status_since <= before)
    for claim in ClaimModel.load_many(hits):
        try:
            claims.pay_refund(claim.claim_id)
            paid += 1
        except (ConflictError, InvalidTransition) as exc:   # paid meanwhile, or another invocation is paying
            log.info("claim refund not swept now", extra={"claim_id": claim.claim_id, "why": type(exc).__name__})
            waiting += 1
        except Exception as exc:  # noqa: BLE001 - one claim's provider error never stops the others
            log.warning("claim refund failed in the sweep", extra={"claim_id": claim.claim_id,
                                                                     "error": type(exc).__name__})
            waiting += 1
    return paid, waiting
