"""Settle an inspected or lost return: approval rule, then the refund, paid and ledgered once."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from returns_core.edge.steps import Step, TransientError
from returns_core.usecases import settlement

if TYPE_CHECKING:
    from returns_core.edge.step_events import StepInput

step = Step("StepInput")   # Logger, Metrics; Tracer and the parser join at the first event
logger, metrics = step.logger, step.metrics


@step
def handler(event: StepInput, context: LambdaContext) -> dict:
    from returns_core.outbound.payments import PaymentError

    logger.append_keys(return_id=event.return_id)
    try:
        outcome = settlement.settle_outcome(event.return_id)
    except settlement.SettleInProgress as exc:
        raise TransientError(str(exc)) from exc   # another invocation holds the provider lease
    except PaymentError as exc:
        if exc.transient:
            raise TransientError(str(exc)) from exc   # Retry in the ASL, same idempotency key
        raise
    # Anything but "refunded" waits for a person: finance's approval or a manual reference.
    metrics.add_metric(name="RefundsIssued" if outcome["status"] == "refunded" else "RefundsWaiting",
                       unit=MetricUnit.Count, value=1)
    return outcome   # {"status", "manual"}: a manual refund waits for finance's reference
