"""The Chalice API in-process, as tests/api's modules drive it: its environment and tables on moto
(the `aws` and `api` fixtures, tests/api/conftest.py, use these), tokens, requests and a few shortcuts
to a state the workflow would have reached."""
from __future__ import annotations

import functools
import hashlib
import hmac
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.handlers import forget_function_modules

ROOT = Path(__file__).resolve().parents[2]
API_DIR = ROOT / "functions" / "api"
CARRIER_SECRET = "local-carrier-secret"
STORE_LINK_SECRET = "local-store-link-secret"

ENV = {
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "ORDERS_TABLE": "api-orders", "RETURNS_TABLE": "api-returns", "TIMELINE_TABLE": "api-timeline",
    "CLAIMS_TABLE": "api-claims", "CONVERSATIONS_TABLE": "api-conversations",
    "LEDGER_TABLE": "api-ledger", "FINANCE_AGGREGATES_TABLE": "api-finance-aggregates",
    "CREDITS_TABLE": "api-credits", "POLICY_TABLE": "api-policy", "SCANS_TABLE": "api-scans",
    "IDEMPOTENCY_TABLE": "api-requests",
    "LABELS_BUCKET": "api-labels", "TOKEN_SECRET": "test-token-secret", "CARRIER_SECRET": CARRIER_SECRET,
    "STORE_LINK_SECRET": STORE_LINK_SECRET,
    "SES_TEMPLATE_PREFIX": "api-test", "SENDER_EMAIL": "returns@example.com",
    "LEDGER_VERIFIER_FUNCTION": "api-settle", "LEDGER_ANCHORS_TABLE": "api-ledger-anchors",
    "LEDGER_KEY_SECRET": "test-ledger-key",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
UNSET = ("AWS_ENDPOINT_URL", "TOKEN_SECRET_ARN", "CARRIER_SECRET_ARN", "STORE_LINK_SECRET_ARN", "AWS_PROFILE")


MODELS = ("OrderModel", "ReturnModel", "TimelineEntryModel", "LedgerEntryModel", "CreditModel",
          "UnmatchedScanModel", "RequestRecordModel", "PolicyVersionModel", "ClaimModel",
          "ConversationModel", "MessageModel", "ReplyModel", "FeedbackModel")


def _forget_clients() -> None:
    """Drop cached boto3 clients and PynamoDB connections made elsewhere (maybe for another endpoint)."""
    from returns_core import aws as core_aws
    from returns_core.store import models

    core_aws.reset()
    for name in MODELS:
        getattr(models, name)._connection = None


_api_app: dict[str, object] = {}   # the API's `app` module, imported cold once per test module


def _app_for_this_module():
    """The API imported cold (tests/handlers.py's rules: its own folder, no module of functions/
    cached) at the first test of a module, then kept for the module's tests: the app reads its
    configuration per request, never at import (test_no_configuration_is_read_at_import), so a
    re-import per test (~0.5 s) would only repeat itself. Imported again if another function's
    `app` was loaded in between."""
    import importlib
    import sys

    cached = _api_app.get("app")
    if cached is not None and sys.modules.get("app") is cached:
        return cached
    forget_function_modules()
    sys.path.insert(0, str(API_DIR))
    try:
        module = importlib.import_module("app")
    finally:
        sys.path.remove(str(API_DIR))
    if Path(module.__file__) != API_DIR / "app.py":
        raise RuntimeError(f"imported {module.__file__}, not the API's app.py")
    _api_app["app"] = module
    return module


@functools.cache
def boto(service: str):
    """One client per service for the module: moto intercepts clients made in any mock_aws context."""
    import boto3

    return boto3.session.Session().client(service, region_name="us-east-1")


def _tables_as_the_template_declares_them() -> None:
    """Every table the functions are given (Globals' *_TABLE variables), with its keys and indexes from
    template.yaml, built by the local stack's deploy: the template is the one description of the tables."""
    from infra.local import deploy
    from infra.local.template import load

    template = load()
    variables = {**template["Globals"]["Function"]["Environment"]["Variables"],
                 **template["Resources"]["SettleFunction"]["Properties"]["Environment"]["Variables"]}
    for variable, value in variables.items():
        resource = template["Resources"].get(value.get("Ref") if isinstance(value, dict) else None, {})
        if resource.get("Type") == "AWS::DynamoDB::Table":
            deploy._table({"dynamodb": boto("dynamodb")}, ENV[variable], resource["Properties"])


def settle_answers_the_ledger_check():
    """No Lambda runs here: the API's invokes of the Settle function, for the ledger check and to pay a
    claim's refund, are answered at botocore by what Settle runs (usecases.ledger_audit.verify,
    usecases.claims.pay_refund), as Lambda would return it: a raised error is a FunctionError.
    Returns the function that stops answering (then the invoke reaches moto, which has no such function)."""
    from botocore.awsrequest import AWSResponse
    from botocore.response import StreamingBody

    from returns_core import aws as core_aws
    from returns_core.usecases import claims, ledger_audit

    def answer(params, **_):
        event = json.loads(params["body"])   # the serialized request: its body is the Payload
        error = None
        try:
            if "claim_refund" in event:
                result = claims.pay_refund(event["claim_refund"]["claim_id"])
            else:
                result = ledger_audit.verify(event["ledger_verify"]["days"])
        except Exception as exc:  # noqa: BLE001 - Lambda reports a handler's error this way
            result, error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}, "Unhandled"
        body = json.dumps(result).encode()
        return AWSResponse("https://lambda", 200, {}, None), {
            "StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body)),
            **({"FunctionError": error} if error else {}), "ResponseMetadata": {"HTTPStatusCode": 200}}

    events = core_aws.client("lambda").meta.events
    events.register("before-call.lambda.Invoke", answer, unique_id="settle-ledger-check")
    return lambda: events.unregister("before-call.lambda.Invoke", unique_id="settle-ledger-check")

