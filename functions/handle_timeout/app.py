"""A workflow wait ran out (or a refund failed): remind, expire, declare lost, alert, close."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from returns_core.edge.steps import Step
from returns_core.usecases import timeouts

if TYPE_CHECKING:
    from returns_core.edge.step_events import TimeoutInput

step = Step("TimeoutInput")   # Logger, Metrics; Tracer and the parser join at the first event
logger, metrics = step.logger, step.metrics


@step
def handler(event: TimeoutInput, context: LambdaContext) -> dict:
    logger.append_keys(return_id=event.return_id, kind=event.kind)
    metrics.add_dimension(name="kind", value=event.kind)
    if event.kind == "withdrawal_clock":   # not a wait that ran out: where a withdrawal stands on its deadline
        return timeouts.withdrawal_clock(event.return_id)
    status = timeouts.handle(event.return_id, event.kind, event.error)
    metrics.add_metric(name="WaitsTimedOut", unit=MetricUnit.Count, value=1)
    return {"status": status}
