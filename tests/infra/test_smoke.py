"""The deploy's smoke check (infra/smoke.py) against the local stack over HTTP: it passes on a
healthy stack, leaves its return cancelled, and names the step that fails."""
from __future__ import annotations

import threading

import pytest

from infra import smoke

pytestmark = pytest.mark.xdist_group("workflow")


@pytest.fixture
def served(stack):
    from infra.local import dispatch
    from infra.local.gateway import RestApi
    from infra.local.server import http_server
    from infra.local.template import load

    server = http_server(RestApi.from_template(load(), dispatch.invoker("ApiFunction")), 0, read_timeout=5.0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _store_token() -> str:
    from returns_core.edge import auth

    return auth.mint("store", sub="store:smoke", ttl=600)


def test_the_smoke_check_passes_on_a_healthy_stack_and_leaves_its_return_cancelled(served):
    lines: list[str] = []
    return_id = smoke.run(served, _store_token(), "local-carrier-secret", say=lines.append)
    assert len(lines) == 8 and all(line.startswith("ok   ") for line in lines)
    from returns_core.store import returns

    assert returns.get(return_id).status == "cancelled"


def test_a_wrong_carrier_key_fails_at_that_step(served):
    with pytest.raises(smoke.SmokeFailed, match="carrier webhook: 401"):
        smoke.run(served, _store_token(), "not-the-key", say=lambda line: None)


def test_a_wrong_store_token_fails_at_the_first_store_step(served):
    with pytest.raises(smoke.SmokeFailed, match=r"PUT /orders: HTTP 401"):
        smoke.run(served, "not-a-token", "local-carrier-secret", say=lambda line: None)


def test_the_store_token_for_the_smoke_check_is_the_store_clients_client_credentials_grant():
    """The token endpoint is Cognito's (not emulated): the request is checked as it would reach it,
    with the client's secret read from the pool, never stored."""
    import base64
    import io
    import json
    import urllib.parse

    import boto3
    from moto import mock_aws

    from infra import deploy

    sent = []

    def endpoint(request, timeout):
        sent.append(request)
        return io.BytesIO(json.dumps({"access_token": "at-123", "token_type": "Bearer"}).encode())

    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool = cognito.create_user_pool(PoolName="staff")["UserPool"]["Id"]
        client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="store", GenerateSecret=True,
                                                 AllowedOAuthFlows=["client_credentials"])["UserPoolClient"]
        outs = {"UserPoolId": pool, "StoreClientId": client["ClientId"],
                "TokenEndpoint": "https://shop.auth.us-east-1.amazoncognito.com/oauth2/token"}
        assert deploy.store_token(outs, cognito=cognito, opener=endpoint) == "at-123"
    request, = sent
    assert request.full_url == outs["TokenEndpoint"] and request.get_method() == "POST"
    assert urllib.parse.parse_qs(request.data.decode()) == {"grant_type": ["client_credentials"],
                                                            "scope": ["returns/store"]}
    basic = base64.b64decode(request.get_header("Authorization").split(" ", 1)[1]).decode()
    assert basic == f"{client['ClientId']}:{client['ClientSecret']}"
