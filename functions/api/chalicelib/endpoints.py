"""`@endpoint(bp, routes.X)`: a view registered with Chalice from its declaration (routes.py).

Before the view runs, in this order: the caller (authn.principal with the declared roles and link
scopes, or the carrier's signature over the raw body), the declared query models, the path's model,
the declared body (bodies.parse_body). The view receives them as a `Call` with the path's parameters, and
says only what is its own. An idempotent route's view checks what must hold before the key is claimed
and returns its effect, which runs once per `Idempotency-Key` (idempotency.run). Whatever escapes
leaves as api.md's envelope (errors.mapped).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from chalice import Blueprint
from pydantic import BaseModel

from . import idempotency
from .authn import principal, verify_carrier
from .bodies import parse_body, query, raw
from .errors import mapped
from .routes import PUBLIC, SIGNED, Route

M = TypeVar("M", bound=BaseModel)
Effect = Callable[[], Any]   # what an idempotent route's view returns: run once per Idempotency-Key
CARRIER = "carrier"   # whom an Idempotency-Key of the carrier's webhook belongs to


@dataclass
class Call:
    """One request as its view sees it, once the declared checks have passed."""
    request: Any
    who: Any = None                   # returns_core.edge.auth.Principal; None on a PUBLIC or SIGNED route
    body: Any = None                  # the declared body model, parsed
    raw: bytes = b""                  # the body as sent (what an Idempotency-Key's fingerprint is of)
    queries: dict[type, BaseModel] = field(default_factory=dict)

    def query(self, model: type[M]) -> M:
        """The declared query model, parsed (a model the route does not declare is a KeyError)."""
        return self.queries[model]  # type: ignore[return-value]


def _call(route: Route, request: Any, params: dict[str, str]) -> Call:
    call = Call(request)
    if route.auth == SIGNED:
        call.raw = raw(request)
        verify_carrier(request, call.raw)   # before parsing: unsigned input is not even read
    elif route.auth != PUBLIC:
        call.who = principal(request, frozenset(route.auth), link_in_query=route.link_in_query,
                             scopes=route.scopes)
    call.queries = {model: query(request, model) for model in route.params}
    if route.path_model is not None:
        route.path_model.model_validate(params)   # 422 naming the parameter (schemas.OrderPath)
    if route.body is not None:
        call.raw = call.raw or raw(request)
        call.body = parse_body(call.raw, route.body, route.empty_body)
    return call


def endpoint(bp: Blueprint, route: Route) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `view(call, **path_params)` as `route`."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def handle(**params: str) -> Any:
            request = bp.current_request
            call = _call(route, request, params)
            answer = view(call, **params)
            if not route.idempotent_key:
                return answer
            if not callable(answer):
                raise TypeError(f"{route.method} {route.path} is idempotent: its view returns its effect")
            who = call.who.sub if call.who is not None else CARRIER
            return idempotency.run(request, who, call.raw, answer)

        bp.route(route.path, methods=[route.method])(mapped(handle))
        return view

    return register
