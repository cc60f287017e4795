"""Domain errors. The API maps each to one HTTP status in one place."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, details: Any = None, code: str | None = None):
        super().__init__(message)
        self.message, self.field, self.details = message, field, details
        if code:
            self.code = code


class UnauthorizedError(DomainError):
    """The caller's proof (a signature, a link) does not hold."""
    status, code = 401, "unauthorized"


class NotFoundError(DomainError):
    status, code = 404, "not_found"


class ConflictError(DomainError):
    status, code = 409, "conflict"


class UnprocessableError(DomainError):
    status, code = 422, "unprocessable"


class ForbiddenError(DomainError):
    status, code = 403, "forbidden"


class TooManyRequestsError(DomainError):
    status, code = 429, "too_many_requests"


class ServiceUnavailableError(DomainError):
    """A service we depend on refused; nothing was kept, so the same request may be sent again later."""
    status, code = 503, "service_unavailable"

    def __init__(self, message: str, retry_after: int, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ReturnNotFound(NotFoundError):
    def __init__(self, return_id: str):
        super().__init__("return not found", code="return_not_found")
        self.return_id = return_id


class InvalidTransition(ConflictError):
    """The return is not in a status that allows this move."""

    def __init__(self, current: str, wanted: str, message: str | None = None):
        self.current, self.wanted = current, wanted
        super().__init__(message or f"the return is {current}; it cannot become {wanted}", code="invalid_status",
                         details={"status": current})
