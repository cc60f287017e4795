"""Links in customer messages: signed, scoped to one return, expiring; they open with no sign-in.

The token a message's links carry (auth.mint_link) is the order's customer for that one return:
it reaches the return, its label and the customer's moves on it, and nothing else of the order.
"""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import boto3

from .test_api_unit import (  # noqa: F401 - fixtures
    _fresh_clients_for_this_module, api, auth, aws, boto, customer, error_of, order, order_body, return_body, send,
    ship, start_return)


def _link(return_id: str, order_id: str = "o-1", now: float | None = None) -> dict:
    from returns_core.edge import auth as tokens

    return {"Authorization": f"Bearer {tokens.mint_link(order_id, return_id, now=now)}"}


def _with_label(return_id: str) -> None:
    import os

    ship(return_id)
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=os.environ["LABELS_BUCKET"], Key=f"labels/{return_id}.pdf", Body=b"%PDF-1.4 test label")


def test_the_links_a_message_carries_open_that_return_only(api, order):
    from returns_core.outbound import messaging
    from returns_core.usecases import notify
    from returns_core.store.returns import get

    first, second = start_return(api)["return_id"], start_return(api)["return_id"]
    links = notify._links(get(first))
    assert set(links) == {"portal_url", "label_url"}
    label, portal = urlparse(links["label_url"]), urlparse(links["portal_url"])
    assert label.path.endswith(f"/returns/{first}/label") and parse_qs(portal.query) == {"return_id": [first]}
    token = parse_qs(label.query)["t"][0]
    assert portal.fragment == f"t={token}"          # the portal's token never reaches a server log
    assert messaging.public_links(first, token) == links

    bearer = {"Authorization": f"Bearer {token}"}
    assert send(api, "GET", f"/returns/{first}", headers=bearer).status_code == 200
    # Not another return of the same order, not the order's list, not a new return.
    assert send(api, "GET", f"/returns/{second}", headers=bearer).status_code == 404
    assert send(api, "GET", "/orders/o-1/returns", headers=bearer).status_code == 404
    assert send(api, "POST", "/returns", return_body(), bearer).status_code == 404


def test_the_label_link_downloads_the_pdf_with_no_header(api, order):
    rid = start_return(api)["return_id"]
    _with_label(rid)
    token = _link(rid)["Authorization"].split()[1]
    res = api.http.request("GET", f"/returns/{rid}/label?t={token}", headers={"Accept": "application/pdf"})
    assert res.status_code == 200 and res.body.startswith(b"%PDF-")


def test_a_label_link_is_refused_when_altered_expired_elsewhere_or_not_a_link(api, order):
    rid, other = start_return(api)["return_id"], start_return(api)["return_id"]
    _with_label(rid)
    _with_label(other)

    def label(return_id: str, token: str) -> int:
        return api.http.request("GET", f"/returns/{return_id}/label?t={token}",
                                headers={"Accept": "application/pdf"}).status_code

    good = _link(rid)["Authorization"].split()[1]
    assert label(rid, good[:-2] + ("AA" if not good.endswith("AA") else "BB")) == 401
    long_ago = time.time() - 46 * 24 * 3600
    assert label(rid, _link(rid, now=long_ago)["Authorization"].split()[1]) == 401   # expired
    assert label(other, good) == 404                                                   # another return
    lookup_token = customer("o-1")["Authorization"].split()[1]
    assert label(rid, lookup_token) == 401       # an order-wide token is never taken from a URL
    assert label(rid, auth("ops")["Authorization"].split()[1]) == 401


def test_the_customer_acts_on_that_return_from_the_link(api, order):
    rid = start_return(api)["return_id"]
    res = send(api, "POST", f"/returns/{rid}/cancel", {}, _link(rid))
    assert res.status_code == 200, res.body
    assert res.json_body["status"] == "cancelled"
