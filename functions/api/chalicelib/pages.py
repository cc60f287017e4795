"""The HTML pages: static files (no CDN, no external requests) that call the JSON API."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from chalice import Blueprint, Response

bp = Blueprint(__name__)
PAGES = Path(__file__).resolve().parent / "pages"
# Pages talk only to this origin; nothing is loaded from anywhere else.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")


@lru_cache(maxsize=8)
def _read(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def page(name: str) -> Response:
    return Response(body=_read(name), status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"})


@bp.route("/portal", methods=["GET"])
def portal() -> Response:
    return page("portal.html")


@bp.route("/warehouse", methods=["GET"])
def warehouse_page() -> Response:
    return page("warehouse.html")


@bp.route("/finance", methods=["GET"])
def finance_page() -> Response:
    return page("finance.html")

