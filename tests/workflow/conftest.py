"""The workflow tests' fixtures: the deployed stack's API through the gateway emulation, as a client
(`api`) or wrapped in helpers.Http (`http`), and the stack paying through localstripe (`stripe_stack`)."""
from __future__ import annotations

import pytest

from tests.conftest import GatewayClient, deployed_stack

from .helpers import Http


@pytest.fixture
def api(stack):
    yield GatewayClient()


@pytest.fixture
def http(stack):
    yield Http(GatewayClient())


@pytest.fixture
def stripe_stack(monkeypatch, localstripe_url):
    """The `stack` fixture, with every function paying through localstripe instead of Secrets Manager."""
    overrides = {"STRIPE_SECRET_ARN": None, "STRIPE_API_KEY": "sk_test_local", "STRIPE_API_BASE": localstripe_url}
    with deployed_stack(monkeypatch, environment_overrides=overrides) as deployed:
        assert "STRIPE_SECRET_ARN" not in deployed.function("SettleFunction").environment
        yield deployed
