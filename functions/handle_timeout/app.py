"""A workflow wait ran out (or a refund failed): remind, expire, declare lost, alert, close."""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from returns_core import logsafe, timeouts
from returns_core.step_events import TimeoutInput

logger = logsafe.install(Logger())  # emails and phone numbers masked in every line
tracer = Tracer()
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=TimeoutInput)
def handler(event: TimeoutInput, context: LambdaContext) -> dict:
    logger.append_keys(return_id=event.return_id, kind=event.kind)
    status = timeouts.handle(event.return_id, event.kind, event.error)
    metrics.add_dimension(name="kind", value=event.kind)
    metrics.add_metric(name="WaitsTimedOut", unit=MetricUnit.Count, value=1)
    return {"status": status}
