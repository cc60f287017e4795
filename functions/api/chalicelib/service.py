"""Service routes: health and the OpenAPI document. Public, and cheap at cold start."""
from __future__ import annotations

import os

from chalice import Blueprint

from .errors import route

bp = Blueprint(__name__)


def version() -> str:
    return os.environ.get("APP_VERSION", "0.1.0")


@route(bp, "/health", methods=["GET"])
def health() -> dict:
    return {"ok": True, "version": version()}


@route(bp, "/openapi.json", methods=["GET"])
def openapi_document() -> dict:
    from .openapi import document

    return document(version())
