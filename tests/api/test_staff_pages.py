"""The staff pages' sign-in configuration (pages.py): Cognito's managed login when the stack has
the pool, the local stack's sign-in when Stage=local, and what the deployed artifact does not have."""
from __future__ import annotations

import json
import re

import pytest

DOMAIN = "https://returns-123456789012.auth.eu-west-1.amazoncognito.com"


def sign_in_config(html: str) -> dict:
    found = re.search(r'<script id="staff-sign-in" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the page carries no sign-in configuration"
    return json.loads(found.group(1))


def connect_src(response) -> list[str]:
    csp = response.headers["Content-Security-Policy"]
    return next(d for d in csp.split(";") if d.strip().startswith("connect-src")).split()[1:]


@pytest.fixture
def deployed_env(monkeypatch):
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("COGNITO_DOMAIN_URL", DOMAIN)
    monkeypatch.setenv("COGNITO_STAFF_CLIENT_ID", "staffclient123")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://returns.shop.example")


@pytest.mark.parametrize("path,roles", [("/warehouse", ["warehouse"]), ("/finance", ["finance"])])
def test_deployed_the_page_signs_in_with_the_managed_login_and_comes_back_to_its_public_address(
        api, deployed_env, path, roles):
    response = api.http.get(path)
    assert response.status_code == 200
    body = response.body.decode()
    assert sign_in_config(body) == {"mode": "cognito", "domain": DOMAIN, "client_id": "staffclient123",
                                    "redirect_uri": f"https://returns.shop.example{path}", "roles": roles}
    assert "window.staffSession" in body and "<!-- staff-session -->" not in body
    # The code is redeemed at the pool's /oauth2/token from the page: that origin, and no other.
    assert connect_src(response) == ["'self'", DOMAIN]
    assert "paste" not in body.lower()   # no pasted token any more


def test_locally_the_page_uses_the_local_sign_in_and_talks_only_to_its_own_origin(api, monkeypatch):
    monkeypatch.setenv("STAGE", "local")
    for name in ("COGNITO_DOMAIN_URL", "COGNITO_STAFF_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    response = api.http.get("/warehouse")
    assert sign_in_config(response.body.decode()) == {"mode": "local", "client_id": "local-staff",
                                                      "redirect_uri": None, "roles": ["warehouse"]}
    assert connect_src(response) == ["'self'"]


def test_a_deployment_without_a_pool_says_so_rather_than_offering_the_local_sign_in(api, monkeypatch):
    monkeypatch.setenv("STAGE", "prod")
    for name in ("COGNITO_DOMAIN_URL", "COGNITO_STAFF_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    assert sign_in_config(api.http.get("/finance").body.decode())["mode"] == "unconfigured"


def test_the_configuration_cannot_close_its_script_element(api, deployed_env, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://x.example/</script><script>alert(1)</script>")
    body = api.http.get("/warehouse").body.decode()
    assert "</script><script>alert(1)" not in body
    assert sign_in_config(body)["redirect_uri"].startswith("https://x.example/</script>")


# --- the built artifact, behind the gateway emulation ---------------------------------------------

def test_the_built_api_serves_the_shared_sign_in_and_has_no_local_sign_in(stack):
    from infra.local.sign_in import PREFIX

    from tests.conftest import GatewayClient

    client = GatewayClient(base_path="/Prod")
    page = client.get("/warehouse")
    assert page.status_code == 200 and "window.staffSession" in page.body.decode()
    assert sign_in_config(page.body.decode())["mode"] == "local"      # the local deploy: Stage=local, no pool
    for method, path in [("GET", "/oauth2/authorize"), ("POST", "/oauth2/token"), ("GET", "/logout"), ("GET", "")]:
        assert client.request(method, PREFIX + path).status_code in (403, 404), path
    built = stack.function("ApiFunction").artifact.task_root
    assert not any("_local" in p for p in _routes(built))


def _routes(code_dir) -> list[str]:
    """The route paths of the built app, read from its source: what API Gateway would be given (the
    declarations of chalicelib/routes.py, and any route registered with Chalice's `.route` directly)."""
    found = []
    for source in code_dir.rglob("*.py"):
        found += re.findall(r"""(?:\.route\(|_route\(\s*["'][A-Z]+["'],)\s*["']([^"']+)["']""", source.read_text())
    assert found, f"no routes found under {code_dir}"
    return found
