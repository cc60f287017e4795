"""Links in customer messages: signed, scoped to one return, expiring; they open with no sign-in.

Each link's token does one thing (edge/auth.py scopes): the label link's downloads that return's
label; the portal link's is exchanged for a short session on that one return (POST
/returns/{id}/session), which reads it and acts on it, and nothing else of the order.
"""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import boto3

from tests.api.support import auth, customer, error_of, return_body, send, ship, start_return


def _label_link(return_id: str, order_id: str = "o-1", now: float | None = None) -> str:
    from returns_core.edge import auth as tokens

    return tokens.mint_label_link(order_id, return_id, now=now)


def _portal_link(return_id: str, order_id: str = "o-1", now: float | None = None) -> str:
    from returns_core.edge import auth as tokens

    return tokens.mint_portal_link(order_id, return_id, now=now)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _with_label(return_id: str) -> None:
    import os

    ship(return_id)
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=os.environ["LABELS_BUCKET"], Key=f"labels/{return_id}.pdf", Body=b"%PDF-1.4 test label")


def _label_status(api, return_id: str, token: str) -> int:
    return api.http.request("GET", f"/returns/{return_id}/label?t={token}",
                            headers={"Accept": "application/pdf"}).status_code


def _session(api, return_id: str, token: str):
    return send(api, "POST", f"/returns/{return_id}/session", b"", _bearer(token))


def test_a_message_carries_a_label_link_and_a_portal_link_each_with_its_own_token(api, order):
    from returns_core.edge import auth as tokens
    from returns_core.outbound import messaging
    from returns_core.store.returns import get
    from returns_core.usecases import notify

    first = start_return(api)["return_id"]
    links = notify._links(get(first))
    assert set(links) == {"portal_url", "label_url"}
    label, portal = urlparse(links["label_url"]), urlparse(links["portal_url"])
    assert label.path.endswith(f"/returns/{first}/label") and parse_qs(portal.query) == {"return_id": [first]}
    label_token, portal_token = parse_qs(label.query)["t"][0], portal.fragment.removeprefix("t=")
    assert portal.fragment == f"t={portal_token}"        # the portal's token never reaches a server log
    assert label_token != portal_token
    assert tokens.verify(label_token).scope == f"label:{first}"
    assert tokens.verify(portal_token).scope == f"portal:{first}"
    assert messaging.public_links(first, label_token, portal_token) == links


def test_the_label_link_downloads_the_pdf_with_no_header(api, order):
    rid = start_return(api)["return_id"]
    _with_label(rid)
    res = api.http.request("GET", f"/returns/{rid}/label?t={_label_link(rid)}", headers={"Accept": "application/pdf"})
    assert res.status_code == 200 and res.body.startswith(b"%PDF-")
    # The same token as a header downloads it too (the portal's fetch); it is the route that decides.
    res = api.http.request("GET", f"/returns/{rid}/label", headers={"Accept": "application/pdf",
                                                                    **_bearer(_label_link(rid))})
    assert res.status_code == 200


MOVES = (("GET", "", None), ("POST", "/cancel", {}), ("POST", "/confirm", {"satisfied": True}),
         ("POST", "/dispute", {"message": "not what I sent"}), ("POST", "/label/retry", {"note": "again"}),
         ("POST", "/session", None))


def test_the_label_links_token_downloads_the_label_and_does_nothing_else(api, order):
    """Whoever the label URL reaches (forwarded mail, a print shop, a proxy's log) gets the label, and is
    a 403 on every other route of the return: reading, cancelling, confirming, disputing, a session."""
    rid = start_return(api)["return_id"]
    _with_label(rid)
    token = _label_link(rid)
    assert _label_status(api, rid, token) == 200
    for method, tail, body in MOVES:
        res = send(api, method, f"/returns/{rid}{tail}", body, _bearer(token))
        assert res.status_code == 403 and error_of(res)["code"] == "link_scope", (tail, res.body)
    for method, path, body in (("GET", "/orders/o-1/returns", None), ("POST", "/returns", return_body()),
                               ("POST", "/claims", {"order_id": "o-1", "kind": "missing_item", "message": "x",
                                                    "lines": [{"sku": "TSHIRT-M", "qty": 1}]})):
        assert send(api, method, path, body, _bearer(token)).status_code == 403, path
    from returns_core.store.returns import get
    assert get(rid).status == "awaiting_dropoff"   # nothing happened to the return


def test_the_portal_links_token_only_opens_a_session(api, order):
    rid = start_return(api)["return_id"]
    _with_label(rid)
    token = _portal_link(rid)
    for method, tail, body in MOVES[:-1]:
        res = send(api, method, f"/returns/{rid}{tail}", body, _bearer(token))
        assert res.status_code == 403 and error_of(res)["code"] == "link_scope", (tail, res.body)
    assert _label_status(api, rid, token) == 401    # never taken from a URL: the portal link's is in the fragment
    res = _session(api, rid, token)
    assert res.status_code == 200, res.body
    assert res.json_body["return_id"] == rid and 0 < res.json_body["expires_in"] <= 3600


