"""Issue the prepaid label: carrier tracking number, PDF into S3, return awaits drop-off."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from returns_core.edge.steps import Step
from returns_core.usecases import labels, lifecycle

if TYPE_CHECKING:
    from returns_core.edge.step_events import LabelInput

step = Step("LabelInput")   # Logger, Metrics; Tracer and the parser join at the first event
logger, metrics = step.logger, step.metrics


@step
def handler(event: LabelInput, context: LambdaContext) -> dict:
    logger.append_keys(return_id=event.return_id)
    # The execution's first state: a return with no label to issue (under review, kept by the customer,
    # resumed in a later status) raises lifecycle.ReturnRerouted, which the ASL catches by name: Route.
    try:
        status = labels.issue(event.return_id, entered_with=event.status, keep_item=event.keep_item)
    except lifecycle.ReturnRerouted:
        logger.info("label step rerouted", extra={"entered_with": event.status})
        raise
    metrics.add_metric(name="LabelsIssued", unit=MetricUnit.Count, value=1)
    return {"status": status}
