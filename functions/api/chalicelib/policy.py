"""The store's returns policy: read a version, publish the next, simulate an order under a draft.

`store` writes; `store`, `ops` and `finance` read; `store` and `ops` simulate (api.md)."""
from __future__ import annotations

from chalice import Blueprint

from . import schemas
from .authn import principal
from .bodies import parse, query
from .errors import route

bp = Blueprint(__name__)

READERS = frozenset({"store", "ops", "finance"})
WRITERS = frozenset({"store"})
SIMULATORS = frozenset({"store", "ops"})


@route(bp, "/policy", methods=["GET"])
def get_policy() -> dict:
    from returns_core.usecases import policies

    principal(bp.current_request, READERS)
    q = query(bp.current_request, schemas.PolicyVersionQuery)
    found = policies.current() if q.version is None else policies.version(q.version)
    return found.to_api()


@route(bp, "/policy", methods=["PUT"])
def put_policy() -> dict:
    from returns_core.usecases import policies

    who = principal(bp.current_request, WRITERS)
    body = parse(bp.current_request, schemas.PolicyPut)
    published, warned = policies.publish(body.policy, who.sub)
    return {**published.to_api(), "warnings": warned}


@route(bp, "/policy/simulate", methods=["POST"])
def simulate() -> dict:
    from returns_core.usecases import policy_simulation

    principal(bp.current_request, SIMULATORS)
    body = parse(bp.current_request, schemas.PolicySimulate)
    order = body.order.model_dump(mode="json", exclude_none=True)
    return policy_simulation.simulate(body.policy, order, [i.model_dump() for i in body.items], body.resolution,
                                      body.customer_returns_in_90_days)
