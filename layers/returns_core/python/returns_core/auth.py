"""Bearer tokens: compact HS256 JWTs, verified in one place.

Customer tokens are minted by the order lookup, scoped to one order and short-lived.
Staff and store tokens: deployed, Cognito issues them; locally `python -m infra.local token`
mints them with the same secret so the same verification code runs everywhere.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from . import secrets

ROLES = ("customer", "store", "warehouse", "finance", "ops")
CUSTOMER_TTL_SECONDS = 2 * 3600


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Principal:
    role: str
    sub: str
    order_id: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secret() -> bytes:
    return secrets.get("TOKEN_SECRET").encode()


def mint(role: str, sub: str, order_id: str | None = None, ttl: int = 12 * 3600, now: float | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    issued = int(now if now is not None else time.time())
    claims = {"role": role, "sub": sub, "iat": issued, "exp": issued + ttl}
    if order_id is not None:
        claims["order_id"] = order_id
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = _b64(hmac.new(secret(), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def verify(token: str, now: float | None = None) -> Principal:
    try:
        head, body, sig = token.split(".")
        expected = hmac.new(secret(), f"{head}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(_unb64(sig), expected):
            raise InvalidToken("bad signature")
        if json.loads(_unb64(head)).get("alg") != "HS256":
            raise InvalidToken("unsupported algorithm")
        claims = json.loads(_unb64(body))
    except InvalidToken:
        raise
    except Exception as exc:  # malformed base64, JSON or shape: all the same to the caller
        raise InvalidToken("malformed token") from exc
    if not isinstance(claims, dict) or claims.get("role") not in ROLES or not isinstance(claims.get("sub"), str):
        raise InvalidToken("bad claims")
    if not isinstance(claims.get("exp"), int) or claims["exp"] < int(now if now is not None else time.time()):
        raise InvalidToken("expired")
    if claims["role"] == "customer" and not isinstance(claims.get("order_id"), str):
        raise InvalidToken("customer token without an order")
    return Principal(claims["role"], claims["sub"], claims.get("order_id"))
