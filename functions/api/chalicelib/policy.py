"""The store's returns policy: read a version, publish the next, simulate an order under a draft.

Who may read, publish and simulate: routes.GET_POLICY, PUT_POLICY, SIMULATE_POLICY (api.md); and the
carriers its `carriers` key may name (routes.CARRIERS)."""
from __future__ import annotations

from chalice import Blueprint

from . import routes, schemas
from .endpoints import Call, endpoint

bp = Blueprint(__name__)


@endpoint(bp, routes.GET_POLICY)
def get_policy(call: Call) -> dict:
    from returns_core.usecases import policies

    q = call.query(schemas.PolicyVersionQuery)
    found = policies.current() if q.version is None else policies.version(q.version)
    return found.to_api()


@endpoint(bp, routes.PUT_POLICY)
def put_policy(call: Call) -> dict:
    from returns_core.usecases import policies

    published, warned = policies.publish(call.body.policy, call.who.sub)
    return {**published.to_api(), "warnings": warned}


@endpoint(bp, routes.SIMULATE_POLICY)
def simulate(call: Call) -> dict:
    from returns_core.usecases import policy_simulation

    body = call.body
    order = body.order.model_dump(mode="json", exclude_none=True)
    return policy_simulation.simulate(body.policy, order, [i.model_dump() for i in body.items], body.resolution,
                                      body.customer_returns_in_90_days,
                                      body.risk.model_dump() if body.risk is not None else None)


@endpoint(bp, routes.CARRIERS)
def list_carriers(call: Call) -> dict:
    from returns_core.outbound import carriers

    return {"items": [carriers.describe(c) for c in carriers.all_carriers().values()]}
