"""A deploy ships no known secret (issue 16, item 1): the stack generates what it owns, asks the
store for what it brings, refuses a placeholder before creating anything, defaults to staging,
and rotates the carrier's key with both keys accepted meanwhile."""
from __future__ import annotations

import hashlib
import hmac
import json
import shlex
import tomllib

import pytest

from infra import deploy
from infra.local.template import SAMCONFIG, ParameterError, check_parameters, load

STORE_VALUES = {"SENDER_EMAIL": "returns@shop.example.org", "PUBLIC_BASE_URL": "https://returns.shop.example.org",
                "STRIPE_API_KEY": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
                "LABEL_CARRIERS": "dhl_parcel_de"}   # issue 29: a deployed stack names a real carrier


def _refused(env: str, environ: dict, given: dict | None = None) -> str:
    _, params = deploy.parameters(env, given, environ=environ)
    with pytest.raises(ParameterError) as refused:
        deploy.check(env, params)
    return str(refused.value)


def test_no_secret_has_a_default_and_no_deployed_environment_sets_one():
    template = load()
    secret_parameters = {n for n, spec in template["Parameters"].items() if spec.get("NoEcho")}
    assert secret_parameters == {"CarrierSigningSecret", "StoreLinkSigningSecret", "StripeApiKey"}
    assert all(template["Parameters"][n].get("Default", "") == "" for n in secret_parameters)
    config = tomllib.loads(SAMCONFIG.read_text())
    for env, section in config.items():
        if env == "version":
            continue
        overrides = dict(item.split("=", 1) for item in shlex.split(
            section.get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")))
        assert not secret_parameters & set(overrides), env
        assert "example.com" not in json.dumps(section), env   # no stand-in sender or URL either


def test_the_default_environment_is_staging_not_prod():
    config = tomllib.loads(SAMCONFIG.read_text())
    assert "Stage=staging" in config["default"]["deploy"]["parameters"]["parameter_overrides"]
    stack_name = {env: config[env]["global"]["parameters"]["stack_name"] for env in ("default", "prod")}
    assert stack_name["default"] != stack_name["prod"]
    assert load()["Parameters"]["Stage"]["Default"] == "staging"


def test_a_first_deploy_without_the_stores_values_is_refused_naming_each():
    message = _refused("staging", environ={})
    for name, variable in (("SenderEmail", "SENDER_EMAIL"), ("PublicBaseUrl", "PUBLIC_BASE_URL"),
                           ("StripeApiKey", "STRIPE_API_KEY")):
        assert f"{name}: required" in message and f"set {variable}=" in message


@pytest.mark.parametrize("key", ["sk_test_placeholder", "sk_test_local"])
def test_a_placeholder_stripe_key_is_refused(key):
    assert "StripeApiKey is a placeholder" in _refused("prod", {**STORE_VALUES, "STRIPE_API_KEY": key})


@pytest.mark.parametrize("key", ["", "pk_live_abc", "sk_live_has space", "change-me"])
def test_a_stripe_key_that_is_not_one_is_refused(key):
    assert "StripeApiKey:" in _refused("staging", {**STORE_VALUES, "STRIPE_API_KEY": key})


def test_a_fixed_carrier_secret_is_refused_outside_the_local_stack():
    message = _refused("staging", STORE_VALUES, {"CarrierSigningSecret": "change-me-carrier-secret"})
    assert "CarrierSigningSecret must be empty outside the local stack" in message


def test_the_stores_values_pass_and_an_update_keeps_the_previous_ones():
    _, params = deploy.parameters("prod", environ=STORE_VALUES)
    deploy.check("prod", params)
    _, bare = deploy.parameters("prod", environ={})
    deploy.check("prod", bare, previous={"SenderEmail", "PublicBaseUrl", "StripeApiKey", "LabelCarriers",
                                         "AllowDemoCarrier"})


def test_the_local_stack_deploys_only_what_cloudformation_would_accept():
    template = load()
    with pytest.raises(ParameterError, match="Stage: must be one of"):
        check_parameters(template, {**_local_parameters(), "Stage": "dev"})
    with pytest.raises(ParameterError, match="NoSuchParameter: not a parameter"):
        check_parameters(template, {**_local_parameters(), "NoSuchParameter": "1"})
    check_parameters(template, _local_parameters())


def _local_parameters() -> dict:
    from infra.local.template import samconfig_parameters

    return samconfig_parameters("local")[1]


def _carrier_status(client, key: str) -> int:
    # Signed but not an event: 422 naming `event` once the signature is accepted, 401 if it is not.
    raw = json.dumps({"tracking_number": "TRK-NONE", "event": "teleported", "occurred_at": "x"}).encode()
    signature = "sha256=" + hmac.new(key.encode(), raw, hashlib.sha256).hexdigest()
    return client.post("/carrier/events", headers={"X-Carrier-Signature": signature,
                                                   "Content-Type": "application/json"}, body=raw).status_code


# slow: a deployed stack
@pytest.mark.slow
def test_a_deployed_stack_generates_the_carrier_key_and_rotates_it_with_both_keys_valid_meanwhile(monkeypatch):
    import boto3

    from tests.conftest import GatewayClient, deployed_stack

    overrides = {"Stage": "staging", "CarrierSigningSecret": "", "StoreLinkSigningSecret": "",
                 "StripeApiKey": STORE_VALUES["STRIPE_API_KEY"], "LabelCarriers": "dhl_parcel_de"}
    with deployed_stack(monkeypatch, overrides=overrides,
                        environment_overrides={"SECRETS_CACHE_SECONDS": "0"}) as stack:
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        arn = stack.environment["CARRIER_SECRET_ARN"]
        held = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
        assert set(held) == {"current"} and len(held["current"]) == deploy.KEY_LENGTH
        old = held["current"]
        client = GatewayClient()
        assert _carrier_status(client, old) == 422
        assert _carrier_status(client, "local-carrier-secret") == 401

        new = deploy.begin_rollover(secrets, arn)
        assert new != old and deploy.current_key(secrets, arn) == new
        assert _carrier_status(client, old) == 422 and _carrier_status(client, new) == 422
        with pytest.raises(RuntimeError, match="already open"):
            deploy.begin_rollover(secrets, arn)

        deploy.finish_rollover(secrets, arn)
        assert _carrier_status(client, new) == 422
        assert _carrier_status(client, old) == 401
        with pytest.raises(RuntimeError, match="no rollover"):
            deploy.finish_rollover(secrets, arn)