def test_a_portal_session_acts_on_its_return_only_and_expires(api, order):
    from returns_core.edge import auth as tokens

    rid, other = start_return(api)["return_id"], start_return(api)["return_id"]
    _with_label(rid)
    session = _session(api, rid, _portal_link(rid)).json_body["token"]
    who = tokens.verify(session)
    assert (who.order_id, who.return_id, who.scope) == ("o-1", rid, None)

    assert send(api, "GET", f"/returns/{rid}", headers=_bearer(session)).status_code == 200
    pdf = api.http.request("GET", f"/returns/{rid}/label", headers={"Accept": "application/pdf", **_bearer(session)})
    assert pdf.status_code == 200
    # Not another return of the same order, not the order's list, not a new return, not a claim.
    assert send(api, "GET", f"/returns/{other}", headers=_bearer(session)).status_code == 404
    assert send(api, "POST", f"/returns/{other}/cancel", {}, _bearer(session)).status_code == 404
    assert send(api, "GET", "/orders/o-1/returns", headers=_bearer(session)).status_code == 404
    assert send(api, "POST", "/returns", return_body(), _bearer(session)).status_code == 404
    assert _session(api, other, session).status_code == 404
    assert _label_status(api, rid, session) == 401    # a session is never taken from a URL

    res = send(api, "POST", f"/returns/{rid}/cancel", {}, _bearer(session))
    assert res.status_code == 200 and res.json_body["status"] == "cancelled", res.body

    # A session opened long enough ago has expired; the link itself still opens a new one.
    stale = tokens.mint_session("o-1", rid, now=time.time() - tokens.SESSION_TTL_SECONDS - 5)
    assert send(api, "GET", f"/returns/{rid}", headers=_bearer(stale)).status_code == 401
    assert _session(api, rid, _portal_link(rid)).status_code == 200


def test_links_are_refused_when_altered_expired_elsewhere_or_not_links(api, order):
    rid, other = start_return(api)["return_id"], start_return(api)["return_id"]
    _with_label(rid)
    _with_label(other)
    good = _label_link(rid)
    assert _label_status(api, rid, good[:-2] + ("AA" if not good.endswith("AA") else "BB")) == 401
    long_ago = time.time() - 46 * 24 * 3600
    assert _label_status(api, rid, _label_link(rid, now=long_ago)) == 401              # expired
    assert _session(api, rid, _portal_link(rid, now=long_ago)).status_code == 401
    assert _label_status(api, other, good) == 404                                       # another return
    assert _session(api, other, _portal_link(rid)).status_code == 404
    lookup_token = customer("o-1")["Authorization"].split()[1]
    assert _label_status(api, rid, lookup_token) == 401     # an order-wide token is never taken from a URL
    assert _label_status(api, rid, auth("ops")["Authorization"].split()[1]) == 401
    assert _session(api, rid, auth("ops")["Authorization"].split()[1]).status_code == 403


def test_a_scope_naming_another_return_than_the_token_is_refused(api, order):
    from returns_core.edge import auth as tokens

    rid, other = start_return(api)["return_id"], start_return(api)["return_id"]
    _with_label(rid)
    forged = tokens.mint("customer", "label-link:x", order_id="o-1", return_id=rid, scope=f"label:{other}")
    assert _label_status(api, rid, forged) == 401
    unknown = tokens.mint("customer", "x", order_id="o-1", return_id=rid, scope=f"everything:{rid}")
    assert send(api, "GET", f"/returns/{rid}", headers=_bearer(unknown)).status_code == 401


def test_a_link_sent_before_scopes_opens_the_label_and_the_portal_and_acts_on_nothing(api, order):
    """Emails already sent carry the old single token (sub `link:<return_id>`, 45 days): the label link
    still downloads and the portal link still opens a session, but the token itself no longer acts."""
    from returns_core.edge import auth as tokens

    rid = start_return(api)["return_id"]
    _with_label(rid)
    old = tokens.mint("customer", f"link:{rid}", order_id="o-1", ttl=tokens.LINK_TTL_SECONDS, return_id=rid)
    assert _label_status(api, rid, old) == 200
    assert _session(api, rid, old).status_code == 200
    for method, tail, body in MOVES[:-1]:
        assert send(api, method, f"/returns/{rid}{tail}", body, _bearer(old)).status_code == 403, tail


def test_the_customer_acts_on_that_return_from_the_portal_link(api, order):
    rid = start_return(api)["return_id"]
    session = _session(api, rid, _portal_link(rid)).json_body["token"]
    res = send(api, "POST", f"/returns/{rid}/cancel", {}, _bearer(session))
    assert res.status_code == 200, res.body
    assert res.json_body["status"] == "cancelled"
