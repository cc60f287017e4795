"""Bearer tokens: compact HS256 JWTs, verified in one place.

Customer tokens are minted by the order lookup, scoped to one order and short-lived.
A message's links carry narrower tokens, each good for one thing (`scope`): the label link
downloads that return's label, the portal link is exchanged for a short session on that return.
Staff and store tokens: deployed, Cognito issues them; locally `python -m infra.local token`
mints them with the same secret so the same verification code runs everywhere.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
import urllib.request
from dataclasses import dataclass

from ..outbound import secret_store

ROLES = ("customer", "store", "warehouse", "finance", "ops")
CUSTOMER_TTL_SECONDS = 2 * 3600
# A link in an email or SMS opens one return, with no sign-in, for this long from when it is sent
# (the drop-off deadline is 14 days after the label; the follow-up comes 30 days after the refund).
LINK_TTL_SECONDS = 45 * 24 * 3600
# What a portal link's token is exchanged for: that one return, signed in, for as long as a visit lasts.
# Clicking the link again opens a new one; the link's own token never acts on the return.
SESSION_TTL_SECONDS = 30 * 60
# The one thing a scoped token may do (`scope` = "<kind>:<return_id>"): a label link downloads the
# label; a portal link is exchanged for a session. A link URL travels (forwarded mail, a print
# shop, a proxy's log), so what it carries must not cancel, confirm or dispute the return.
LABEL_SCOPE, PORTAL_SCOPE = "label", "portal"
# Links sent before scopes existed (sub "link:<return_id>", no scope): still opened for what a
# link does today (the label, the portal's exchange), never for acting on the return.
MESSAGE_SCOPE = "message"
LINK_SCOPES = (LABEL_SCOPE, PORTAL_SCOPE)


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Principal:
    role: str
    sub: str
    order_id: str | None = None
    return_id: str | None = None   # a link's token or a portal session: this one return of the order
    scope: str | None = None       # a link's token: the one thing it may do (LINK_SCOPES); None: a session
    lead: bool = False             # an ops lead (the `lead` staff group beside `ops`): sees escalations first

    @property
    def scope_kind(self) -> str | None:
        return self.scope.split(":", 1)[0] if self.scope else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secret() -> bytes:
    return secret_store.get("TOKEN_SECRET").encode()


def mint(role: str, sub: str, order_id: str | None = None, ttl: int = 12 * 3600, now: float | None = None,
         return_id: str | None = None, scope: str | None = None, lead: bool = False) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    issued = int(now if now is not None else time.time())
    claims = {"role": role, "sub": sub, "iat": issued, "exp": issued + ttl}
    if order_id is not None:
        claims["order_id"] = order_id
    if return_id is not None:
        claims["return_id"] = return_id
    if scope is not None:
        claims["scope"] = scope
    if lead and role == "ops":
        claims["lead"] = True
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = _b64(hmac.new(secret(), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def _header(token: str) -> dict:
    try:
        head = json.loads(_unb64(token.split(".", 1)[0]))
    except Exception as exc:
        raise InvalidToken("malformed token") from exc
    if not isinstance(head, dict):
        raise InvalidToken("malformed token")
    return head


def verify(token: str, now: float | None = None) -> Principal:
    """An HS256 token of ours, or (when COGNITO_ISSUER is set) an RS256 token of the staff pool."""
    if _header(token).get("alg") == "RS256" and os.environ.get("COGNITO_ISSUER"):
        return verify_cognito(token, now)
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
    return_id = claims.get("return_id")
    if return_id is not None and (claims["role"] != "customer" or not isinstance(return_id, str)):
        raise InvalidToken("bad claims")
    return Principal(claims["role"], claims["sub"], claims.get("order_id"), return_id,
                     _scope(claims.get("scope"), return_id, claims["sub"]),
                     lead=claims["role"] == "ops" and claims.get("lead") is True)


def _scope(scope: object, return_id: str | None, sub: str) -> str | None:
    """A link's scope, checked against the return it names; a link minted before scopes existed is
    MESSAGE_SCOPE, never the unscoped session it used to act as."""
    if scope is None:
        return f"{MESSAGE_SCOPE}:{return_id}" if return_id is not None and sub.startswith("link:") else None
    if not isinstance(scope, str) or return_id is None:
        raise InvalidToken("bad claims")
    kind, _, target = scope.partition(":")
    if kind not in LINK_SCOPES or target != return_id:
        raise InvalidToken("bad claims")
    return scope


def _mint_scoped(kind: str, order_id: str, return_id: str, now: float | None) -> str:
    return mint("customer", f"{kind}-link:{return_id}", order_id=order_id, ttl=LINK_TTL_SECONDS, now=now,
                return_id=return_id, scope=f"{kind}:{return_id}")


def mint_label_link(order_id: str, return_id: str, now: float | None = None) -> str:
    """The token of a message's label link: downloads that return's label, nothing else (authn)."""
    return _mint_scoped(LABEL_SCOPE, order_id, return_id, now)


def mint_portal_link(order_id: str, return_id: str, now: float | None = None) -> str:
    """The token of a message's portal link: exchanged for a session on that return, nothing else."""
    return _mint_scoped(PORTAL_SCOPE, order_id, return_id, now)


