"""Status effects parked in the dead-letter queue, and replaying them.

What follows a move (its domain event, the customer's message, an ops alert, the workflow's resume) runs
in the StatusEffects function, invoked asynchronously; one that fails three times is parked by Lambda
in `StatusEffectsFailedQueue` as an invocation record (`requestPayload`: the event it was given). Once
the cause is fixed (Step Functions reachable again, a permission deployed), replaying it invokes the
function again with the same event, as Lambda's own retries did: the move's event and message may go out
again (subscribers receive events at least once, which is all SNS promises anyway), and the workflow's
resume happens once (a token already used resumes nothing, usecases/lifecycle.py).

Replay reads the queue, invokes the function for each record, and deletes the record only once Lambda
accepted the new invocation: a replay that stops half-way loses nothing, and a record replayed twice
(its deletion lost) runs the same effects again, harmlessly. A replayed invocation that fails again is
parked again by Lambda, after its own retries.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .. import aws, config

QUEUE_SETTING = "PARKED_EFFECTS_QUEUE_URL"
FUNCTION_SETTING = "STATUS_EFFECTS_FUNCTION"
# SQS hands out at most 10 messages a receive; a replay takes at most this many per call (the API's
# 30 s; the rest stay parked for the next replay).
BATCH = 10
MAX_PER_REPLAY = 200
# A received message is hidden this long: longer than an invoke takes, so a record is not replayed twice
# by two replays at once.
VISIBILITY_SECONDS = 60


@dataclass(frozen=True)
class Parked:
    """One parked invocation, as ops sees it: which return, which move, why it failed (no personal data:
    the event holds ids and statuses only)."""
    return_id: str | None
    previous: str | None
    status: str | None
    failed_at: str | None
    attempts: int | None
    error: str | None

    def to_api(self) -> dict:
        return {"return_id": self.return_id, "previous": self.previous, "status": self.status,
                "failed_at": self.failed_at, "attempts": self.attempts, "error": self.error}


def _parse(body: str) -> tuple[dict, Parked]:
    record = json.loads(body)
    event = record.get("requestPayload") or {}
    context = record.get("requestContext") or {}
    response = record.get("responsePayload") if isinstance(record.get("responsePayload"), dict) else {}
    return event, Parked(event.get("return_id"), event.get("previous"), event.get("status"),
                         record.get("timestamp"), context.get("approximateInvokeCount"),
                         (response or {}).get("errorType")
                         or (record.get("responseContext") or {}).get("functionError"))


def count(queue_url: str | None = None, sqs: Any = None) -> int:
    """How many invocations are parked (SQS's approximate count, as its alarm reads it)."""
    sqs = sqs or aws.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url or config.setting(QUEUE_SETTING),
                                          AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def replay(queue_url: str | None = None, function: str | None = None, sqs: Any = None, lambda_client: Any = None,
           limit: int = MAX_PER_REPLAY) -> dict:
    """Invoke the function again for up to `limit` parked records; what was replayed (no ids: logged)."""
    queue_url = queue_url or config.setting(QUEUE_SETTING)
    sqs = sqs or aws.client("sqs")
    lambda_client = lambda_client or aws.client("lambda")
    replayed: list[Parked] = []
    unreadable = 0
    while len(replayed) + unreadable < limit:
        left = limit - len(replayed) - unreadable
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=min(BATCH, left),
                                  VisibilityTimeout=VISIBILITY_SECONDS).get("Messages", [])
        if not got:
            break
        for message in got:
            try:
                event, parked = _parse(message["Body"])
            except (ValueError, AttributeError):
                unreadable += 1   # not an invocation record: left for a person to read (it reappears)
                continue
            function = function or config.setting(FUNCTION_SETTING)
            lambda_client.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(event).encode())
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            replayed.append(parked)
    return {"replayed": len(replayed), "unreadable": unreadable, "items": [p.to_api() for p in replayed]}
