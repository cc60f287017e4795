"""Shared fixtures: the real template deployed into in-process moto, handlers dispatched in-process."""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT / "layers/returns_core/python", ROOT / "functions/api", ROOT):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

# Before anything imports boto3: no real AWS, ever.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "Returns",
    "POWERTOOLS_SERVICE_NAME": "returns", "POWERTOOLS_DEV": "false",
})
os.environ.pop("AWS_ENDPOINT_URL", None)

# `slow` (left out by `make test-fast`, run by `make test`): a test on a deployed stack (the template in moto,
# the built functions in worker processes: seconds each) or on a launched local stack is marked here, from
# the fixtures it uses or the folder it is in, so a new one is too; any other test that takes seconds is
# marked where it is written.
STACK_FIXTURES = frozenset({"stack", "stripe_stack", "stacks", "local_stack"})
STACK_FOLDERS = (ROOT / "tests" / "workflow",)   # the state machine's tests: every one deploys the stack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if STACK_FIXTURES & set(getattr(item, "fixturenames", ())) or any(
                item.path.is_relative_to(folder) for folder in STACK_FOLDERS):
            item.add_marker(pytest.mark.slow)


MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
_emulator = None


def emulator_endpoint() -> str:
    """moto's server in this test process, for the functions' worker processes to call.

    It serves the same backends as the test's in-process `mock_aws` (one moto, two doors): the
    test sets up and inspects state in-process, the built functions reach it over HTTP as they
    would reach AWS. One per pytest process, on a free port, stopped when the process ends."""
    global _emulator
    if _emulator is None:
        import atexit
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)   # an access line per AWS call otherwise
        _emulator = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        _emulator.start()
        atexit.register(_emulator.stop)
    host, port = _emulator.get_host_and_port()
    return f"http://{host}:{port}"


def emulator_credentials() -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": emulator_endpoint(), "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}


@contextlib.contextmanager
def deployed_stack(monkeypatch, overrides: dict | None = None, environment_overrides: dict | None = None,
                   demo_waits: bool = True):
    """template.yaml deployed into in-process moto (samconfig `local` values, plus `overrides` of template
    parameters and `environment_overrides` of the functions' variables); Lambda tasks run the built
    artifacts in worker processes (infra/local/workers.py) that reach this moto over HTTP.

    `demo_waits`: the workflow waits as `make demo`'s does (deploy.DEMO_PARAMETERS: minutes, not weeks),
    while customers are told the real periods; False deploys exactly what `make run` deploys. A test that
    needs one wait to run out overrides its period (a period under rules.waits.MIN_SCALED_WAIT_SECONDS is
    waited as given)."""
    from moto import mock_aws

    from infra.local import deploy, dispatch, post_policy
    from returns_core import aws
    from returns_core.outbound import secret_store as secrets

    with mock_aws(config=MOTO_CONFIG):
        aws.reset()
        secrets.reset()
        # A stack deployed as staging or prod waits the real periods: the template's rule refuses WaitScale there.
        demo = demo_waits and (overrides or {}).get("Stage", "local") == "local"
        parameters = {**(deploy.DEMO_PARAMETERS if demo else {}), **(overrides or {})}
        deployed = deploy.deploy("local", overrides=parameters, environment_overrides=environment_overrides)
        credentials = emulator_credentials()
        dispatch.install(deployed.functions, credentials)
        # The workers sign S3 forms with these; the emulator checks a form's signature (post_policy.py).
        post_policy.know(credentials["AWS_ACCESS_KEY_ID"], credentials["AWS_SECRET_ACCESS_KEY"])
        for key, value in (environment_overrides or {}).items():
            if value is None:
                monkeypatch.delenv(key, raising=False)
        for key, value in deployed.environment.items():
            monkeypatch.setenv(key, value)
        # In-process the test also plays the Settle step (settlement.settle, ledger.append): it gets
        # that function's own variables (the ledger's anchors and key), which the API does not have.
        for key, value in deployed.function("SettleFunction").environment.items():
            if key not in deployed.environment:
                monkeypatch.setenv(key, value)
        try:
            yield deployed
        finally:
            _stop_executions()
            dispatch.uninstall()
            aws.reset()
            secrets.reset()


def _stop_executions() -> None:
    """A test's executions must not outlive it: moto's interpreter threads would go on, time out,
    and alert into the next test's topics (same stack name, same ARNs)."""
    import boto3

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    for machine in sfn.list_state_machines()["stateMachines"]:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"],
                                                                 statusFilter="RUNNING"):
            for execution in page["executions"]:
                sfn.stop_execution(executionArn=execution["executionArn"], error="TestEnded")


class GatewayResponse:
    def __init__(self, response) -> None:
        self.status_code = response.status_code
        self.headers = {name: value for name, value in response.headers}
        self.body = response.body


class GatewayClient:
    """The built ApiFunction behind the API Gateway emulation (infra/local/gateway.py), called
    without a socket: `client.http.get("/health", headers=..., body=...)` as chalice.test's is."""

    def __init__(self, base_path: str = "") -> None:
        from infra.local import dispatch
        from infra.local.gateway import RestApi
        from infra.local.template import load

        self.base_path = base_path
        self.api = RestApi.from_template(load(), dispatch.invoker("ApiFunction"), base_path=base_path)
        self.http = self

    def request(self, method: str, path: str, headers: dict | None = None, body=None) -> GatewayResponse:
        data = body.encode() if isinstance(body, str) else (body or b"")
        sent = [("Host", "127.0.0.1"), *((headers or {}).items())]
        if data:
            sent.append(("Content-Length", str(len(data))))
        return GatewayResponse(self.api.handle(method.upper(), self.base_path + path, sent, data))

    def get(self, path: str, **kw): return self.request("GET", path, **kw)
    def post(self, path: str, **kw): return self.request("POST", path, **kw)
    def put(self, path: str, **kw): return self.request("PUT", path, **kw)
    def delete(self, path: str, **kw): return self.request("DELETE", path, **kw)
    def patch(self, path: str, **kw): return self.request("PATCH", path, **kw)


@pytest.fixture
def stack(monkeypatch):
    """The real template and state machine in moto; see deployed_stack."""
    with deployed_stack(monkeypatch) as deployed:
        yield deployed


@pytest.fixture
def load_handler(monkeypatch):
    """A function's handler module imported as Lambda cold-starts it (tests/handlers.py)."""
    from tests import handlers

    yield handlers.loader(monkeypatch)
    handlers.forget_function_modules()


@pytest.fixture(scope="session")
def localstripe_url():
    """Base URL of a localstripe shared by the whole test session (tests/payments_support.py)."""
    from tests.payments_support import running_localstripe

    with running_localstripe() as url:
        yield url
