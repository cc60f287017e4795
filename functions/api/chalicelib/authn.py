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

SIGNATURE_HEADER = "X-Carrier-Signature"


def principal(request: Any, roles: set[str] | frozenset[str], link_in_query: bool = False,
              scopes: frozenset[str] = frozenset()) -> auth.Principal:
    """`link_in_query`: the route may also be opened from a message's link, whose token rides in
    `?t=` (a browser following a link sends no header); only link tokens are taken from there.
    `scopes`: the link scopes (auth.LINK_SCOPES) this route accepts. A link's token is good for one
    thing: anywhere else it is a 403, whatever its role could otherwise do."""
    header = (request.headers.get("authorization") or "").strip()
    scheme, _, token = header.partition(" ")
    if not header and link_in_query and (request.query_params or {}).get("t"):
        return _link_principal(request.query_params["t"], roles, scopes)
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "a bearer token is required",
                       headers={"WWW-Authenticate": 'Bearer realm="returns"'})
    who = _verified(token, "the token is invalid or has expired")
    if who.scope is not None and who.scope_kind not in scopes:
        raise ApiError(403, "link_scope", "this link's token may not do this; open the link itself")
    if who.role not in roles:
        raise ApiError(403, "forbidden", "this token's role may not do this")
    return who


def _verified(token: str, refusal: str) -> auth.Principal:
    try:
        return auth.verify(token.strip())
    except auth.InvalidToken:
        raise ApiError(401, "unauthorized", refusal) from None


def _link_principal(token: str, roles: set[str] | frozenset[str], scopes: frozenset[str]) -> auth.Principal:
    who = _verified(token, "this link is invalid or has expired")
    if who.scope_kind not in scopes or who.role not in roles:
        raise ApiError(401, "unauthorized", "this link is invalid or has expired")
    return who


def proves_order(request: Any, order_id: str) -> bool:
    """Whether the request carries a token this order's customer signed in with (a portal session, an
    earlier lookup): the real customer's proof on a public route (the lookup), which lifts the limits
    guessers share with them (rules/lookup_limits.py). A link's own token proves nothing: a label URL
    reaches print shops and proxies, which must not guess the email free of limits. A missing, bad or
    expired token, or one of another order, proves nothing either, and is not an error there."""
    scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        who = auth.verify(token.strip())
    except auth.InvalidToken:
        return False
    return who.role == "customer" and who.order_id == order_id and who.scope is None


def check_order(who: auth.Principal, order_id: str, message: str = "order not found",
                code: str = "order_not_found") -> None:
    """A customer only sees its own order; anything else looks like it does not exist. A link's
    token opens one return, never the order as a whole."""
    if who.role == "customer" and (who.order_id != order_id or who.return_id is not None):
        raise ApiError(404, code, message)


def owned_return(who: auth.Principal, return_id: str) -> Any:
    """The return, if this principal may see it; the same 404 for unknown and not-yours."""
    from returns_core.rules.errors import ReturnNotFound
    from returns_core.usecases import records

    if who.return_id is not None and who.return_id != return_id:
        raise ApiError(404, "return_not_found", "no such return")
    try:
        ret = records.get_return(return_id)
    except ReturnNotFound:
        raise ApiError(404, "return_not_found", "no such return") from None
    if who.role == "customer" and who.order_id != ret.order_id:
        raise ApiError(404, "return_not_found", "no such return")
    return ret


def _rollover_keys(name: str) -> list[bytes]:
    """The keys of a secret that rolls over: deployed, the secret named by `<name>_ARN`,
    `{"current": ..., "previous": ...}` (both accepted during a rollover: `python -m infra.deploy
    carrier-secret` / `store-link-secret`); locally and in tests, `<name>`. A plain string is the current key."""
    import json

    from returns_core.outbound import secret_store

    value = secret_store.get(name)
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    keys = [parsed.get("current"), parsed.get("previous")] if isinstance(parsed, dict) else [value]
    keys = [k for k in keys if isinstance(k, str) and k]
    if not keys:   # an empty key would make every signature anyone computes with it valid
        raise RuntimeError(f"the secret {name} is empty")
    return [k.encode() for k in keys]


def carrier_keys() -> list[bytes]:
    """The keys a carrier webhook may be signed with (CARRIER_SECRET)."""
    return _rollover_keys("CARRIER_SECRET")


def store_link_keys() -> list[bytes]:
    """The keys the store signs its return links with (STORE_LINK_SECRET, rules/store_links.py)."""
    return _rollover_keys("STORE_LINK_SECRET")


def verify_carrier(request: Any, raw: bytes) -> None:
    """`X-Carrier-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body with a current key."""
    given = (request.headers.get(SIGNATURE_HEADER.lower()) or "").strip()
    scheme, _, digest = given.partition("=")
    digest_bytes = digest.strip().lower().encode()
    matches = [hmac.compare_digest(digest_bytes, hmac.new(key, raw, hashlib.sha256).hexdigest().encode())
               for key in carrier_keys()]   # every key compared: the time taken says nothing
    if scheme.lower() != "sha256" or not any(matches):
        log.warning("carrier signature rejected", extra={"present": bool(given)})
        raise ApiError(401, "bad_signature", "the carrier signature is missing or wrong")