def mint_session(order_id: str, return_id: str, now: float | None = None) -> str:
    """A portal session: the order's customer, on that one return only, for SESSION_TTL_SECONDS."""
    return mint("customer", f"customer:{order_id}", order_id=order_id, ttl=SESSION_TTL_SECONDS, now=now,
                return_id=return_id)


# --- Cognito (deployed staff and store tokens) -------------------------------------

# `store`: people of the store who edit its returns policy (/policy); the store's systems use the
# store client's client-credentials token instead.
STAFF_GROUPS = ("warehouse", "finance", "ops", "store")
LEAD_GROUP = "lead"   # beside `ops`: customer service's leads, who take escalated conversations
STORE_SCOPE = "returns/store"
JWKS_TTL_SECONDS = 3600
_jwks_lock = threading.Lock()
_jwks: dict[str, tuple[float, dict[str, object]]] = {}   # issuer -> (fetched at, kid -> public key)


def fetch_jwks(url: str) -> dict:
    """The pool's JSON Web Key Set (a public document)."""
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise InvalidToken("the issuer must be https")
    with urllib.request.urlopen(url, timeout=5) as resp:   # the scheme is checked above
        return json.loads(resp.read())


def _public_keys(issuer: str, refresh: bool = False) -> dict[str, object]:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

    with _jwks_lock:
        cached = _jwks.get(issuer)
        if cached and not refresh and time.monotonic() - cached[0] < JWKS_TTL_SECONDS:
            return cached[1]
        try:
            document = fetch_jwks(f"{issuer.rstrip('/')}/.well-known/jwks.json")
            keys = {}
            for jwk in document.get("keys", []):
                if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
                    continue
                n = int.from_bytes(_unb64(jwk["n"]), "big")
                e = int.from_bytes(_unb64(jwk["e"]), "big")
                keys[jwk["kid"]] = RSAPublicNumbers(e, n).public_key()
        except InvalidToken:
            raise
        except Exception as exc:  # unreachable issuer or a bad document: no token verifies
            raise InvalidToken("the issuer's keys are unavailable") from exc
        _jwks[issuer] = (time.monotonic(), keys)
        return keys


def reset_jwks() -> None:
    with _jwks_lock:
        _jwks.clear()


def verify_cognito(token: str, now: float | None = None) -> Principal:
    """A Cognito access or ID token: signature against the pool's JWKS, then iss, exp,
    token_use and the app client; `cognito:groups` gives staff their role (exactly one
    staff group), a client-credentials token with scope returns/store is the store."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    issuer = os.environ["COGNITO_ISSUER"].rstrip("/")
    staff_client = os.environ.get("COGNITO_STAFF_CLIENT_ID")
    store_client = os.environ.get("COGNITO_STORE_CLIENT_ID")
    try:
        head_b64, body_b64, sig_b64 = token.split(".")
        head = json.loads(_unb64(head_b64))
        claims = json.loads(_unb64(body_b64))
        signature = _unb64(sig_b64)
    except Exception as exc:
        raise InvalidToken("malformed token") from exc
    if not isinstance(head, dict) or head.get("alg") != "RS256" or not isinstance(claims, dict):
        raise InvalidToken("malformed token")
    kid = head.get("kid")
    keys = _public_keys(issuer)
    if kid not in keys:
        keys = _public_keys(issuer, refresh=True)   # the pool rotated its keys
    key = keys.get(kid)
    if key is None:
        raise InvalidToken("unknown signing key")
    try:
        key.verify(signature, f"{head_b64}.{body_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise InvalidToken("bad signature") from None
    if claims.get("iss") != issuer:
        raise InvalidToken("wrong issuer")
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool) or exp < int(now if now is not None else time.time()):
        raise InvalidToken("expired")
    use = claims.get("token_use")
    client = claims.get("client_id") if use == "access" else claims.get("aud") if use == "id" else None
    if not isinstance(client, str) or client not in {c for c in (staff_client, store_client) if c}:
        raise InvalidToken("token of another app client")
    if client == store_client:
        scopes = str(claims.get("scope", "")).split()
        if use != "access" or STORE_SCOPE not in scopes:
            raise InvalidToken("store token without the returns/store scope")
        return Principal("store", f"store:{client}")
    groups = claims.get("cognito:groups") or []
    roles = [g for g in groups if g in STAFF_GROUPS] if isinstance(groups, list) else []
    if len(roles) != 1:
        raise InvalidToken("a staff member must be in exactly one staff group")
    username = claims.get("username") if use == "access" else claims.get("cognito:username")
    if not isinstance(username, str) or not username:
        raise InvalidToken("bad claims")
    # `lead` is no role of its own: a lead is an ops member who is also in the lead group.
    return Principal(roles[0], username, lead=roles[0] == "ops" and LEAD_GROUP in groups)
