"""Every route x every caller, against api.md's auth rules, derived from openapi.ROUTES.

Public routes are open to anyone. Otherwise: no token, an expired or a tampered token
is 401; a role the route does not list is 403; another order's customer gets 403 or
404 and never the data; a listed role passes the gate (whatever the target's state
makes of it next: 404, 409, 422 ... but never 401/403 and never a 5xx).
"""
from __future__ import annotations

import json

import pytest

from chalicelib import openapi

from tests.api.support import auth, order_body, return_body, send, signed, start_return, token

CALLERS = ("customer", "customer_of_other_order", "store", "warehouse", "finance", "ops")

BODIES = {
    ("PUT", "/orders/{order_id}"): order_body(),
    ("POST", "/returns/lookup"): {"order_id": "o-1", "email": "ana@example.com"},
    ("POST", "/returns"): return_body("o-1"),
    ("POST", "/returns/quote"): {k: v for k, v in return_body("o-1").items() if k != "dropoff"},
    ("POST", "/returns/{return_id}/cancel"): {},
    ("POST", "/returns/{return_id}/confirm"): {"satisfied": True},
    ("POST", "/returns/{return_id}/dispute"): {"message": "not what I sent back"},
    ("POST", "/carrier/events"): {"tracking_number": "LC00000000001", "event": "dropped_off",
                                  "occurred_at": "2026-11-22T10:00:00Z"},
    ("POST", "/warehouse/scans"): {"code": "LC00000000001"},
    ("POST", "/returns/{return_id}/inspection"): {"items": [{"sku": "TSHIRT-M", "qty": 1,
                                                             "condition": "resellable"}]},
    ("POST", "/returns/{return_id}/review"): {"decision": "approve"},
    ("POST", "/returns/{return_id}/risk-verdict"): {"verdict": "fine"},
    ("POST", "/returns/{return_id}/exchange/shipped"): {"tracking_number": "1Z999AA10123456784"},
    ("POST", "/returns/{return_id}/refund/retry"): {},
    ("POST", "/returns/{return_id}/label/retry"): {"note": "the carrier is back"},
    ("POST", "/returns/{return_id}/refund/approve"): {},
    ("POST", "/returns/{return_id}/refund/manual"): {"reference": "bank-transfer-0001"},
    ("PUT", "/policy"): {"policy": {"defaults": {"window_days": 30}}},
    ("POST", "/policy/simulate"): {"order": {**order_body(), "order_id": "sample-1"}, "resolution": "refund",
                                   "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "defective"}]},
    ("POST", "/returns/{return_id}/dispute/resolve"): {"decision": "uphold", "note": "sorry for the sleeve",
                                                      "refund_amount": 500},
    ("POST", "/ops/customers/search"): {"email": "ana@example.com"},
    ("POST", "/claims"): {"order_id": "o-1", "kind": "missing_item", "lines": [{"sku": "TSHIRT-M", "qty": 1}],
                          "message": "one was missing"},
    ("POST", "/claims/{claim_id}/photos"): {"content_type": "image/png"},
    ("POST", "/claims/{claim_id}/resolve"): {"decision": "reject", "note": "it was in the parcel"},
    ("POST", "/withdrawals"): {"order_id": "o-1", "confirm": False},
    ("POST", "/returns/{return_id}/messages"): {"body": "where is my label?"},
    ("POST", "/claims/{claim_id}/messages"): {"body": "any news?"},
    ("POST", "/returns/{return_id}/conversation/escalate"): {"reason": "asks for a goodwill gesture"},
    ("PUT", "/ops/replies/{reply_id}"): {"locale": "en", "title": "Thanks", "body": "Thank you {customer_name}."},
}
# The claim routes' target: an open claim of o-1 (seed_claim), as the return is start_return's.
CLAIM_ID = "clm_matrix"


def seed_claim() -> str:
    """An open claim of order o-1, written as POST /claims writes one (usecases.claims.open_claim)."""
    from returns_core.rules import clock
    from returns_core.store import claims
    from returns_core.store.models import ClaimModel

    now = clock.iso()
    claims.create(ClaimModel(CLAIM_ID, order_id="o-1", customer_key="k", kind="missing_item",
                             lines=[{"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 1, "paid": 2499}],
                             message="one was missing", currency="EUR", status="open", status_since=now,
                             created_at=now, created_by="customer:o-1", photos=[]), "customer:o-1", {})
    return CLAIM_ID
QUERY = {"postcode": "75011", "country": "FR", "from": "2026-01-01", "to": "2026-12-31"}


def _id(route) -> str:
    return f"{route.method} {route.path}"


def test_every_route_has_a_row():
    """A new route with a body must get a sample body here, or the matrix would test only parsing."""
    missing = [_id(r) for r in openapi.ROUTES if r.body is not None and (r.method, r.path) not in BODIES]
    assert not missing


def _tampered(tok: str) -> str:
    head, body, sig = tok.split(".")
    i = len(sig) // 2
    return f"{head}.{body}.{sig[:i]}{'A' if sig[i] != 'A' else 'B'}{sig[i + 1:]}"


def _headers(caller: str, rid_order: str = "o-1") -> dict[str, str]:
    if caller == "customer":
        tok = token("customer", sub="customer:o-1", order_id="o-1")
    elif caller == "customer_of_other_order":
        tok = token("customer", sub="customer:o-2", order_id="o-2")
    elif caller == "expired":
        tok = token("warehouse", ttl=60, now=1_000_000)
    elif caller == "tampered":
        tok = _tampered(token("ops"))
    elif caller == "none":
        return {}
    else:
        tok = token(caller)
    return {"Authorization": f"Bearer {tok}"}


def _call(api, route, rid: str, caller: str):
    path = route.path.replace("{return_id}", rid).replace("{order_id}", "o-1").replace("{claim_id}", CLAIM_ID)
    query = "&".join(f"{name}={QUERY[name]}" for name, _, _ in route.query if name in QUERY)
    if query:
        path += "?" + query
    body = BODIES.get((route.method, route.path))
    if route.method == "GET":
        return api.http.get(path, headers={"Accept": "*/*", **_headers(caller)})
    return send(api, route.method, path, body if body is not None else b"", _headers(caller))


def _no_data(res, rid: str) -> bool:
    text = res.body.decode(errors="replace") if isinstance(res.body, bytes) else str(res.body)
    return "TSHIRT" not in text and "ana@example.com" not in text and (rid not in text or '"error"' in text)


# slow: every route against every caller
@pytest.mark.slow
@pytest.mark.parametrize("route", openapi.ROUTES, ids=_id)
def test_route_against_every_caller(api, order, route):
    assert send(api, "PUT", "/orders/o-2", order_body(), auth("store")).status_code == 201
    rid = start_return(api)["return_id"]
    seed_claim()
    problems: list[str] = []

    def expect(caller: str, ok: bool, res, wanted: str) -> None:
        if not ok:
            problems.append(f"{caller}: {res.status_code} (wanted {wanted}) {res.body[:200]!r}")

    # Denials first: a denied call must not change what the allowed callers see.
    for caller in ("none", "expired", "tampered"):
        res = _call(api, route, rid, caller)
        if route.auth == openapi.PUBLIC:
            expect(caller, res.status_code not in (401, 403) and res.status_code < 500, res, "open")
        else:
            expect(caller, res.status_code == 401, res, "401")
    allowed = () if route.auth in (openapi.PUBLIC, openapi.SIGNED) else route.auth
    for caller in CALLERS:
        res = _call(api, route, rid, caller)
        if route.auth == openapi.PUBLIC:
            expect(caller, res.status_code not in (401, 403) and res.status_code < 500, res, "open")
        elif route.auth == openapi.SIGNED:
            expect(caller, res.status_code == 401, res, "401: a bearer token is not a carrier signature")
        elif caller == "customer_of_other_order":
            wanted_ok = res.status_code in (403, 404) and _no_data(res, rid)
            expect(caller, wanted_ok, res, "403/404 and no data")
        elif caller in allowed:
            expect(caller, res.status_code not in (401, 403) and res.status_code < 500, res, "past the gate")
        else:
            expect(caller, res.status_code == 403 and _no_data(res, rid), res, "403")
    if route.auth == openapi.SIGNED:
        raw = json.dumps(BODIES[(route.method, route.path)]).encode()
        res = api.http.post(route.path, body=raw, headers=signed(raw))
        expect("signed", res.status_code not in (401, 403) and res.status_code < 500, res, "past the gate")
    assert not problems, "\n".join(problems)
