"""Make the emulator answer an AWS call with an error, as AWS itself sometimes does.

The built functions run in their own processes (infra/local/workers.py), so a test cannot reach
into their code; it can make AWS misbehave, which is what really happens: SES throttles, a
DynamoDB transaction is cancelled. `fail("ses", "SendTemplatedEmail", "Throttling", ...)` makes
moto answer the next matching request with that error, serialised for the service's protocol,
whether it came over HTTP from a worker or from this process.
"""
from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

_lock = threading.Lock()
_original: Callable | None = None


@dataclass
class Fault:
    service: str            # boto3's service name: "ses", "dynamodb", "stepfunctions"
    action: str             # the API operation: "SendTemplatedEmail"
    code: str
    message: str
    times: int = 1
    when: Callable[[str], bool] | None = None   # on the request's raw body
    hits: list[str] = field(default_factory=list)


_faults: list[Fault] = []


def _text(body) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, (bytes, bytearray)):
        return body.decode("utf-8", "replace")
    return json.dumps(body, default=str)   # moto has already parsed some bodies


def _matching(response) -> Fault | None:
    try:
        service, action = response.boto3_service_name, response._get_action()
    except Exception:   # noqa: BLE001 - a request moto cannot name is never one we fail
        return None
    with _lock:
        for fault in _faults:
            if fault.service != service or fault.action != action or len(fault.hits) >= fault.times:
                continue
            body = _text(response.body)
            if fault.when is not None and not fault.when(body):
                continue
            fault.hits.append(body)
            return fault
    return None


def _call_action(self):
    fault = _matching(self)
    if fault is None:
        return _original(self)
    # JSON protocols (DynamoDB, Step Functions) name the action in X-Amz-Target; query ones (SES,
    # SNS) answer AWS's XML error document.
    if self.headers.get("X-Amz-Target") or self.headers.get("x-amz-target"):
        body = json.dumps({"__type": fault.code, "message": fault.message})
        content_type = "application/x-amz-json-1.0"
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(fault.code)}</Code>"
                f"<Message>{escape(fault.message)}</Message></Error>"
                f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
        content_type = "text/xml"
    return 400, {"status": 400, "Content-Type": content_type, "X-Amzn-ErrorType": fault.code}, body


def _install() -> None:
    global _original
    from moto.core.responses import BaseResponse

    if _original is None:
        _original = BaseResponse.call_action
        BaseResponse.call_action = _call_action


@contextlib.contextmanager
def fail(service: str, action: str, code: str, message: str = "injected by the test", times: int = 1,
         when: Callable[[str], bool] | None = None) -> Iterator[Fault]:
    """While the block runs, the next `times` matching requests fail with `code`."""
    _install()
    fault = Fault(service, action, code, message, times, when)
    with _lock:
        _faults.append(fault)
    try:
        yield fault
    finally:
        with _lock:
            _faults.remove(fault)
