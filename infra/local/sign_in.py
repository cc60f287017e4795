"""The local stack's staff sign-in: Cognito managed login's part in the staff pages, played locally.

Not part of what ships: the local server (infra/local/server.py) answers `/_local/sign-in/...`
itself, in front of the API, as it answers the outbox. It speaks the protocol the pages speak to
Cognito (pages/staff-session.js): `/oauth2/authorize` (here a form asking a name and a role, no
password), the authorization code redeemed at `/oauth2/token` with its PKCE verifier, refresh,
`/oauth2/revoke` and `/logout`. The access token is the HS256 staff token `python -m infra.local
token` mints, the name is its `sub` (recorded as the inspector or approver).
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from .gateway import Response

PREFIX = "/_local/sign-in"
CLIENT_ID = "local-staff"            # functions/api/chalicelib/pages.py names the same client
STAFF_ROLES = ("warehouse", "finance", "ops", "store")
STAFF_PAGES = ("/warehouse", "/finance", "/ops", "/policy")
LOOPBACK = ("127.0.0.1", "localhost")
CODE_TTL_SECONDS = 300
NAME = re.compile(r"^[\w .:@'-]{1,64}$")
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")
PAGE_HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                 "frame-ancestors 'none'; base-uri 'none'"),
                ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")]
JSON_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(sha256(verifier)), unpadded."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class _Grant:
    name: str
    role: str
    challenge: str = ""
    redirect_uri: str = ""
    expires: float = 0.0


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class LocalSignIn:
    """`mint(role, name, ttl)` makes the access token (edge/auth.mint with the stack's secret)."""

    def __init__(self, mint: Callable[[str, str, int], str], base_path: str = "", ttl: int = 3600,
                 clock: Callable[[], float] = time.time):
        self.mint, self.base_path, self.ttl, self.clock = mint, base_path.rstrip("/"), ttl, clock
        self._lock = threading.Lock()
        self._codes: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}

    # --- the HTTP face -----------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: str, body: bytes) -> Response | None:
        """The response for `path` (below the stage path), or None when it is not the sign-in's."""
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return None
        route = path[len(PREFIX):]
        params = dict(parse_qsl(query, keep_blank_values=True))
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)) if method == "POST" else {}
        if route == "/oauth2/authorize" and method == "GET":
            return self._authorize_form(params)
        if route == "/oauth2/authorize" and method == "POST":
            return self._authorize_submit(form)
        if route == "/oauth2/token" and method == "POST":
            try:
                return Response(200, list(JSON_HEADERS), json.dumps(self.token(form)).encode())
            except OAuthError as err:
                return Response(err.status, list(JSON_HEADERS),
                                json.dumps({"error": err.error, "error_description": err.description}).encode())
        if route == "/oauth2/revoke" and method == "POST":
            self.revoke(form.get("token", ""))
            return Response(200, list(JSON_HEADERS), b"{}")
        if route == "/logout" and method == "GET":
            target = params.get("logout_uri", "")
            if params.get("client_id") != CLIENT_ID or not self._is_staff_page(target):
                return self._page("Sign-out", "<p class='error'>This sign-out link is not for a staff page.</p>", 400)
            return Response(302, [("Location", target), ("Cache-Control", "no-store")], b"")
        return Response(404, list(JSON_HEADERS), json.dumps({"error": "not_found"}).encode())

    # --- the protocol --------------------------------------------------------------------------------

    def _is_staff_page(self, uri: str) -> bool:
        """Only back to a staff page of this server: the sign-in is no open redirect."""
        parts = urlsplit(uri)
        return (parts.scheme == "http" and parts.hostname in LOOPBACK and not parts.query and not parts.fragment
                and parts.path in {self.base_path + p for p in STAFF_PAGES})

    def _check_request(self, params: dict) -> None:
        if not self._is_staff_page(params.get("redirect_uri", "")):
            raise OAuthError("invalid_request", "redirect_uri is not a staff page of this stack")
        if params.get("client_id") != CLIENT_ID:
            raise OAuthError("invalid_client", "unknown client_id")
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "response_type must be code")
        if params.get("code_challenge_method") != "S256" or not CHALLENGE.match(params.get("code_challenge", "")):
            raise OAuthError("invalid_request", "a PKCE code_challenge (S256) is required")

    def issue_code(self, params: dict, name: str, role: str) -> str:
        self._check_request(params)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(name, role, params["code_challenge"], params["redirect_uri"],
                                       self.clock() + CODE_TTL_SECONDS)
        return code

    def token(self, form: dict) -> dict:
        """The token endpoint: a code (once, with its verifier) or a refresh token, for tokens."""
        if form.get("client_id") != CLIENT_ID:
            raise OAuthError("invalid_client", "unknown client_id", 401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            with self._lock:
                grant = self._codes.pop(form.get("code", ""), None)   # a code is good once, whatever happens next
            if grant is None or grant.expires < self.clock():
                raise OAuthError("invalid_grant", "the code is unknown, used or expired")
            if form.get("redirect_uri") != grant.redirect_uri:
                raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request")
            if pkce_challenge(form.get("code_verifier", "")) != grant.challenge:
                raise OAuthError("invalid_grant", "the code_verifier does not match the code_challenge")
            refresh = secrets.token_urlsafe(32)
            with self._lock:
                self._refresh[refresh] = _Grant(grant.name, grant.role)
            return {**self._access(grant), "refresh_token": refresh}
        if grant_type == "refresh_token":
            with self._lock:
                grant = self._refresh.get(form.get("refresh_token", ""))
            if grant is None:
                raise OAuthError("invalid_grant", "the refresh token is unknown or revoked")
            return self._access(grant)   # as Cognito: the same refresh token goes on being used
        raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            self._refresh.pop(refresh_token, None)

    def _access(self, grant: _Grant) -> dict:
        return {"access_token": self.mint(grant.role, grant.name, self.ttl), "token_type": "Bearer",
                "expires_in": self.ttl}

    # --- the form ------------------------------------------------------------------------------------

    def _authorize_form(self, params: dict, error: str = "", name: str = "", status: int = 200) -> Response:
        try:
            self._check_request(params)
        except OAuthError as err:
            return self._page("Sign-in", f"<p class='error'>This sign-in link is broken: "
                                         f"{html.escape(err.description)}.</p>", 400)
        role = params.get("role") if params.get("role") in STAFF_ROLES else STAFF_ROLES[0]
        hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(params[k])}">'
                         for k in ("response_type", "client_id", "redirect_uri", "state", "code_challenge",
                                   "code_challenge_method", "scope") if k in params)
        options = "".join(f'<option value="{r}"{" selected" if r == role else ""}>{r}</option>' for r in STAFF_ROLES)
        alert = f'<p id="sign-in-error" class="error" role="alert">{html.escape(error)}</p>' if error else ""
        action = f"{html.escape(self.base_path + PREFIX)}/oauth2/authorize"
        form = f"""<form method="post" action="{action}" autocomplete="off">
  {hidden}
  <label for="name">Your name <span>recorded on what you do (inspections, approvals)</span></label>
  <input id="name" name="name" required maxlength="64" value="{html.escape(name)}" autofocus>
  <label for="role">Role</label>
  <select id="role" name="role">{options}</select>
  {alert}
  <button id="sign-in" type="submit">Sign in</button>
</form>
<p class="note">Local stack only: no password here. Deployed, staff sign in with Cognito
(email, password and an authenticator code).</p>"""
        return self._page("Staff sign-in", form, status)

    def _authorize_submit(self, form: dict) -> Response:
        name, role = form.get("name", "").strip(), form.get("role", "")
        if not NAME.match(name):
            return self._authorize_form(form, "Enter your name (letters, digits, spaces, . : @ ' -; up to 64).",
                                        name, 400)
        if role not in STAFF_ROLES:
            return self._authorize_form(form, "Choose a staff role.", name, 400)
        try:
            code = self.issue_code(form, name, role)
        except OAuthError as err:
            return self._page("Sign-in", f"<p class='error'>This sign-in link is broken: "
                                         f"{html.escape(err.description)}.</p>", 400)
        query = {"code": code, **({"state": form["state"]} if form.get("state") else {})}
        return Response(302, [("Location", f"{form['redirect_uri']}?{urlencode(query)}"),
                              ("Cache-Control", "no-store")], b"")

    def _page(self, title: str, content: str, status: int = 200) -> Response:
        body = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · returns (local stack)</title>
