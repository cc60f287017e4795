"""Every failure becomes api.md's error envelope here, and only here.

`{"error": {"code", "message", "details"}}`; `details` is a dict whose `field` names
the offending input (e.g. "items[0].qty") when there is one. Domain errors carry their
own status; a carrier's refusal and a write that lost a race are mapped in `to_response`.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from chalice import ChaliceViewError, Response
from pydantic import ValidationError

log = logging.getLogger("returns.api")

# pydantic error types meaning "the shape or a type is wrong" (400); anything else about
# a well-formed value (an enum, a range, a length, a pattern) is "not allowed" (422).
_SHAPE_ERRORS = frozenset({"missing", "extra_forbidden", "json_invalid", "json_type", "model_type",
                           "model_attributes_type", "dataclass_type", "is_instance_of", "none_required",
                           "no_such_attribute", "union_tag_invalid", "union_tag_not_found"})


class ApiError(Exception):
    """An HTTP error raised by the edge itself (auth, parsing, idempotency)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None, **details: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers
        self.details = {"field": field, **details}


def envelope(status: int, code: str, message: str, details: Any = None,
             headers: dict[str, str] | None = None) -> Response:
    return Response(body={"error": {"code": code, "message": message, "details": details}},
                    status_code=status, headers={"Content-Type": "application/json", **(headers or {})})


def field_path(loc: tuple) -> str:
    """("items", 0, "qty") -> "items[0].qty"."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_response(exc: ValidationError, prefix: tuple = ()) -> Response:
    raw = exc.errors(include_url=False, include_input=True, include_context=False)
    errors = [{"field": field_path(prefix + tuple(e["loc"])) or None, "code": e["type"], "message": e["msg"]}
              for e in raw]
    # A JSON number where an integer is expected (12.5, 1e400) is well-formed but not allowed: 422.
    number_for_int = [e["type"] in ("int_type", "int_from_float") and isinstance(e.get("input"), float)
                      for e in raw]
    shape = any((e["code"] in _SHAPE_ERRORS or e["code"].endswith(("_type", "_parsing"))) and not number
                for e, number in zip(errors, number_for_int, strict=True))
    status, code = (400, "invalid_request") if shape else (422, "invalid_value")
    first = errors[0] if errors else {"field": None, "message": "invalid input"}
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return envelope(status, code, message, {"field": first["field"], "errors": errors})


def to_response(exc: BaseException) -> Response:
    """The response for any exception a view lets escape."""
    # Imported lazily: the domain pulls in PynamoDB, which /health does not need.
    from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

    from returns_core.outbound.carriers import CarrierError
    from returns_core.rules.errors import DomainError

    if isinstance(exc, ApiError):
        return envelope(exc.status, exc.code, exc.message, exc.details, exc.headers)
    if isinstance(exc, ValidationError):
        return validation_response(exc)
    if isinstance(exc, DomainError):
        details = {"field": exc.field}
        if isinstance(exc.details, dict):
            details.update(exc.details)
        elif exc.details is not None:
            details["info"] = exc.details
        retry_after = getattr(exc, "retry_after", None)
        return envelope(exc.status, exc.code, exc.message, details,
                        {"Retry-After": str(retry_after)} if retry_after is not None else None)
    if isinstance(exc, CarrierError):
        return envelope(422, "invalid_value", str(exc), {"field": exc.field})
    if isinstance(exc, (PutError, UpdateError)) and \
            getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
        return envelope(409, "conflict", "the record changed while this request ran; please retry", {"field": None})
    if isinstance(exc, TransactWriteError):
        return envelope(409, "conflict", "the records changed while this request ran; please retry", {"field": None})
    if isinstance(exc, ChaliceViewError):
        return envelope(exc.STATUS_CODE, type(exc).__name__, str(exc), {"field": None})
    log.exception("unhandled error", extra={"error_type": type(exc).__name__})
    return envelope(500, "internal_error", "an internal error occurred", None)


def mapped(view: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate every view: whatever it raises leaves as the envelope."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - this is the one place that maps them all
            return to_response(exc)

    return wrapper

