"""Issue 19: claims, a problem with an order that needs no return parcel (POST /claims, photos,
GET /claims/{id}, resolve, GET /ops/claims). In-process app on moto; the API's synchronous invoke
of the Settle function to pay a claim is answered by what Settle runs (`usecases.claims.pay_refund`,
test_api_unit.settle_answers_the_ledger_check). A claim's refund is paid once, through the ledger
(`kind: claim`), and with refunds and adjustments of the same order never passes the capture."""
from __future__ import annotations

import json
import threading

import pytest

from tests.api.support import auth, boto, customer, error_of, order_body, roll_up_finance, send, ship, start_return

CAPTURED = 12997
# What the order's lines were paid (rules/paid.py over order_body): its capture, shared by list price.
TSHIRT_UNIT_PAID = 2499
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def mail(aws):
    """The SES templates and sender, as the stack deploys them (template.yaml's generated templates)."""
    from infra.mail.ses_templates import ses_template_definitions

    ses = boto("ses")
    ses.verify_email_identity(EmailAddress="returns@example.com")
    for definition in ses_template_definitions("api-test"):
        ses.create_template(Template=definition)
    return ses


def _open(api, order_id: str = "o-1", headers: dict | None = None, **body):
    payload = {"order_id": order_id, "kind": "damaged_on_arrival", "lines": [{"sku": "TSHIRT-M", "qty": 1}],
               "message": "The print was torn when I opened the parcel", **body}
    return send(api, "POST", "/claims", payload, headers or customer(order_id))


def _claim(api, **body) -> str:
    res = _open(api, **body)
    assert res.status_code == 201, res.body
    return res.json_body["claim_id"]


def _resolve(api, cid: str, headers: dict | None = None, **body):
    return send(api, "POST", f"/claims/{cid}/resolve", {"decision": "refund", "note": "Sorry about it", **body},
                {**auth("ops"), **(headers or {})})


def _order(order_id: str = "o-1"):
    from returns_core.store.models import OrderModel

    from tests.money import by_movement

    order = OrderModel.get(order_id, consistent_read=True)
    return int(order.refunded_total or 0), by_movement(order.refund_holds or {})


def _claim_entries(cid: str):
    from returns_core.store import ledger

    return [(e.kind, int(e.amount), e.entry_id) for e in ledger.entries() if e.return_id == cid]