def token(role: str, sub: str | None = None, order_id: str | None = None, ttl: int = 3600, now=None) -> str:
    from returns_core.edge import auth

    return auth.mint(role, sub=sub or f"{role}:alice", order_id=order_id, ttl=ttl, now=now)


def auth(role: str, **kw) -> dict:
    return {"Authorization": f"Bearer {token(role, **kw)}", "Content-Type": "application/json"}


def customer(order_id: str) -> dict:
    return auth("customer", sub=f"customer:{order_id}", order_id=order_id)


def send(api, method: str, path: str, body=None, headers: dict | None = None):
    raw = body if isinstance(body, (bytes, str)) else (b"" if body is None else json.dumps(body))
    if isinstance(raw, str):
        raw = raw.encode()
    return api.http.request(method, path, headers={"Content-Type": "application/json", **(headers or {})},
                            body=raw)


def order_body(**overrides) -> dict:
    delivered = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    body = {
        "customer": {"email": "ana@example.com", "name": "Ana", "phone": "+33600000000", "locale": "fr-FR"},
        "currency": "EUR", "placed_at": delivered, "delivered_at": delivered,
        "shipping_address": {"line1": "1 rue Oberkampf", "postcode": "75011", "city": "Paris", "country": "FR"},
        "payment": {"provider": "stripe", "reference": "pi_123", "captured_amount": 12997},
        "lines": [{"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 2, "unit_price": 2499, "final_sale": False},
                  {"sku": "JEANS-32", "name": "Jeans 32", "qty": 1, "unit_price": 7999}],
    }
    body.update(overrides)
    return body


def return_body(order_id: str = "o-1", qty=1, **overrides) -> dict:
    body = {"order_id": order_id, "items": [{"sku": "TSHIRT-M", "qty": qty, "reason": "too_small"}],
            "resolution": "refund", "dropoff": {"method": "letterbox"}}
    body.update(overrides)
    return body


def start_return(api, order_id: str = "o-1") -> dict:
    res = send(api, "POST", "/returns", return_body(order_id), customer(order_id))
    assert res.status_code == 201, res.body
    return res.json_body


def error_of(res) -> dict:
    body = res.json_body
    assert set(body) == {"error"}, body
    return body["error"]


def signed(body: bytes, secret: str = CARRIER_SECRET) -> dict:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Carrier-Signature": f"sha256={digest}", "Content-Type": "application/json"}


def ship(return_id: str, tracking: str = "LC00000000001", status: str = "awaiting_dropoff") -> None:
    """What the label step would have done: a tracking number, a label, the status."""
    from returns_core.store.models import ReturnModel
    from returns_core.store.returns import get

    ret = get(return_id)
    ret.update(actions=[ReturnModel.tracking_number.set(tracking), ReturnModel.status.set(status),
                        ReturnModel.label.set({"tracking_number": tracking, "code": ret.code,
                                               "s3_key": f"labels/{return_id}.pdf"})])


def in_process(app_module):
    """The ApiFunction as the gateway invokes it: (result, error), a raised exception an error."""
    from chalice.local import LambdaContext

    def invoke(event):
        try:
            return app_module.app(event, LambdaContext("ApiFunction", 512)), None
        except Exception as exc:  # noqa: BLE001 - Lambda reports an unhandled error; the gateway answers 502
            return {"errorType": type(exc).__name__}, "Unhandled"

    return invoke


def roll_up_finance() -> dict:
    """Finance's roll-up pass (usecases/finance_rollup.py, on a schedule in the stack): what
    /analytics/returns and /finance/reconciliation read next."""
    from returns_core.usecases import finance_rollup

    done = finance_rollup.run()
    assert done["complete"], done
    return done
