"""Settle an inspected or lost return: approval rule, then the refund, paid and ledgered once.

Also the other money movements of the workflow (`{"return_id", "movement": "adjustment"}`: a resolved
dispute's adjustment refund), since only this function may write the ledger.

Also a claim's refund (`{"claim_refund": {"claim_id"}}`, asked by the API synchronously: a claim has no
workflow): paid once under the claim's movement key, as a `claim` ledger entry.

Also the refund sweeper (`{"refund_sweep": {}}`, on the template's schedule): refunds a transient fault
left unpaid are retried, claims' refunds left pending are paid (usecases/refund_recovery.py).

Also the ledger's check: this function alone holds the ledger key, so the API's
`/finance/ledger/verify` asks it (an event `{"ledger_verify": {"days": [...] | null}}`: a range of days
read live; without days, a run of the verification job, store/ledger_jobs.py). And the ledger's two
scheduled jobs: the anchor over every chain's head (`{"ledger_anchor": {}}`) and the incremental
verification (`{"ledger_verify_run": {}}`), on the template's schedules."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from returns_core.edge.steps import PaymentInProgress, Step, TransientError
from returns_core.usecases import ledger_audit, movements, settlement

if TYPE_CHECKING:
    from returns_core.edge.step_events import ClaimRefundInput, LedgerVerifyInput, MovementInput, StepInput, SweepInput

VERIFY_REQUEST = "ledger_verify"   # returns_core.outbound.ledger_verifier.REQUEST
CLAIM_REQUEST = "claim_refund"     # returns_core.outbound.claim_payer.REQUEST
SWEEP_REQUEST = "refund_sweep"     # template.yaml, SettleFunction's RefundSweep schedule
ANCHOR_REQUEST = "ledger_anchor"   # template.yaml, SettleFunction's LedgerHeadsAnchor schedule
VERIFY_RUN_REQUEST = "ledger_verify_run"   # template.yaml, SettleFunction's LedgerVerification schedule

step = Step("StepInput")   # Logger, Metrics; Tracer and the parser join at the first event
verify_step = Step("LedgerVerifyInput", like=step)
movement_step = Step("MovementInput", like=step)
claim_step = Step("ClaimRefundInput", like=step)
sweep_step = Step("SweepInput", like=step)
anchor_step = Step("SweepInput", like=step)
verify_run_step = Step("SweepInput", like=step)
logger, metrics = step.logger, step.metrics


@step
def settle_return(event: StepInput, context: LambdaContext) -> dict:
    from returns_core.outbound.payments import PaymentError

    logger.append_keys(return_id=event.return_id)
    try:
        outcome = settlement.settle_outcome(event.return_id)
    except movements.PaymentInProgress as exc:
        raise PaymentInProgress(str(exc)) from exc   # retried past the lease: a crashed holder's is finished
    except settlement.RETRYABLE as exc:
        # Another invocation holds the provider lease, or other refunds kept winning the order or the
        # ledger's head: run again by the ASL's Retry, never refund_failed for a lost race.
        raise TransientError(str(exc)) from exc
    except PaymentError as exc:
        if exc.transient:
            raise TransientError(str(exc)) from exc   # Retry in the ASL, same idempotency key
        raise
    # Anything but "refunded" waits for a person: finance's approval or a manual reference.
    metrics.add_metric(name="RefundsIssued" if outcome["status"] == "refunded" else "RefundsWaiting",
                       unit=MetricUnit.Count, value=1)
    return outcome   # {"status", "manual"}: a manual refund waits for finance's reference


@movement_step
def pay_movement(event: MovementInput, context: LambdaContext) -> dict:
    from returns_core.outbound.payments import PaymentError
    from returns_core.usecases import disputes

    logger.append_keys(return_id=event.return_id, movement=event.movement)
    try:
        outcome = disputes.pay_adjustment(event.return_id)
    except movements.PaymentInProgress as exc:
        raise PaymentInProgress(str(exc)) from exc
    except settlement.RETRYABLE as exc:   # the order or the ledger's head busy (the lease's case is above)
        raise TransientError(str(exc)) from exc
    except PaymentError as exc:
        if exc.transient:
            raise TransientError(str(exc)) from exc   # Retry in the ASL, same idempotency key
        raise
    if outcome["adjustment"] == "succeeded":
        metrics.add_metric(name="AdjustmentsPaid", unit=MetricUnit.Count, value=1)
    return outcome   # {"status", "adjustment"}


@claim_step
def pay_claim(event: ClaimRefundInput, context: LambdaContext) -> dict:
    from returns_core.usecases import claims

    logger.append_keys(claim_id=event.claim_id)
    outcome = claims.pay_refund(event.claim_id)   # any failure: the API sees a FunctionError, the claim waits
    metrics.add_metric(name="ClaimRefundsPaid", unit=MetricUnit.Count, value=1)
    return outcome   # {"claim_id", "status", "refund": "succeeded"}


@sweep_step
def sweep_refunds(event: SweepInput, context: LambdaContext) -> dict:
    from returns_core.usecases import refund_recovery

    done = refund_recovery.sweep()
    metrics.add_metric(name="RefundsRetriedAutomatically", unit=MetricUnit.Count, value=done["refunds_retried"])
    metrics.add_metric(name="ClaimRefundsSwept", unit=MetricUnit.Count, value=done["claims_paid"])
    logger.info("refund sweep", extra=done)
    return done


def _report(verdict: dict) -> dict:
    if not verdict["ok"]:
        # An alarm on this metric pages ops: the ledger was edited outside the Settle step.
        # Ids and the reason only (an order's id is no personal data; the verdict never carries any).
        logger.error("ledger check failed", extra={"first_bad_seq": verdict["first_bad_seq"],
                                                   "reason": verdict["reason"], "order_id": verdict.get("order_id"),
                                                   "record": verdict.get("record"), "chain": verdict.get("chain")})
        metrics.add_metric(name="LedgerTampered", unit=MetricUnit.Count, value=1)
    return verdict


@verify_step
def verify_ledger(event: LedgerVerifyInput, context: LambdaContext) -> dict:
    days = event.day_strings()
    return _report(ledger_audit.verify(days) if days is not None else ledger_audit.check_now())


@anchor_step
def anchor_heads(event: SweepInput, context: LambdaContext) -> dict:
    done = ledger_audit.anchor_heads()
    logger.info("ledger heads anchored", extra=done)
    return done


@verify_run_step
def run_verification(event: SweepInput, context: LambdaContext) -> dict:
    return _report(ledger_audit.run_verification())


def handler(event: Any, context: LambdaContext) -> dict:
    if isinstance(event, dict) and VERIFY_REQUEST in event:
        return verify_ledger(event[VERIFY_REQUEST], context)
    if isinstance(event, dict) and ANCHOR_REQUEST in event:
        return anchor_heads(event[ANCHOR_REQUEST], context)
    if isinstance(event, dict) and VERIFY_RUN_REQUEST in event:
        return run_verification(event[VERIFY_RUN_REQUEST], context)
    if isinstance(event, dict) and SWEEP_REQUEST in event:
        return sweep_refunds(event[SWEEP_REQUEST], context)
    if isinstance(event, dict) and CLAIM_REQUEST in event:
        return pay_claim(event[CLAIM_REQUEST], context)
    if isinstance(event, dict) and "movement" in event:
        return pay_movement(event, context)
    return settle_return(event, context)
