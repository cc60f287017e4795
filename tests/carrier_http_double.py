"""A test double of the carriers' HTTP servers, for karrio: nothing leaves the machine.

It replaces the one function karrio's HTTP layer opens connections with (`urlopen` in
karrio.core.utils.helpers), so karrio's own request building, retries, error decoding and parsing all
run; the double records every request and answers with a vendored sample (tests/vendor/karrio/), an
HTTP error with its body, or a timeout. A request it has no answer for fails the test.
"""
from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlsplit

VENDOR = Path(__file__).resolve().parent / "vendor" / "karrio"
# An OAuth2 token answer (RFC 6749 §5.1), what DHL's and GLS's token endpoints give before any label.
TOKEN = b'{"access_token": "double-token", "token_type": "Bearer", "expires_in": 1799}'


def sample(carrier: str, name: str) -> bytes:
    return (VENDOR / carrier / name).read_bytes()


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.url).query)

    def json(self) -> Any:
        return json.loads(self.body)


class _Answer:
    def __init__(self, body: bytes, status: int = 200) -> None:
        self._body, self.status, self.code = body, status, status
        self.headers = Message()

    def read(self) -> bytes:
        return self._body

    def getcode(self) -> int:
        return self.status

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@dataclass
class CarrierHttpDouble:
    """Routes: (a fragment of the URL, what to answer): bytes (200), (status, bytes) or an exception."""
    routes: list[tuple[str, Any]]
    sent: list[Sent] = field(default_factory=list)

    def urlopen(self, request: Any, timeout: float | None = None) -> _Answer:
        data = request.data if isinstance(request.data, bytes) else (request.data or "").encode()
        self.sent.append(Sent(request.get_method(), request.full_url, dict(request.header_items()), data))
        for fragment, answer in self.routes:
            if fragment in request.full_url:
                if isinstance(answer, BaseException):
                    raise answer
                if isinstance(answer, tuple):
                    status, body = answer
                    raise HTTPError(request.full_url, status, "carrier double", Message(), io.BytesIO(body))
                return _Answer(answer)
        raise AssertionError(f"the carrier double has no answer for {request.get_method()} {request.full_url}")

    def to(self, fragment: str) -> Sent:
        found = [s for s in self.sent if fragment in s.url]
        assert len(found) == 1, [s.url for s in self.sent]
        return found[0]


@contextmanager
def carrier_http(monkeypatch: Any, *routes: tuple[str, Any]) -> Iterator[CarrierHttpDouble]:
    import karrio.core.utils.helpers as helpers

    double = CarrierHttpDouble(list(routes))
    monkeypatch.setattr(helpers, "urlopen", double.urlopen)
    yield double
