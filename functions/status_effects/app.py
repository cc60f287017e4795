"""Carry out what follows a return's move, handed over by the API (outbound/deferred_effects.py): the
domain event, the customer's message, the ops alert, then the workflow's resume. Invoked asynchronously:
Lambda retries a failed invocation and sends one that keeps failing to the on-failure queue."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from returns_core.edge.steps import Step
from returns_core.usecases import lifecycle

if TYPE_CHECKING:
    from returns_core.edge.step_events import StatusEffectsInput

step = Step("StatusEffectsInput")   # Logger, Metrics; Tracer and the parser join at the first event
logger, metrics = step.logger, step.metrics


@step
def handler(event: StatusEffectsInput, context: LambdaContext) -> dict:
    logger.append_keys(return_id=event.return_id, previous=event.previous, status=event.status)
    lifecycle.carry_out_handed_over(event.return_id, event.previous, event.status, event.token)
    logger.info("status effects carried out")
    metrics.add_metric(name="StatusEffectsCarriedOut", unit=MetricUnit.Count, value=1)
    return {"status": event.status}
