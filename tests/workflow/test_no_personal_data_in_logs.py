"""No personal data in logs: a full lifecycle, every log line captured and searched.

Captured: every line the built functions write in their worker processes (their log streams,
with their real formatters and masking), and every record this process logs.
"""
from __future__ import annotations

import io
import logging

import pytest

from infra.local import dispatch
from returns_core.edge import auth

from tests.conftest import GatewayClient

from .helpers import Http, carrier_event, order_payload, wait_for

pytestmark = pytest.mark.xdist_group("workflow")

EMAIL, PHONE, NAME = "zoe.privat@example.org", "+33611223344", "Zoé Privatova"
STREET, CITY_LINE = "27 rue des Secrets", "Appartement 4B"
NEEDLES = (EMAIL, "zoe.privat", PHONE, "611223344", "06 11 22 33 44", NAME, "Privatova", STREET, "rue des Secrets",
           CITY_LINE)


@pytest.fixture
def verbose_stack(monkeypatch):
    """The stack with Lambda's log-level control at INFO, the deployed level, for every logger of
    every function (the root logger too, so our module loggers speak). Not DEBUG: botocore's
    carries whole request bodies and is never enabled in production."""
    from tests.conftest import deployed_stack

    with deployed_stack(monkeypatch, environment_overrides={"AWS_LAMBDA_LOG_LEVEL": "INFO"}) as deployed:
        yield deployed


def test_a_full_lifecycle_logs_no_email_phone_name_or_address(verbose_stack, caplog, capfd):
    # Every line the built functions write in their worker processes (their log streams), and
    # whatever this process logs (the test's side of the emulator).
    caplog.set_level(logging.INFO)
    first_worker_line = len(dispatch.sink.lines)
    _lifecycle(Http(GatewayClient()))

    worker_lines = [line for _, line in dispatch.sink.lines[first_worker_line:]]
    out, err = capfd.readouterr()
    records = [f"{r.name} {r.getMessage()} {vars(r)!r}" for r in caplog.records]
    everything = worker_lines + out.splitlines() + err.splitlines() + records
    assert len(worker_lines) > 20, "the lifecycle should have logged something"
    # Powertools' own output (its JSON log lines and metrics) is in the captured streams.
    assert any('"service":"returns"' in line for line in worker_lines), "the Powertools lines were not captured"
    # (AwaitCallback may never run: a fast client moves the return on before the label step is back.)
    assert {fn for fn, _ in dispatch.sink.lines[first_worker_line:]} >= {
        "ApiFunction", "IssueLabelFunction", "SettleFunction"}
    leaks = [(needle, line[:300]) for line in everything for needle in NEEDLES if needle.lower() in line.lower()]
    assert not leaks, leaks


def _lifecycle(http: Http) -> None:
    store = auth.mint("store", "shop")
    warehouse = auth.mint("warehouse", "wh:bob")
    order = order_payload(email=EMAIL, provider="manual")
    order["customer"].update(name=NAME, phone=PHONE)
    order["shipping_address"].update(name=NAME, line1=STREET, line2=CITY_LINE)

    status, body, _ = http.call("PUT", "/orders/ORD-PII", order, token=store)
    assert status == 201, body
    # a failed lookup carries the email too
    assert http.call("POST", "/returns/lookup", {"order_id": "ORD-PII", "email": "x" + EMAIL})[0] == 404
    status, body, _ = http.call("POST", "/returns/lookup", {"order_id": "ORD-PII", "email": EMAIL})
    assert status == 200, body
    customer = body["token"]
    status, ret, _ = http.call("POST", "/returns", {
        "order_id": "ORD-PII", "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small",
                                          "comment": f"call me on {PHONE}"}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, ret
    rid = ret["return_id"]

    def get():
        return http.call("GET", f"/returns/{rid}", token=customer)[1]

    ret = wait_for(get, lambda r: r["status"] == "awaiting_dropoff", what="the label")
    assert carrier_event(http, ret["label"]["tracking_number"], "dropped_off")[0] == 202
    wait_for(get, lambda r: r["status"] == "in_transit", what="in transit")
    status, scan, _ = http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=warehouse)
    assert status == 200, scan
    status, inspected, _ = http.call("POST", f"/returns/{rid}/inspection", {
        "items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]}, token=warehouse)
    assert status == 200, inspected
    wait_for(get, lambda r: r["status"] == "refunded", what="the refund")
    status, closed, _ = http.call("POST", f"/returns/{rid}/dispute", {"message": f"write to {EMAIL}"},
                                  token=customer)
    assert status in (200, 409), closed


def test_the_net_masks_emails_and_phones_whoever_logs_them(caplog):
    """The mask under the discipline: a careless line in the domain or a handler still leaks nothing."""
    from aws_lambda_powertools import Logger

    from returns_core import logsafe

    buffer = io.StringIO()
    handler_logger = logsafe.install(
        Logger(service="returns-logsafe-test", logger_handler=logging.StreamHandler(buffer)))
    with caplog.at_level(logging.INFO):
        logging.getLogger("returns_core.careless").warning("mail %s or call %s", EMAIL, PHONE)
        handler_logger.info(f"customer {EMAIL}", extra={"phone": PHONE, "nested": {"to": EMAIL}})
        try:
            raise ValueError(f"cannot reach {EMAIL}")
        except ValueError:
            handler_logger.exception("failed")
    written = buffer.getvalue() + " ".join(r.getMessage() for r in caplog.records)
    assert EMAIL not in written and PHONE not in written, written
    assert "<email>" in written and "<phone>" in written
    assert '"level":"ERROR"' in written.replace(" ", "") and "ValueError" in written
    assert logsafe.mask("refund 2204 EUR on 2026-11-22T10:00:00Z, LC00000000001") == \
        "refund 2204 EUR on 2026-11-22T10:00:00Z, LC00000000001"
