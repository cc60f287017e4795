"""Reading request bodies and query strings into the schemas, with api.md's statuses."""
from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel

from .errors import ApiError

MAX_BODY_BYTES = 256 * 1024
M = TypeVar("M", bound=BaseModel)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def raw(request: Any) -> bytes:
    body = request.raw_body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"the body may be at most {MAX_BODY_BYTES} bytes",
                       limit=MAX_BODY_BYTES)
    return body


def json_of(body: bytes, empty_ok: bool = False) -> Any:
    if not body.strip():
        if empty_ok:
            return {}
        raise ApiError(400, "invalid_json", "a JSON body is required")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:  # [[[[...]]]] nested deeper than the parser's stack (was a 500)
        raise ApiError(400, "invalid_json", "the body is nested too deeply") from None


def parse_body(body: bytes, model: type[M], empty_ok: bool = False) -> M:
    """The body (bodies.raw: at most MAX_BODY_BYTES) as `model`: 400 malformed or wrong types, 422 values
    not allowed."""
    data = json_of(body, empty_ok)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object")
    return model.model_validate(data)  # ValidationError is mapped by errors.to_response


def query(request: Any, model: type[M]) -> M:
    params = request.query_params or {}
    values = {k: params.get(k) for k in params}  # MultiDict.get: the last value of a repeated name
    return model.model_validate(values)
