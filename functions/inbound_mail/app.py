"""A customer's email reply, received by SES on the conversation's reply address: the receipt rule's S3
action stored the MIME message under INBOUND_MAIL_PREFIX, then its Lambda action runs this. The message is
parsed (rules/mail_replies.py) and appended to its conversation, or refused and logged without personal
data (usecases/inbound_mail.py). The local stack runs this same function on the outbox's "Reply"."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from returns_core.edge.steps import Step

if TYPE_CHECKING:
    from returns_core.edge.step_events import InboundMailInput

step = Step("InboundMailInput")
logger, metrics = step.logger, step.metrics


@step
def handler(event: InboundMailInput, context: LambdaContext) -> dict:
    from returns_core.outbound import message_photos
    from returns_core.usecases import inbound_mail

    bucket, prefix = os.environ["INBOUND_MAIL_BUCKET"], os.environ.get("INBOUND_MAIL_PREFIX", "inbound/")
    results = []
    for message_id, recipients, verdicts in event.received():
        raw = message_photos.read_inbound(bucket, f"{prefix}{message_id}")
        result = inbound_mail.receive(raw, recipients, verdicts)
        metrics.add_metric(name="RepliesAppended" if result["accepted"] else "RepliesRefused",
                           unit=MetricUnit.Count, value=1)
        results.append(result)
    logger.info("inbound mail", extra={"received": len(results),
                                       "refused": [r["reason"] for r in results if not r["accepted"]]})
    return {"results": results}


