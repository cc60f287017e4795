"""Issue the prepaid label: carrier tracking number, PDF into S3, return awaits drop-off."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from returns_core.edge.steps import Step
from returns_core.usecases import labels

if TYPE_CHECKING:
    from returns_core.edge.step_events import StepInput

step = Step("StepInput")   # Logger, Metrics; Tracer and the parser join at the first event
logger, metrics = step.logger, step.metrics


@step
def handler(event: StepInput, context: LambdaContext) -> dict:
    logger.append_keys(return_id=event.return_id)
    status = labels.issue(event.return_id)
    metrics.add_metric(name="LabelsIssued", unit=MetricUnit.Count, value=1)
    return {"status": status}