def _sent_templates() -> list[str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [m.template for m in backend.sent_messages if hasattr(m, "template")]


def _published(variable: str) -> list[dict]:
    """What was published on the topic named by this environment variable (moto's record of it)."""
    import os

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    topic = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[os.environ[variable]]
    return [json.loads(sent[1]) for sent in topic.sent_notifications]


# --- opening a claim -----------------------------------------------------------------

def test_a_claim_is_opened_ops_is_alerted_and_the_customer_told(api, order, mail):
    res = _open(api)
    assert res.status_code == 201, res.body
    body = res.json_body
    assert body["status"] == "open" and body["claim_id"].startswith("clm_")
    assert body["lines"] == [{"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 1, "paid": TSHIRT_UNIT_PAID}]
    types = [t["type"] for t in body["timeline"]]
    assert types[0] == "claim.opened" and "message.sent" in types and "effect.failed" not in types
    assert all(t["claim_id"] == body["claim_id"] for t in body["timeline"])
    assert _sent_templates() == ["api-test-claim_received-fr"]   # the order's customer speaks French
    alerts = [a for a in _published("OPS_TOPIC_ARN") if a["type"] == "claim.opened"]
    assert [a["data"]["claim_id"] for a in alerts] == [body["claim_id"]]
    assert "ana@example.com" not in json.dumps(alerts)
    # The timeline's entries are in the timeline table, under the claim's id, and name it.
    from returns_core.store.models import TimelineEntryModel

    stored = list(TimelineEntryModel.query(body["claim_id"], consistent_read=True))
    assert stored and {e.claim_id for e in stored} == {body["claim_id"]}


BAD_CLAIMS = [   # (body, the field named, status): one app for all, its setup is the slow part
    ({"kind": "broken"}, "kind", 422),
    ({"lines": []}, "lines", 422),
    ({"lines": [{"sku": "NOPE", "qty": 1}]}, "lines[0].sku", 422),
    ({"lines": [{"sku": "TSHIRT-M", "qty": 3}]}, "lines[0].qty", 422),
    ({"lines": [{"sku": "TSHIRT-M", "qty": 1}, {"sku": "TSHIRT-M", "qty": 1}]}, "lines[1].sku", 422),
    ({"lines": [{"sku": "TSHIRT-M", "qty": 0}]}, "lines[0].qty", 422),
    ({"message": ""}, "message", 422),
    ({"message": "x" * 2001}, "message", 422),
    ({"lines": [{"sku": "TSHIRT-M", "qty": "1"}]}, "lines[0].qty", 400),
]


def test_a_bad_claim_is_refused_naming_the_field_and_nothing_is_written(api, order):
    from returns_core.store.models import ClaimModel, TimelineEntryModel

    for body, field, status in BAD_CLAIMS:
        res = _open(api, **body)
        assert res.status_code == status, (body, res.body)
        assert error_of(res)["details"].get("field") == field, (body, error_of(res))
    assert list(ClaimModel.scan()) == [] and list(TimelineEntryModel.scan()) == []


def test_a_customer_claims_only_on_its_own_order(api, order):
    assert send(api, "PUT", "/orders/o-2", order_body(), auth("store")).status_code == 201
    res = _open(api, "o-1", headers=customer("o-2"))
    assert res.status_code == 404 and error_of(res)["code"] == "order_not_found"


def test_another_customer_never_sees_a_claim(api, order):
    assert send(api, "PUT", "/orders/o-2", order_body(), auth("store")).status_code == 201
    cid = _claim(api)
    for method, path, body in (("GET", f"/claims/{cid}", None), ("POST", f"/claims/{cid}/photos", {}),
                               ("GET", "/claims/clm_unknown", None)):
        res = send(api, method, path, body, customer("o-2"))
        assert res.status_code == 404 and error_of(res)["code"] == "claim_not_found", (path, res.body)
        assert "TSHIRT" not in res.body.decode()
    mine = send(api, "GET", f"/claims/{cid}", None, customer("o-1"))
    assert mine.status_code == 200 and mine.json_body["claim_id"] == cid


# --- photos ------------------------------------------------------------------------------

def _upload(form: dict, data: bytes, content_type: str | None = None):
    """Post the file as a browser posts the presigned form (multipart, the file last)."""
    import requests

    fields = dict(form["fields"])
    if content_type is not None:
        fields["Content-Type"] = content_type
    return requests.post(form["url"], data=fields, files={"file": ("photo", data)}, timeout=10)


def test_the_upload_form_enforces_size_and_type_in_its_policy(api, order):
    import base64

    cid = _claim(api)
    res = send(api, "POST", f"/claims/{cid}/photos", {"content_type": "image/png"}, customer("o-1"))
    assert res.status_code == 201, res.body
    form = res.json_body["upload"]
    assert res.json_body["photo_id"].startswith("pho_") and form["url"]
    assert form["fields"]["Content-Type"] == "image/png"
    assert form["fields"]["key"] == f"claims/{cid}/{res.json_body['photo_id']}"
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert ["content-length-range", 1, 10 * 1024 * 1024] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    bad = send(api, "POST", f"/claims/{cid}/photos", {"content_type": "application/pdf"}, customer("o-1"))
    assert bad.status_code == 422 and error_of(bad)["details"]["field"] == "content_type"
    # Staff are no uploaders.
    assert send(api, "POST", f"/claims/{cid}/photos", {}, auth("ops")).status_code == 403


def test_bad_photos_are_never_shown_to_staff_and_are_deleted(api, order):
    """moto does not enforce a POST policy (moto/s3/responses.py `_bucket_response_post` stores whatever
    comes): S3 refuses these on AWS; here the check on read is what stops them, and it must."""
    cid = _claim(api)

    def form(content_type: str = "image/jpeg") -> dict:
        res = send(api, "POST", f"/claims/{cid}/photos", {"content_type": content_type}, customer("o-1"))
        assert res.status_code == 201, res.body
        return res.json_body

    good, too_large, not_image, wrong_type, never_sent = form(), form(), form(), form(), form()
    _upload(good["upload"], JPEG)
    from returns_core.outbound import claim_photos

    s3 = boto("s3")
    s3.put_object(Bucket="api-labels", Key=too_large["upload"]["fields"]["key"],   # past 10 MB
                  Body=JPEG + b"\x00" * (10 * 1024 * 1024), ContentType="image/jpeg")
    _upload(not_image["upload"], b"%PDF-1.4 not a photo at all")                  # bytes are no image
    s3.put_object(Bucket="api-labels", Key=wrong_type["upload"]["fields"]["key"], Body=PNG,
                  ContentType="text/html")                                         # stored as another type
    got = send(api, "GET", f"/claims/{cid}", None, auth("ops")).json_body
    by_id = {p["photo_id"]: p for p in got["photos"]}
    assert by_id[good["photo_id"]]["status"] == "ok" and by_id[good["photo_id"]]["url"]
    too_large_photo = by_id[too_large["photo_id"]]
    assert (too_large_photo["status"], too_large_photo["problem"]) == ("rejected", "too_large")
    assert by_id[not_image["photo_id"]]["problem"] == "not_an_image"
    assert by_id[wrong_type["photo_id"]]["problem"] == "not_an_image"
    assert by_id[never_sent["photo_id"]]["status"] == "missing"
    assert [p for p in got["photos"] if p["status"] != "ok" and "url" in p] == []
    for bad in (too_large, not_image, wrong_type):
        assert claim_photos.check(bad["upload"]["fields"]["key"]) == "missing"   # deleted
    import requests

    shown = requests.get(by_id[good["photo_id"]]["url"], timeout=10)
    assert shown.status_code == 200 and shown.content == JPEG
    # The customer sees the photos by id, never a staff link.
    mine = send(api, "GET", f"/claims/{cid}", None, customer("o-1")).json_body
    assert all("url" not in p for p in mine["photos"]) and len(mine["photos"]) == 5


# --- resolving -----------------------------------------------------------------------------

def test_a_refund_is_paid_once_as_a_claim_entry_and_the_ledger_verifies(api, order, mail):
    from returns_core.usecases import claims, ledger_audit

    cid = _claim(api)
    res = _resolve(api, cid, method="store_credit", headers={"Idempotency-Key": "k-1"})
    assert res.status_code == 200, res.body
    body = res.json_body
    assert body["status"] == "refunded"
    assert body["resolution"]["amount"] == TSHIRT_UNIT_PAID   # default: what the claimed line was paid
    assert body["resolution"]["status"] == "succeeded"
    assert body["resolution"]["reference"] == f"credit:{cid}:claim:1"
    # The same call again (replayed), a new key, and Settle itself run again: still one entry.
    again = _resolve(api, cid, method="store_credit", headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    other = _resolve(api, cid, method="store_credit", headers={"Idempotency-Key": "k-2"})
    assert other.status_code == 409 and error_of(other)["code"] == "invalid_status"
    assert claims.pay_refund(cid)["refund"] == "succeeded"
    assert _claim_entries(cid) == [("claim", TSHIRT_UNIT_PAID, f"{cid}:claim:1")]
    assert _order() == (TSHIRT_UNIT_PAID, {})
    assert ledger_audit.verify(None)["ok"]
    assert send(api, "GET", "/finance/ledger/verify", None, auth("finance")).json_body["ok"] is True
    assert "api-test-claim_resolved-fr" in _sent_templates()
    types = [t["type"] for t in send(api, "GET", f"/claims/{cid}", None, customer("o-1")).json_body["timeline"]]
    assert types.count("claim.resolved") == 1 and types.count("claim.refunded") == 1
    # Finance sees the kind on the page, in the CSV and in the reconciliation.
    from returns_core.rules import clock

    day = clock.iso()[:10]
    rows = send(api, "GET", f"/finance/refunds?from={day}&to={day}", None, auth("finance")).json_body["items"]
    assert [(r["kind"], r["amount"], r["return_id"]) for r in rows] == [("claim", TSHIRT_UNIT_PAID, cid)]
    csv_text = api.http.get(f"/finance/refunds.csv?from={day}&to={day}",
                            headers={"Accept": "*/*", **auth("finance")}).body.decode()
    assert csv_text.splitlines()[1].split(",")[-1] == "claim"
    roll_up_finance()
    recon = send(api, "GET", f"/finance/reconciliation?from={day}&to={day}", None, auth("finance")).json_body
    assert recon["orders"][0]["refunded_in_range_by_kind"] == {"claim": TSHIRT_UNIT_PAID}


def test_a_failed_invoke_leaves_the_refund_pending_and_the_same_call_pays_it_once(api, order):
    from returns_core import aws as core_aws

    from tests.api.support import settle_answers_the_ledger_check

    cid = _claim(api)
    events = core_aws.client("lambda").meta.events
    events.unregister("before-call.lambda.Invoke", unique_id="settle-ledger-check")   # Settle unreachable
    try:
        res = _resolve(api, cid, amount=1000, method="store_credit", headers={"Idempotency-Key": "k-9"})
    finally:
        settle_answers_the_ledger_check()
    assert res.status_code == 503 and error_of(res)["code"] == "refund_pending", res.body
    assert res.headers.get("Retry-After")
    got = send(api, "GET", f"/claims/{cid}", None, auth("ops")).json_body
    assert got["status"] == "refund_pending" and got["resolution"]["amount"] == 1000
    pending = send(api, "GET", "/ops/claims?status=refund_pending", None, auth("ops")).json_body
    assert [c["claim_id"] for c in pending["items"]] == [cid]
    assert _order() == (0, {f"{cid}:claim": 1000}) and _claim_entries(cid) == []
    # Another amount is not this decision.
    changed = _resolve(api, cid, amount=999, method="store_credit")
    assert changed.status_code == 409
    paid = _resolve(api, cid, amount=1000, method="store_credit", headers={"Idempotency-Key": "k-9"})
    assert paid.status_code == 200 and paid.json_body["status"] == "refunded", paid.body
    assert _resolve(api, cid, amount=1000, method="store_credit").status_code == 409
    assert _claim_entries(cid) == [("claim", 1000, f"{cid}:claim:1")]
    assert _order() == (1000, {})


def test_an_over_refund_is_422_naming_amount_and_holds_nothing(api, order):
    from returns_core.store.models import OrderModel

    cid = _claim(api)
    OrderModel.get("o-1").update(actions=[OrderModel.refunded_total.set(CAPTURED - 100)])
    res = _resolve(api, cid, amount=101, method="store_credit")
    assert res.status_code == 422, res.body
    assert (error_of(res)["code"], error_of(res)["details"]["field"]) == ("over_refund", "amount")
    assert send(api, "GET", f"/claims/{cid}", None, auth("ops")).json_body["status"] == "open"
    assert _order() == (CAPTURED - 100, {})
    # The default amount (2499) is past what is left too.
    assert error_of(_resolve(api, cid, method="store_credit"))["code"] == "over_refund"


BAD_RESOLUTIONS = [({"decision": "refund", "amount": 0}, "amount"),
                   ({"decision": "refund", "amount": 1.5}, "amount"),
                   ({"decision": "reship", "amount": 100}, "amount"),
                   ({"decision": "reject", "method": "store_credit"}, "method"),
                   ({"decision": "refund", "note": ""}, "note"),
                   ({"decision": "maybe"}, "decision")]


def test_a_bad_resolution_is_422_naming_the_field(api, order):
    cid = _claim(api)
    for body, field in BAD_RESOLUTIONS:
        res = _resolve(api, cid, **body)
        assert res.status_code == 422, (body, res.body)
        assert error_of(res)["details"]["field"] == field, (body, error_of(res))
    assert send(api, "GET", f"/claims/{cid}", None, auth("ops")).json_body["status"] == "open"
    assert _order() == (0, {})


def test_an_offline_paid_order_refunds_a_claim_as_store_credit_only(api):
    body = order_body(payment={"provider": "manual", "reference": "bank-1", "captured_amount": CAPTURED})
    assert send(api, "PUT", "/orders/o-1", body, auth("store")).status_code == 201
    cid = _claim(api)
    res = _resolve(api, cid)
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "method"
    assert _order() == (0, {})
    assert _resolve(api, cid, method="store_credit").json_body["status"] == "refunded"


def test_reship_tells_the_store_and_reject_tells_the_customer_why(api, order, mail):
    reship, reject = _claim(api), _claim(api, kind="not_received")
    res = _resolve(api, reship, decision="reship", note="A new one is on its way")
    assert res.status_code == 200 and res.json_body["status"] == "reship_requested", res.body
    asked = [e for e in _published("EVENTS_TOPIC_ARN") if e["type"] == "claim.reship_requested"]
    assert [(e["claim_id"], e["data"]["lines"]) for e in asked] == [(reship, [{"sku": "TSHIRT-M", "qty": 1}])]
    res = _resolve(api, reject, decision="reject", note="The carrier shows it delivered to you")
    assert res.status_code == 200 and res.json_body["status"] == "rejected"
    assert res.json_body["resolution"]["note"] == "The carrier shows it delivered to you"
    assert _sent_templates().count("api-test-claim_resolved-fr") == 2
    assert _order() == (0, {}) and _claim_entries(reship) == _claim_entries(reject) == []
    # Decided is decided.
    assert _resolve(api, reject, decision="reship", note="changed my mind").status_code == 409


def test_ops_lists_claims_by_status_a_page_at_a_time(api, order):
    ids = [_claim(api), _claim(api), _claim(api, lines=[{"sku": "JEANS-32", "qty": 1}])]
    first = send(api, "GET", "/ops/claims?status=open&limit=2", None, auth("ops")).json_body
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = send(api, "GET", f"/ops/claims?status=open&limit=2&cursor={first['next_cursor']}", None,
                auth("ops")).json_body
    assert [c["claim_id"] for c in first["items"] + rest["items"]] == ids and rest["next_cursor"] is None
    assert "timeline" not in first["items"][0]
    wrong = send(api, "GET", f"/ops/claims?status=rejected&cursor={first['next_cursor']}", None, auth("ops"))
    assert wrong.status_code == 400 and error_of(wrong)["details"]["field"] == "cursor"
    assert send(api, "GET", "/ops/claims?status=nope", None, auth("ops")).status_code == 422
    assert send(api, "GET", "/ops/claims", None, customer("o-1")).status_code == 403


# --- never past the capture: claims + adjustments + refunds, raced --------------------------

def test_racing_claims_adjustments_and_refunds_of_one_order_never_pass_the_capture(api, order):
    """Two claims, a dispute's adjustment and a return's refund hold at once what is left of one
    order's capture, each asking all of it: exactly one wins; paid, the total is the capture."""
    from returns_core.store.models import OrderModel
    from returns_core.usecases import disputes, settlement

    left = 1500
    claims_ = [_claim(api), _claim(api, kind="missing_item", lines=[{"sku": "JEANS-32", "qty": 1}])]
    disputed = start_return(api)["return_id"]
    ship(disputed, status="disputed")
    OrderModel.get("o-1").update(actions=[OrderModel.refunded_total.set(CAPTURED - left)])
    barrier = threading.Barrier(4)
    answers: dict[str, object] = {}

    def claim(cid: str) -> None:
        barrier.wait()
        answers[cid] = _resolve(api, cid, amount=left, method="store_credit").status_code

    def adjustment() -> None:
        barrier.wait()
        answers["adjustment"] = send(api, "POST", f"/returns/{disputed}/dispute/resolve",
                                     {"decision": "uphold", "note": "Sorry", "refund_amount": left,
                                      "method": "store_credit"}, auth("ops")).status_code

    def refund() -> None:   # a return's own refund reserving the same money (settlement's first step)
        barrier.wait()
        try:
            settlement.hold(OrderModel.get("o-1", consistent_read=True), "ret_racer", left)
            answers["refund"] = 200
        except Exception as exc:  # noqa: BLE001 - the loser's refusal is the point
            answers["refund"] = type(exc).__name__

    threads = [threading.Thread(target=claim, args=(c,)) for c in claims_] + \
        [threading.Thread(target=adjustment), threading.Thread(target=refund)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [k for k, v in answers.items() if v == 200]
    assert len(winners) == 1, answers
    refunded, holds = _order()
    assert refunded + sum(holds.values()) == CAPTURED
    if winners == ["adjustment"]:
        disputes.pay_adjustment(disputed)
    for cid in claims_:
        status = send(api, "GET", f"/claims/{cid}", None, auth("ops")).json_body["status"]
        assert status == ("refunded" if cid in winners else "open")
    refunded, holds = _order()
    assert refunded + sum(holds.values()) == CAPTURED and refunded <= CAPTURED


def test_racing_resolves_of_one_claim_pay_it_once(api, order):
    from returns_core.usecases import ledger_audit

    cid = _claim(api)
    barrier = threading.Barrier(3)
    answers: list[int] = []

    def resolve() -> None:
        barrier.wait()
        answers.append(_resolve(api, cid, amount=700, method="store_credit").status_code)

    threads = [threading.Thread(target=resolve) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 200 in answers and set(answers) <= {200, 409}, answers
    assert _claim_entries(cid) == [("claim", 700, f"{cid}:claim:1")]
    assert _order() == (700, {})
    assert ledger_audit.verify(None)["ok"]
