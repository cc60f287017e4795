"""`Idempotency-Key` on POSTs: the same key and body give the same response, one effect.

A record per (principal, route, key) is claimed with a conditional put before the
effect runs, so two racing requests cannot both run it: the loser gets 409
`request_in_progress`. The finished response is stored for 24 h (TTL `expiration`).
Responses meaning "try again" (409, 429, 5xx) are not kept: the claim is released so
the client can retry with the same key.

A claim still "in progress" lasts IN_PROGRESS_SECONDS only (longer than the API function may run): a
request whose function died mid-way (a crash, a timeout) leaves a claim nobody will finish, and the
same request sent again after that runs again. It then finds what the first run made: the ids the
effect makes are derived from the record (rules/ids.py `seeded`), and the use cases answer with the
return or claim that already has that id.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from typing import Any

from chalice import Response

from .errors import ApiError, to_response

HEADER = "Idempotency-Key"
TTL_SECONDS = 24 * 3600
# The API function's timeout is 30 s (template.yaml Globals): a claim older than this has no live runner.
IN_PROGRESS_SECONDS = 60
KEY_MAX_LENGTH = 255
# Printable ASCII without space; /openapi.json states the same pattern (a JSON Schema / ECMA 262 regex too).
KEY_PATTERN = rf"^[\x21-\x7e]{{1,{KEY_MAX_LENGTH}}}$"
_KEY = re.compile(KEY_PATTERN)
_NOT_KEPT = frozenset({409, 429})


def _record_id(request: Any, who: str, key: str) -> str:
    params = "&".join(f"{k}={v}" for k, v in sorted((request.uri_params or {}).items()))
    scope = f"{who}\n{request.method} {request.path}?{params}\n{key}"
    return "idem:" + hashlib.sha256(scope.encode()).hexdigest()


def _fingerprint(body: bytes) -> str:
    """JSON bodies compare by content, so re-serialising the same body is still 'the same'."""
    try:
        canon = json.dumps(json.loads(body or b"{}"), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canon = body
    return hashlib.sha256(canon).hexdigest()


def _as_response(result: Any) -> Response:
    return result if isinstance(result, Response) else Response(body=result, status_code=200)


def _replay(record: Any) -> Response:
    return Response(body=json.loads(record.body), status_code=int(record.status_code),
                    headers={"Content-Type": "application/json", "Idempotent-Replayed": "true"})


def run(request: Any, who: str, body: bytes, effect: Callable[[], Any]) -> Response:
    """Run `effect` once per key; without the header, just run it."""
    key = request.headers.get(HEADER.lower())
    if key is None:
        return _as_response(effect())
    if not _KEY.fullmatch(key):   # fullmatch: `$` alone would let a trailing newline through
        raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1-255 printable ASCII characters",
                       field=HEADER)

    from returns_core.rules import ids
    from returns_core.usecases import request_records

    record_id, fingerprint, now = _record_id(request, who, key), _fingerprint(body), int(time.time())
    claim = request_records.claim(record_id, fingerprint, now + IN_PROGRESS_SECONDS, now)
    if claim is None:
        existing = request_records.holder(record_id)
        if existing is None:
            raise ApiError(409, "request_in_progress", "a request with this Idempotency-Key just finished; retry")
        if existing.request_hash != fingerprint:
            raise ApiError(422, "idempotency_key_reused",
                           "this Idempotency-Key was used with a different request body", field=HEADER)
        if existing.status_code is None:
            raise ApiError(409, "request_in_progress", "a request with this Idempotency-Key is still running",
                           field=HEADER, headers={"Retry-After": "1"})
        return _replay(existing)

    try:
        with ids.seeded(record_id):
            response = _as_response(effect())
    except Exception as exc:  # noqa: BLE001 - mapped here so the outcome can be kept or released
        response = to_response(exc)
    status = int(response.status_code)
    if status >= 500 or status in _NOT_KEPT or not isinstance(response.body, (dict, list)):
        request_records.release(claim)
    else:
        request_records.keep(claim, status, json.dumps(response.body, separators=(",", ":")),
                             int(time.time()) + TTL_SECONDS)
    return response
