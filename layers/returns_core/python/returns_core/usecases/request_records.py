"""The records behind the API's `Idempotency-Key` (functions/api/chalicelib/idempotency.py says what
they guarantee): one per (caller, route, key), claimed before the effect runs, then kept with the
response or released."""
from __future__ import annotations

from pynamodb.exceptions import PutError

from ..store.models import RequestRecordModel


def claim(record_id: str, request_hash: str, hold_until: int, now: int) -> RequestRecordModel | None:
    """The claim, held until `hold_until`; None when another holds the key. An expired record may linger
    until DynamoDB's TTL sweep removes it: it does not count."""
    record = RequestRecordModel(record_id, expiration=hold_until, request_hash=request_hash)
    try:
        record.save(condition=RequestRecordModel.id.does_not_exist() | (RequestRecordModel.expiration < now))
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        return None
    return record


def holder(record_id: str) -> RequestRecordModel | None:
    """The record that holds the key now (None: it just went, released or expired)."""
    try:
        return RequestRecordModel.get(record_id, consistent_read=True)
    except RequestRecordModel.DoesNotExist:
        return None


def keep(record: RequestRecordModel, status: int, body: str, until: int) -> None:
    """The finished response, replayed for the same key until `until`."""
    record.update(actions=[RequestRecordModel.status_code.set(status), RequestRecordModel.expiration.set(until),
                           RequestRecordModel.body.set(body)])


def release(record: RequestRecordModel) -> None:
    record.delete()
