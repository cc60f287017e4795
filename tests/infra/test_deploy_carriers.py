"""`make deploy-check` lists which carriers of LabelCarriers can issue labels (issue 29)."""
from __future__ import annotations

from infra import deploy
from infra.local.template import load


def test_the_default_is_the_demo_and_the_check_says_its_labels_are_not_carried():
    assert deploy.carrier_lines({}, load(), None) == [
        "demo: configured, DEMO labels only: no carrier collects them (set LabelCarriers)"]


def test_each_named_carrier_is_configured_only_with_its_credentials():
    params = {"LabelCarriers": "dhl_parcel_de,gls,colissimo"}
    secret = {"dhl_parcel_de": {"username": "u", "password": "p"}, "gls": {}}
    assert deploy.carrier_lines(params, load(), secret) == [
        "dhl_parcel_de: configured",
        "gls: NOT configured: its credentials are missing from CarrierCredentialsSecretArn",
        "colissimo: NOT configured: its credentials are missing from CarrierCredentialsSecretArn"]
    assert deploy.carrier_lines(params, load(), None)[0].startswith("dhl_parcel_de: not configured yet")


def test_the_credentials_secret_is_the_label_functions_alone():
    resources = load()["Resources"]
    readers = [lid for lid, res in resources.items() if res["Type"] == "AWS::Serverless::Function"
               and "CarrierCredentialsSecret" in str(res["Properties"].get("Policies"))]
    assert readers == ["IssueLabelFunction"]
    env = resources["IssueLabelFunction"]["Properties"]["Environment"]["Variables"]
    assert env["CARRIER_CREDENTIALS_ARN"] == {"Ref": "CarrierCredentialsSecret"}
    assert "CARRIER_CREDENTIALS_ARN" not in str(load()["Globals"])


def test_a_deployed_stack_with_only_the_demo_carrier_is_refused_unless_the_store_allows_it():
    import pytest

    from infra.local.template import ParameterError, check_parameters

    store = {"Stage": "prod", "SenderEmail": "returns@shop.example", "PublicBaseUrl": "https://returns.shop.example",
             "StripeApiKey": "sk_live_abc123"}
    with pytest.raises(ParameterError, match="RealCarriersOutsideTheLocalStack: LabelCarriers is only the demo"):
        check_parameters(load(), store)
    check_parameters(load(), {**store, "AllowDemoCarrier": "true"})
    check_parameters(load(), {**store, "LabelCarriers": "dhl_parcel_de,demo"})
    _, params = deploy.parameters("prod", environ={"LABEL_CARRIERS": "gls", "ALLOW_DEMO_CARRIER": "false"})
    assert (params["LabelCarriers"], params["AllowDemoCarrier"]) == ("gls", "false")


def test_the_return_address_on_every_label_is_the_stores_parameters():
    env = load()["Resources"]["IssueLabelFunction"]["Properties"]["Environment"]["Variables"]
    assert {k: v for k, v in env.items() if k.startswith("WAREHOUSE_")} == {
        "WAREHOUSE_NAME": {"Ref": "ReturnAddressName"}, "WAREHOUSE_LINE1": {"Ref": "ReturnAddressLine1"},
        "WAREHOUSE_POSTCODE": {"Ref": "ReturnAddressPostcode"}, "WAREHOUSE_CITY": {"Ref": "ReturnAddressCity"},
        "WAREHOUSE_COUNTRY": {"Ref": "ReturnAddressCountry"}}
    _, params = deploy.parameters("prod", environ={"RETURN_ADDRESS_CITY": "Lyon", "RETURN_ADDRESS_COUNTRY": "FR"})
    assert (params["ReturnAddressCity"], params["ReturnAddressCountry"]) == ("Lyon", "FR")
