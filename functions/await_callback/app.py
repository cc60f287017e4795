"""Park a workflow wait: store its task token on the return, or resume at once if the
return has already moved past the status the wait is for."""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from returns_core import lifecycle, logsafe
from returns_core.step_events import WaitInput

logger = logsafe.install(Logger())  # emails and phone numbers masked in every line
tracer = Tracer()
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=WaitInput)
def handler(event: WaitInput, context: LambdaContext) -> dict:
    logger.append_keys(return_id=event.return_id, wait=event.wait)
    outcome = lifecycle.park(event.return_id, event.wait, event.token)
    logger.info("wait parked", extra={"outcome": outcome})
    return {"outcome": outcome}
