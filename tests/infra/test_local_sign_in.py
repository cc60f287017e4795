"""The local stack's staff sign-in (infra/local/sign_in.py): the authorization code + PKCE protocol the
staff pages speak to Cognito, with a name-and-role form instead of a password. No AWS needed: its
tokens are minted by the real edge/auth.mint with a test secret and checked by edge/auth.verify."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from infra.local.sign_in import CLIENT_ID, PREFIX, LocalSignIn, pkce_challenge

RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"      # RFC 7636, appendix B
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
PAGE = "http://127.0.0.1:8123/Prod/warehouse"


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("TOKEN_SECRET", "sign-in-test-secret")
    monkeypatch.delenv("TOKEN_SECRET_ARN", raising=False)


@pytest.fixture
def clock():
    return {"now": 1_800_000_000.0}


@pytest.fixture
def sign_in(secret, clock):
    from returns_core.edge import auth

    return LocalSignIn(lambda role, name, ttl: auth.mint(role, name, ttl=ttl, now=clock["now"]), "/Prod",
                       clock=lambda: clock["now"])


def authorize(**over) -> dict:
    return {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": PAGE, "state": "st-1",
            "code_challenge": RFC7636_CHALLENGE, "code_challenge_method": "S256", "scope": "openid", **over}


def submit(sign_in, name="wh:lea", role="warehouse", **over):
    body = urlencode({**authorize(**over), "name": name, "role": role}).encode()
    return sign_in.answer("POST", PREFIX + "/oauth2/authorize", "", body)


def redeem(sign_in, code, verifier=RFC7636_VERIFIER, redirect_uri=PAGE):
    body = urlencode({"grant_type": "authorization_code", "client_id": CLIENT_ID, "code": code,
                      "redirect_uri": redirect_uri, "code_verifier": verifier}).encode()
    response = sign_in.answer("POST", PREFIX + "/oauth2/token", "", body)
    return response.status_code, json.loads(response.body)


def code_of(response) -> str:
    assert response.status_code == 302, response.body
    location = urlsplit(response.header("Location"))
    assert f"{location.scheme}://{location.netloc}{location.path}" == PAGE
    query = parse_qs(location.query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def test_the_challenge_is_base64url_of_the_verifiers_sha256():
    assert pkce_challenge(RFC7636_VERIFIER) == RFC7636_CHALLENGE


def test_the_form_asks_a_name_and_a_role_and_keeps_the_request(sign_in):
    response = sign_in.answer("GET", PREFIX + "/oauth2/authorize", urlencode(authorize(role="finance")), b"")
    page = response.body.decode()
    assert response.status_code == 200
    assert 'name="name"' in page and '<option value="finance" selected>' in page
    assert f'value="{RFC7636_CHALLENGE}"' in page and 'action="/Prod/_local/sign-in/oauth2/authorize"' in page


def test_a_code_with_its_verifier_gives_the_staff_token_the_api_accepts(sign_in, clock):
    from returns_core.edge import auth

    status, tokens = redeem(sign_in, code_of(submit(sign_in)))
    assert status == 200 and tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    who = auth.verify(tokens["access_token"], now=clock["now"])
    assert (who.role, who.sub) == ("warehouse", "wh:lea")
    assert tokens["refresh_token"]


def test_a_code_redeemed_with_another_verifier_is_refused_and_spent(sign_in):
    code = code_of(submit(sign_in))
    status, body = redeem(sign_in, code, verifier="x" * 43)
    assert status == 400 and body["error"] == "invalid_grant" and "code_verifier" in body["error_description"]
    assert redeem(sign_in, code)[0] == 400   # a code is good once, even after a failed try


def test_a_code_is_good_once_for_its_redirect_uri_and_not_after_it_expires(sign_in, clock):
    code = code_of(submit(sign_in))
    assert redeem(sign_in, code)[0] == 200
    assert redeem(sign_in, code)[1]["error"] == "invalid_grant"
    assert redeem(sign_in, code_of(submit(sign_in)), redirect_uri=PAGE.replace("warehouse", "finance"))[0] == 400
    late = code_of(submit(sign_in))
    clock["now"] += 301
    assert redeem(sign_in, late)[0] == 400


def test_the_refresh_token_gives_new_access_tokens_until_it_is_revoked(sign_in, clock):
    from returns_core.edge import auth

    tokens = redeem(sign_in, code_of(submit(sign_in, name="fin:ann", role="finance")))[1]
    clock["now"] += 3000
    refresh = urlencode({"grant_type": "refresh_token", "client_id": CLIENT_ID,
                         "refresh_token": tokens["refresh_token"]}).encode()
    again = sign_in.answer("POST", PREFIX + "/oauth2/token", "", refresh)
    fresh = json.loads(again.body)
    assert again.status_code == 200 and "refresh_token" not in fresh
    assert auth.verify(fresh["access_token"], now=clock["now"] + 3000).role == "finance"
    sign_in.answer("POST", PREFIX + "/oauth2/revoke", "",
                   urlencode({"token": tokens["refresh_token"], "client_id": CLIENT_ID}).encode())
    assert sign_in.answer("POST", PREFIX + "/oauth2/token", "", refresh).status_code == 400


@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example/warehouse", "http://127.0.0.1:8123/Prod/portal", "http://127.0.0.1:8123/warehouse",
    "http://127.0.0.1:8123/Prod/warehouse?next=https://evil.example", "javascript:alert(1)",
])
def test_it_only_returns_to_a_staff_page_of_this_stack(sign_in, redirect_uri):
    assert submit(sign_in, redirect_uri=redirect_uri).status_code == 400
    logout = sign_in.answer("GET", PREFIX + "/logout",
                            urlencode({"client_id": CLIENT_ID, "logout_uri": redirect_uri}), b"")
    assert logout.status_code == 400 and logout.header("Location") is None


@pytest.mark.parametrize("over", [{"code_challenge": ""}, {"code_challenge_method": "plain"},
                                  {"client_id": "other"}, {"response_type": "token"}])
def test_a_request_without_pkce_or_for_another_client_is_refused(sign_in, over):
    assert submit(sign_in, **over).status_code == 400


@pytest.mark.parametrize("name,role,message", [("", "warehouse", "Enter your name"),
                                               ("<b>x</b>", "warehouse", "Enter your name"),
                                               ("lea", "customer", "Choose a staff role")])
def test_a_bad_name_or_a_role_that_is_not_staff_is_told_on_the_form(sign_in, name, role, message):
    response = submit(sign_in, name=name, role=role)
    assert response.status_code == 400 and message in response.body.decode()
    assert 'name="code_challenge"' in response.body.decode()   # the form can be sent again as it is


def test_logout_goes_back_to_the_staff_page(sign_in):
    response = sign_in.answer("GET", PREFIX + "/logout", urlencode({"client_id": CLIENT_ID, "logout_uri": PAGE}), b"")
    assert response.status_code == 302 and response.header("Location") == PAGE


def test_paths_outside_the_sign_in_are_left_to_the_api(sign_in):
    assert sign_in.answer("GET", "/warehouse", "", b"") is None
    assert sign_in.answer("GET", "/_local/sign-inx", "", b"") is None
