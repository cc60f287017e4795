"""Carry out what follows a return's move, handed over by the API (outbound/deferred_effects.py): the
domain event, the customer's message, the ops alert, then the workflow's resume. Invoked asynchronously:
Lambda retries a failed invocation and sends one that keeps failing to the on-failure queue.

Also SES's bounces, complaints and rejects (the mail events topic, template.yaml `MailEvents`): the
return's or claim's timeline says which message did not arrive, and ops is told (usecases/mail_events.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from returns_core.edge.steps import Step
from returns_core.usecases import lifecycle

if TYPE_CHECKING:
    from returns_core.edge.step_events import MailEventsInput, StatusEffectsInput

step = Step("StatusEffectsInput")   # Logger, Metrics; Tracer and the parser join at the first event
mail_step = Step("MailEventsInput", like=step)
logger, metrics = step.logger, step.metrics


def handler(event: Any, context: LambdaContext) -> dict:
    if isinstance(event, dict) and "Records" in event:   # SNS: the mail events topic
        return mail_events(event, context)
    return carry_out(event, context)


@mail_step
def mail_events(event: MailEventsInput, context: LambdaContext) -> dict:
    from returns_core.usecases import mail_events as mail

    recorded = [why for why in map(mail.handle, event.ses_events()) if why]
    metrics.add_metric(name="EmailsUndelivered", unit=MetricUnit.Count, value=len(recorded))
    logger.info("mail events", extra={"records": len(event.Records), "undelivered": len(recorded)})
    return {"undelivered": recorded}


@step
def carry_out(event: StatusEffectsInput, context: LambdaContext) -> dict:
    logger.append_keys(return_id=event.return_id, previous=event.previous, status=event.status)
    lifecycle.carry_out_handed_over(event.return_id, event.previous, event.status, event.token)
    logger.info("status effects carried out")
    metrics.add_metric(name="StatusEffectsCarriedOut", unit=MetricUnit.Count, value=1)
    return {"status": event.status}