<style>
  * {{ box-sizing: border-box; }}
  body {{ margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
          background: #faf9f7; }}
  main {{ max-width: 400px; margin: 10vh auto 0; padding: 28px 32px; background: #fff; border: 1px solid #e4e2dc;
          border-radius: 10px; }}
  h1 {{ font-size: 20px; margin: 0 0 4px; }}
  .sub {{ color: #5f6672; margin: 0 0 20px; }}
  form {{ display: grid; gap: 6px; }}
  label {{ font-weight: 600; font-size: 14px; margin-top: 10px; }}
  label span {{ display: block; font-weight: normal; color: #5f6672; font-size: 13px; }}
  input, select {{ font: inherit; padding: 8px 10px; border: 1px solid #c9c6bf; border-radius: 6px; background: #fff; }}
  button {{ font: inherit; margin-top: 18px; padding: 9px 14px; border-radius: 6px; border: 1px solid #2b59c3;
            background: #2b59c3; color: #fff; cursor: pointer; }}
  :focus-visible {{ outline: 3px solid #f59e0b; outline-offset: 2px; }}
  .error {{ color: #b42318; background: #ffebe9; border-radius: 6px; padding: 8px 10px; margin: 10px 0 0; }}
  .note {{ color: #5f6672; font-size: 13px; margin: 20px 0 0; }}
  .badge {{ display: inline-block; font-size: 12px; font-weight: 600; background: #fff3c4; color: #7a4b00;
            border-radius: 999px; padding: 2px 8px; }}
</style>
</head>
<body>
<main>
  <span class="badge">Local stack</span>
  <h1>{html.escape(title)}</h1>
  <p class="sub">Returns · warehouse, finance and ops</p>
  {content}
</main>
</body>
</html>
"""
        return Response(status, list(PAGE_HEADERS), body.encode())


def for_stack(environment: dict[str, str], base_path: str = "") -> LocalSignIn:
    """The sign-in of a running local stack: its tokens signed with the stack's token secret."""
    import os

    os.environ["TOKEN_SECRET_ARN"] = environment["TOKEN_SECRET_ARN"]   # what auth.mint reads the secret from
    from returns_core.edge import auth

    return LocalSignIn(lambda role, name, ttl: auth.mint(role, name, ttl=ttl), base_path)
