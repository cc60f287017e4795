"""Domain events for the store's systems and alerts for ops, both on SNS.

Event messages carry ids and amounts, never personal data; the message attributes
(`event_type`, `status`, `resolution`) let subscribers filter.
"""
from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from .. import aws, config
from ..rules import clock

if TYPE_CHECKING:
    from ..store.models import ClaimModel, ReturnModel

log = logging.getLogger(__name__)


def publish(event_type: str, ret: ReturnModel, data: dict | None = None) -> None:
    body = {"type": event_type, "at": clock.iso(), "return_id": ret.return_id, "order_id": ret.order_id,
            "status": ret.status, "resolution": ret.resolution, "currency": ret.currency, "data": data or {}}
    aws.client("sns").publish(
        TopicArn=config.setting("EVENTS_TOPIC_ARN"), Message=json.dumps(body),
        MessageAttributes={
            "event_type": {"DataType": "String", "StringValue": event_type},
            "status": {"DataType": "String", "StringValue": ret.status},
            "resolution": {"DataType": "String", "StringValue": ret.resolution},
        })


def publish_claim(event_type: str, claim: ClaimModel, data: dict | None = None) -> None:
    """A claim's event (`claim.reship_requested`: the store sends the lines again), filterable as a
    return's by `event_type` and `status`; ids, skus and quantities only."""
    body = {"type": event_type, "at": clock.iso(), "claim_id": claim.claim_id, "order_id": claim.order_id,
            "status": claim.status, "kind": claim.kind, "currency": claim.currency, "data": data or {}}
    aws.client("sns").publish(
        TopicArn=config.setting("EVENTS_TOPIC_ARN"), Message=json.dumps(body),
        MessageAttributes={
            "event_type": {"DataType": "String", "StringValue": event_type},
            "status": {"DataType": "String", "StringValue": claim.status},
        })


def alert_ops(kind: str, ret: ReturnModel | None, message: str, data: dict | None = None) -> None:
    body = {"type": kind, "at": clock.iso(), "message": message, "data": data or {},
            "return_id": ret.return_id if ret else None, "status": ret.status if ret else None}
    aws.client("sns").publish(
        TopicArn=config.setting("OPS_TOPIC_ARN"), Subject=f"[returns] {kind}"[:99], Message=json.dumps(body),
        MessageAttributes={"alert_type": {"DataType": "String", "StringValue": kind}})
    log.warning("ops alerted", extra={"alert": kind, "return_id": body["return_id"]})
