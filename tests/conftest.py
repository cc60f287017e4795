"""Shared fixtures: the real template deployed into in-process moto, handlers dispatched in-process."""
from __future__ import annotations

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


@pytest.fixture
def stack(monkeypatch):
    """template.yaml deployed into moto (samconfig `local` values), Lambda tasks run in-process."""
    from moto import mock_aws

    from infra.local import deploy, dispatch
    from returns_core import aws, secrets

    with mock_aws(config=MOTO_CONFIG):
        aws.reset()
        secrets.reset()
        deployed = deploy.deploy("local")
        dispatch.install(deployed.functions)
        for key, value in deployed.environment.items():
            monkeypatch.setenv(key, value)
        try:
            yield deployed
        finally:
            dispatch.uninstall()
            aws.reset()
            secrets.reset()
