"""Claim photos can never land on a label (issue 28): photos, labels and exports each under their own
top-level prefix of the one bucket; the photo form's policy pins its exact key under the photos' prefix;
IAM lets each function write its own prefix only; and the local emulator refuses a form POST whose
fields break its signed policy, as S3 does (infra/local/post_policy.py), where moto stored any key."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from infra.local import post_policy
from infra.local.template import load
from returns_core.outbound import claim_photos, exports, label_store, message_photos

BUCKET = "returns-local-labelsbucket"
PREFIXES = {"photos": claim_photos.PREFIX, "labels": label_store.PREFIX, "exports": exports.PREFIX}
ids = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@pytest.fixture
def s3_env(monkeypatch):
    monkeypatch.setenv("LABELS_BUCKET", BUCKET)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    from returns_core import aws

    aws.reset()
    yield
    aws.reset()


def _policy(form: dict) -> dict:
    return json.loads(base64.b64decode(form["fields"]["policy"]))


def test_the_prefixes_are_top_level_and_none_contains_another():
    for name, prefix in PREFIXES.items():
        assert prefix.endswith("/") and prefix.count("/") == 1, name
    for a in PREFIXES.values():
        assert [b for b in PREFIXES.values() if b != a and b.startswith(a)] == []


@settings(max_examples=60, deadline=None)
@given(claim_id=ids, photo_id=ids, return_id=ids)
def test_a_photo_key_is_always_under_the_photos_prefix_and_never_a_label_s(claim_id, photo_id, return_id):
    photo = claim_photos.key_of(claim_id, photo_id)
    assert photo.startswith(claim_photos.PREFIX)
    assert not photo.startswith((label_store.PREFIX, exports.PREFIX))
    assert photo != label_store.key_of(return_id)


def test_the_upload_form_pins_its_exact_key_and_refuses_any_other(s3_env):
    key = claim_photos.key_of("clm_1", "pho_1")
    form = claim_photos.upload_form(key, "image/jpeg")
    conditions = _policy(form)["conditions"]
    assert {"key": key} in conditions and form["fields"]["key"] == key
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"], conditions
    for not_a_photo in (label_store.key_of("R-1"), "exports/x/refunds.csv",
                        f"{claim_photos.PREFIX}clm_1/${{filename}}"):
        with pytest.raises(ValueError):
            claim_photos.upload_form(not_a_photo, "image/jpeg")


def _allowed(props: dict, action: str) -> list:
    found = []
    for policy in props.get("Policies", []):
        for st_ in policy.get("Statement", []) if isinstance(policy, dict) else []:
            actions = st_.get("Action", [])
            if st_.get("Effect") == "Allow" and action in (actions if isinstance(actions, list) else [actions]):
                resources = st_["Resource"]
                found += resources if isinstance(resources, list) else [resources]
    return found


def test_each_function_writes_its_own_prefix_and_none_the_whole_bucket():
    resources = load()["Resources"]
    writers = {}
    for lid, res in resources.items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        templates = {name for p in props.get("Policies", []) if isinstance(p, dict) for name in p}
        assert not templates & {"S3WritePolicy", "S3CrudPolicy", "S3FullAccessPolicy", "S3ReadPolicy"}, \
            f"{lid}: a SAM S3 template grants the whole bucket"
        puts = [r["Fn::Sub"] for r in _allowed(props, "s3:PutObject")]
        if puts:
            writers[lid] = set(puts)
    assert writers == {"IssueLabelFunction": {"${LabelsBucket.Arn}/labels/*"},
                       "ApiFunction": {"${LabelsBucket.Arn}/claims/*", "${LabelsBucket.Arn}/exports/*"},
                       # photos of customers' email replies (issue 32), under their own prefix
                       "InboundMailFunction": {"${LabelsBucket.Arn}/messages/*"}}
    assert {f"${{LabelsBucket.Arn}}/{message_photos.PREFIX}*"} == writers["InboundMailFunction"]
    assert f"${{LabelsBucket.Arn}}/{claim_photos.PREFIX}*" in writers["ApiFunction"]
    assert {f"${{LabelsBucket.Arn}}/{label_store.PREFIX}*"} == writers["IssueLabelFunction"]


# --- the POST policy, as S3 checks it -----------------------------------------------------------------

def _secret(access_key: str) -> str | None:
    return "testing" if access_key == "testing" else None


def _fields(form: dict, **changed) -> dict:
    return {**form["fields"], **changed}


def test_a_form_is_taken_only_as_signed(s3_env):
    key = claim_photos.key_of("clm_1", "pho_1")
    form = claim_photos.upload_form(key, "image/png")
    now = datetime.now(UTC)
    post_policy.check(form["fields"], 1000, BUCKET, now, _secret)   # as issued: taken

    def refused(fields: dict, size: int = 1000, bucket: str = BUCKET, at=now, secret=_secret) -> str:
        with pytest.raises(post_policy.Refused) as caught:
            post_policy.check(fields, size, bucket, at, secret)
        return caught.value.code

    assert refused(_fields(form, key=label_store.key_of("R-other"))) == "AccessDenied"   # re-aimed at a label
    assert refused(_fields(form, key=claim_photos.key_of("clm_1", "pho_2"))) == "AccessDenied"
    assert refused(_fields(form, **{"Content-Type": "application/pdf"})) == "AccessDenied"
    assert refused(_fields(form, acl="public-read")) == "AccessDenied"                  # a field it does not name
    assert refused(form["fields"], bucket="another-bucket") == "AccessDenied"
    assert refused(form["fields"], size=claim_photos.MAX_PHOTO_BYTES + 1) == "EntityTooLarge"
    assert refused(form["fields"], size=0) == "EntityTooSmall"
    assert refused(form["fields"], at=now + timedelta(seconds=form["expires_in"] + 1)) == "AccessDenied"
    assert refused(form["fields"], secret=lambda _: "another-secret") == "SignatureDoesNotMatch"
    # A policy rewritten to allow the label's key is not the one that was signed.
    forged = _policy(form)
    forged["conditions"] = [c for c in forged["conditions"] if "key" not in c] + [{"key": "labels/R-other.pdf"}]
    policy = base64.b64encode(json.dumps(forged).encode()).decode()
    assert refused(_fields(form, key="labels/R-other.pdf", policy=policy)) == "SignatureDoesNotMatch"
    assert refused({k: v for k, v in form["fields"].items() if k != "policy"}) == "AccessDenied"


class _Api:
    """The built API behind the gateway emulation: (status, JSON body, headers)."""

    def __init__(self) -> None:
        from tests.conftest import GatewayClient

        self.client = GatewayClient()

    def call(self, method: str, path: str, body=None, token: str | None = None):
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        res = self.client.request(method, path, headers=headers, body=json.dumps(body) if body is not None else None)
        return res.status_code, json.loads(res.body) if res.body else None, res.headers


# slow: a deployed stack
@pytest.mark.slow
def test_the_local_stack_refuses_a_photo_form_re_aimed_at_a_label(monkeypatch):
    """Through the deployed stack: the API (a built worker) hands out the form; the emulator's S3 takes
    the photo where the form says and refuses the same form pointed at a return's label."""
    import boto3
    import requests

    from returns_core.edge import auth

    from tests.conftest import deployed_stack
    from tests.workflow.helpers import order_payload

    with deployed_stack(monkeypatch) as stack:
        http = _Api()
        bucket = stack.environment["LABELS_BUCKET"]
        s3 = boto3.client("s3", region_name="us-east-1")
        label = label_store.key_of("R-someone-else")
        s3.put_object(Bucket=bucket, Key=label, Body=b"%PDF-1.4 the label", ContentType="application/pdf")
        assert http.call("PUT", "/orders/ORD-PH", order_payload(), token=auth.mint("store", "shop"))[0] == 201
        customer = http.call("POST", "/returns/lookup", {"order_id": "ORD-PH", "email": "ana@example.com"})[1]["token"]
        status, claim, _ = http.call("POST", "/claims", {
            "order_id": "ORD-PH", "kind": "damaged_on_arrival", "message": "The jeans arrived torn",
            "lines": [{"sku": "JEANS-32", "qty": 1}]}, token=customer)
        assert status == 201, claim
        status, photo, _ = http.call("POST", f"/claims/{claim['claim_id']}/photos", {"content_type": "image/png"},
                                     token=customer)
        assert status == 201, photo
        form = photo["upload"]
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

        def post(fields: dict) -> requests.Response:
            return requests.post(form["url"], data=fields, files={"file": ("photo.png", png, "image/png")}, timeout=30)

        refused = post({**form["fields"], "key": label})
        assert refused.status_code == 403 and b"Policy Condition failed" in refused.content, refused.content
        assert s3.get_object(Bucket=bucket, Key=label)["Body"].read() == b"%PDF-1.4 the label"
        taken = post(form["fields"])
        assert taken.status_code in (200, 201, 204), taken.content
        assert s3.get_object(Bucket=bucket, Key=form["fields"]["key"])["Body"].read() == png
