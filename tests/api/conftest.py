"""The API tests' fixtures: the app in chalice's test client (`api`) on moto (`aws`), an order (`order`),
and each module's fresh clients; the helpers they use are in tests/api/support.py."""
from __future__ import annotations

import json

import pytest

from tests.api.support import (
    API_DIR,
    ENV,
    UNSET,
    _api_app,
    _app_for_this_module,
    _forget_clients,
    _tables_as_the_template_declares_them,
    auth,
    boto,
    order_body,
    send,
    settle_answers_the_ledger_check,
)
from tests.handlers import forget_function_modules


@pytest.fixture(scope="module", autouse=True)
def _fresh_clients_for_this_module():
    # Once per module, not per test: a new botocore session re-reads its service models (~1.5 s).
    _forget_clients()
    _api_app.clear()
    yield
    _forget_clients()
    if _api_app:
        _api_app.clear()
        forget_function_modules()


@pytest.fixture
def aws(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    from moto import mock_aws

    from infra.local import atomic, partitions

    atomic.install()   # DynamoDB's per-request atomicity, which racing tests rely on (see atomic.py)
    partitions.install()   # a Query reads its partition, as on the local stack (partitions.py)
    with mock_aws():
        _tables_as_the_template_declares_them()
        boto("s3").create_bucket(Bucket=ENV["LABELS_BUCKET"])
        sns = boto("sns")
        monkeypatch.setenv("EVENTS_TOPIC_ARN", sns.create_topic(Name="api-events")["TopicArn"])
        monkeypatch.setenv("OPS_TOPIC_ARN", sns.create_topic(Name="api-ops")["TopicArn"])
        machine = boto("stepfunctions").create_state_machine(
            name="api-lifecycle", roleArn="arn:aws:iam::123456789012:role/sfn",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}))
        monkeypatch.setenv("STATE_MACHINE_ARN", machine["stateMachineArn"])
        monkeypatch.setenv("PARKED_EFFECTS_QUEUE_URL", boto("sqs").create_queue(QueueName="api-parked")["QueueUrl"])
        stop = settle_answers_the_ledger_check()
        try:
            yield
        finally:
            stop()
            atomic.uninstall()
            partitions.uninstall()


@pytest.fixture
def api(aws):
    """The app in chalice's test client, on this test's moto (see _app_for_this_module)."""
    from chalice.test import Client

    app_module = _app_for_this_module()
    with Client(app_module.app, project_dir=str(API_DIR)) as client:
        yield client


@pytest.fixture
def order(api):
    res = send(api, "PUT", "/orders/o-1", order_body(), auth("store"))
    assert res.status_code == 201, res.body
    return "o-1"

