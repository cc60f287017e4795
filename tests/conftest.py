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

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@contextlib.contextmanager
def deployed_stack(monkeypatch, overrides: dict | None = None, environment_overrides: dict | None = None):
    """template.yaml deployed into in-process moto (samconfig `local` values, plus `overrides` of template
    parameters and `environment_overrides` of the functions' variables), Lambda tasks run in-process."""
    from moto import mock_aws

    from infra.local import deploy, dispatch
    from returns_core import aws
    from returns_core.outbound import secret_store as secrets

    with mock_aws(config=MOTO_CONFIG):
        aws.reset()
        secrets.reset()
        deployed = deploy.deploy("local", overrides=overrides, environment_overrides=environment_overrides)
        dispatch.install(deployed.functions)
        for key, value in (environment_overrides or {}).items():
            if value is None:
                monkeypatch.delenv(key, raising=False)
        for key, value in deployed.environment.items():
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


@pytest.fixture
def stack(monkeypatch):
    """The real template and state machine in moto; see deployed_stack."""
    with deployed_stack(monkeypatch) as deployed:
        yield deployed
