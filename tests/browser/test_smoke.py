"""The local stack serves its pages to a real Chromium."""
from __future__ import annotations

import pytest

from .conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_local_stack_serves_health_and_the_portal(local_stack, phone_page):
    assert local_stack.request("GET", "/health")[0] == 200
    phone_page.goto(local_stack.url + "/portal")
    assert phone_page.locator("h1").count() >= 1
    shot(phone_page, "smoke-portal")


def test_token_command_mints_tokens_the_stack_accepts(local_stack):
    token = local_stack.token("warehouse", "bob")
    status, body = local_stack.request("GET", "/warehouse/unmatched", token=token)
    assert status == 200 and body == {"items": []}
    assert local_stack.request("GET", "/warehouse/unmatched", token="nope")[0] == 401
