"""Issue the prepaid label: carrier tracking number, PDF into S3, return awaits drop-off."""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from returns_core import labels, logsafe
from returns_core.step_events import StepInput

logger = logsafe.install(Logger())  # emails and phone numbers masked in every line
tracer = Tracer()
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=StepInput)
def handler(event: StepInput, context: LambdaContext) -> dict:
    logger.append_keys(return_id=event.return_id)
    status = labels.issue(event.return_id)
    metrics.add_metric(name="LabelsIssued", unit=MetricUnit.Count, value=1)
    return {"status": status}
