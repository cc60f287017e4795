"""The outbox is a window of the local stack, never part of what ships."""
from __future__ import annotations

import json

import pytest

from tests.conftest import GatewayClient

pytestmark = pytest.mark.xdist_group("workflow")


def test_the_deployed_api_has_no_outbox(stack):
    client = GatewayClient()
    for path in ("/outbox/messages", "/outbox"):
        response = client.http.get(path)
        # API Gateway's own answer for a route the API does not have
        assert response.status_code == 403, path
        assert json.loads(response.body) == {"message": "Missing Authentication Token"}
    assert client.http.get("/health").status_code == 200
