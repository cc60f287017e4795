"""The staff sign-in in template.yaml: a public code + PKCE client for the staff pages under
PublicBaseUrl, the managed login on the pool's domain, and the outputs a store and an operator use.
(cfn-lint over the whole template is test_template.py's.)"""
from __future__ import annotations

import pytest

from infra.local.template import load

STAFF_PAGES = ["/warehouse", "/finance", "/ops", "/policy"]


@pytest.fixture(scope="module")
def template():
    return load()


def test_the_staff_client_is_a_public_authorization_code_client(template):
    client = template["Resources"]["StaffAppClient"]["Properties"]
    assert client["GenerateSecret"] is False     # a browser keeps no secret: PKCE binds the code instead
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthFlows"] == ["code"]   # no implicit grant: tokens never ride in a URL
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["EnableTokenRevocation"] is True    # the pages' Sign out revokes the refresh token


@pytest.mark.parametrize("urls", ["CallbackURLs", "LogoutURLs"])
def test_the_staff_client_returns_only_to_the_staff_pages_under_public_base_url(template, urls):
    listed = template["Resources"]["StaffAppClient"]["Properties"][urls]
    assert listed == [{"Fn::Sub": f"${{PublicBaseUrl}}{page}"} for page in STAFF_PAGES]


def test_the_pages_are_given_the_managed_login_domain_and_the_staff_client(template):
    api_env = template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert api_env["COGNITO_DOMAIN_URL"] == {
        "Fn::Sub": "https://${StaffUserPoolDomain}.auth.${AWS::Region}.amazoncognito.com"}
    assert template["Globals"]["Function"]["Environment"]["Variables"]["COGNITO_STAFF_CLIENT_ID"] == {
        "Ref": "StaffAppClient"}


def test_the_domain_serves_the_managed_login_with_a_style_for_the_staff_client(template):
    resources = template["Resources"]
    assert resources["StaffUserPoolDomain"]["Properties"]["ManagedLoginVersion"] == 2
    branding = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Cognito::ManagedLoginBranding"]
    assert branding == [{"UserPoolId": {"Ref": "StaffUserPool"}, "ClientId": {"Ref": "StaffAppClient"},
                         "UseCognitoProvidedValues": True}]


def test_staff_sign_in_keeps_mfa_by_authenticator_app(template):
    pool = template["Resources"]["StaffUserPool"]["Properties"]
    assert pool["MfaConfiguration"] == "ON" and pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}   # staff are added, never sign up


def test_the_outputs_give_a_store_and_an_operator_what_they_need(template):
    outputs = template["Outputs"]
    for name in ("ApiUrl", "StaffPages", "StaffSignInUrl", "UserPoolId", "StaffClientId", "StoreClientId",
                 "StoreScope", "TokenEndpoint", "TokenIssuer", "EventsTopicArn"):
        assert name in outputs, name
    assert outputs["UserPoolId"]["Value"] == {"Ref": "StaffUserPool"}    # python -m infra.aws reads this one
    assert outputs["StaffClientId"]["Value"] == {"Ref": "StaffAppClient"}
    assert outputs["StoreClientId"]["Value"] == {"Ref": "StoreAppClient"}
    sign_in_url = outputs["StaffSignInUrl"]["Value"]["Fn::Sub"]
    assert outputs["TokenEndpoint"]["Value"]["Fn::Sub"] == sign_in_url + "/oauth2/token"
    # The issuer a store verifies against is the one the API verifies against.
    functions_variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert outputs["TokenIssuer"]["Value"] == functions_variables["COGNITO_ISSUER"]
    assert outputs["StoreScope"]["Value"] == "returns/store"
    assert template["Resources"]["StoreAppClient"]["Properties"]["AllowedOAuthScopes"] == ["returns/store"]
