"""The HTML pages: static files (no CDN, no external requests) that call the JSON API.

The staff pages (/warehouse, /finance, /ops) share one sign-in, staff-session.js,
inlined into each with what it needs from the function's environment (pages/staff-session.js says
how it signs people in)."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from chalice import Blueprint, Response

from . import routes
from .endpoints import Call, endpoint

bp = Blueprint(__name__)
PAGES = Path(__file__).resolve().parent / "pages"
# Pages talk only to this origin; nothing is loaded from anywhere else. A staff page may also
# talk to the sign-in service (the token exchange), which `_csp` adds.
CONNECT_SRC = "connect-src 'self'"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       f"script-src 'self' 'unsafe-inline'; {CONNECT_SRC}; frame-ancestors 'none'; base-uri 'none'")
STAFF_SESSION_MARKER = "<!-- staff-session -->"
LOCAL_STAFF_CLIENT_ID = "local-staff"   # infra/local/sign_in.py answers for this client


@lru_cache(maxsize=8)
def _read(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def page(name: str, body: str | None = None, csp: str = CSP) -> Response:
    return Response(body=body if body is not None else _read(name), status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"})


def staff_sign_in(page_path: str) -> dict:
    """How a staff page signs people in, read from the environment at request time.

    Deployed: the pool's managed login (COGNITO_DOMAIN_URL) and the staff app client; the page
    comes back to its public address, the callback URL the client allows. Locally (Stage=local,
    no pool): the local stack's sign-in, at the page's own address."""
    domain = os.environ.get("COGNITO_DOMAIN_URL", "").rstrip("/")
    client = os.environ.get("COGNITO_STAFF_CLIENT_ID", "")
    if domain and client:
        public = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
        return {"mode": "cognito", "domain": domain, "client_id": client,
                "redirect_uri": f"{public}{page_path}" if public else None}
    if os.environ.get("STAGE") == "local":
        return {"mode": "local", "client_id": LOCAL_STAFF_CLIENT_ID, "redirect_uri": None}
    return {"mode": "unconfigured"}


def _csp(sign_in: dict) -> str:
    if sign_in.get("mode") != "cognito":
        return CSP
    origin = urlsplit(sign_in["domain"])
    return CSP.replace(CONNECT_SRC, f"{CONNECT_SRC} {origin.scheme}://{origin.netloc}")


def staff_page(name: str, page_path: str, roles: frozenset[str]) -> Response:
    sign_in = {**staff_sign_in(page_path), "roles": sorted(roles)}
    # `<` escaped: nothing in the configuration can close the script element it sits in.
    config = json.dumps(sign_in).replace("<", "\\u003c")
    script = (f'<script id="staff-sign-in" type="application/json">{config}</script>\n'
              f"<script>\n{_read('staff-session.js')}</script>")
    return page(name, body=_read(name).replace(STAFF_SESSION_MARKER, script, 1), csp=_csp(sign_in))


@endpoint(bp, routes.PORTAL_PAGE)
def portal(call: Call) -> Response:
    return page("portal.html")


# Each staff page signs in the roles its API calls take (routes.py).
@endpoint(bp, routes.WAREHOUSE_PAGE)
def warehouse_page(call: Call) -> Response:
    return staff_page("warehouse.html", "/warehouse", frozenset(routes.WAREHOUSE))


@endpoint(bp, routes.FINANCE_PAGE)
def finance_page(call: Call) -> Response:
    return staff_page("finance.html", "/finance", frozenset(routes.FINANCE))


@endpoint(bp, routes.OPS_PAGE)
def ops_page(call: Call) -> Response:
    return staff_page("ops.html", "/ops", frozenset(routes.OPS))
