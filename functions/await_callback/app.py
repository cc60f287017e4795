"""Park a workflow wait: store its task token on the return, or resume at once if the
return has already moved past the status the wait is for."""
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
    outcome = lifecycle.park(event.return_id, event.wait, event.token)
    logger.info("wait parked", extra={"outcome": outcome})
    # "resumed": the event came before the wait; many of those mean the API outruns the workflow.
    metrics.add_metric(name="WaitsParked" if outcome == "parked" else "WaitsResumedAtOnce",
                       unit=MetricUnit.Count, value=1)
    return {"outcome": outcome}
