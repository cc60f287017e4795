"""Park a workflow wait: store its task token on the return, or resume at once if the
return has already moved past the status the wait is for; or, entered with a status it does not
wait for, fail with ReturnRerouted so the workflow goes back to its Route choice."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from returns_core.edge.steps import Step
from returns_core.usecases import lifecycle

if TYPE_CHECKING:
    from returns_core.edge.step_events import WaitInput

step = Step("WaitInput")   # Logger, Metrics; Tracer and the parser join at the first event
logger, metrics = step.logger, step.metrics


@step
def handler(event: WaitInput, context: LambdaContext) -> dict:
    logger.append_keys(return_id=event.return_id, wait=event.wait)
    # Raises lifecycle.ReturnRerouted when the wait is entered with a status it does not wait for: the
    # ASL catches it by name and goes to Route (a Lambda error, so it fails the task at once, on AWS and
    # in moto's interpreter alike, without a token to resume).
    try:
        outcome = lifecycle.park(event.return_id, event.wait, event.token, entered_with=event.status,
                                 withdrawal=event.withdrawal)
    except lifecycle.ReturnRerouted:
        logger.info("wait rerouted", extra={"entered_with": event.status})
        metrics.add_metric(name="WaitsRerouted", unit=MetricUnit.Count, value=1)
        raise
    logger.info("wait parked", extra={"outcome": outcome})
    # "resumed": the event came before the wait; many of those mean the API outruns the workflow.
    metrics.add_metric(name="WaitsParked" if outcome == "parked" else "WaitsResumedAtOnce",
                       unit=MetricUnit.Count, value=1)
    return {"outcome": outcome}
