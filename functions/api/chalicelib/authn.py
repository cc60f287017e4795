"""Who is calling: bearer tokens for people, an HMAC signature for the carrier.

`principal()` is the one gate every protected route passes. Customer tokens are
scoped to one order; `owned_return` / `check_order` turn another order's data into
the same 404 an unknown id gets, so ids cannot be probed.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from returns_core.edge import auth

from .errors import ApiError

log = logging.getLogger("returns.api")

STAFF = frozenset({"warehouse", "finance", "ops"})
SIGNATURE_HEADER = "X-Carrier-Signature"


def principal(request: Any, roles: set[str] | frozenset[str]) -> auth.Principal:
    header = (request.headers.get("authorization") or "").strip()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "a bearer token is required",
                       headers={"WWW-Authenticate": 'Bearer realm="returns"'})
    try:
        who = auth.verify(token.strip())
    except auth.InvalidToken:
        raise ApiError(401, "unauthorized", "the token is invalid or has expired") from None
    if who.role not in roles:
        raise ApiError(403, "forbidden", "this token's role may not do this")
    return who


def check_order(who: auth.Principal, order_id: str, message: str = "order not found",
                code: str = "order_not_found") -> None:
    """A customer only sees its own order; anything else looks like it does not exist."""
    if who.role == "customer" and who.order_id != order_id:
        raise ApiError(404, code, message)


def owned_return(who: auth.Principal, return_id: str) -> Any:
    """The return, if this principal may see it; the same 404 for unknown and not-yours."""
    from returns_core.rules.errors import ReturnNotFound
    from returns_core.store import returns

    try:
        ret = returns.get(return_id)
    except ReturnNotFound:
        raise ApiError(404, "return_not_found", "no such return") from None
    check_order(who, ret.order_id, "no such return", "return_not_found")
    return ret


def carrier_secret() -> bytes:
    """Deployed: the secret named by CARRIER_SECRET_ARN; locally and in tests: CARRIER_SECRET."""
    from returns_core.outbound import secret_store

    value = secret_store.get("CARRIER_SECRET")
    if not value:   # an empty key would make every signature anyone computes with it valid
        raise RuntimeError("the carrier secret is empty")
    return value.encode()


def verify_carrier(request: Any, raw: bytes) -> None:
    """`X-Carrier-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body."""
    given = (request.headers.get(SIGNATURE_HEADER.lower()) or "").strip()
    scheme, _, digest = given.partition("=")
    expected = hmac.new(carrier_secret(), raw, hashlib.sha256).hexdigest()
    if scheme.lower() != "sha256" or not hmac.compare_digest(digest.strip().lower().encode(), expected.encode()):
        log.warning("carrier signature rejected", extra={"present": bool(given)})
        raise ApiError(401, "bad_signature", "the carrier signature is missing or wrong")
