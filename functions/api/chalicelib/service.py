"""Service routes: health and the OpenAPI document. Public, and cheap at cold start."""
from __future__ import annotations

import os

from chalice import Blueprint

from . import routes
from .endpoints import Call, endpoint

bp = Blueprint(__name__)


def version() -> str:
    return os.environ.get("APP_VERSION", "0.1.0")


@endpoint(bp, routes.HEALTH)
def health(call: Call) -> dict:
    return {"ok": True, "version": version()}


@endpoint(bp, routes.OPENAPI)
def openapi_document(call: Call) -> dict:
    from .openapi import document

    return document(version())
