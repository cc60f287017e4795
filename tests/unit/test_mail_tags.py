"""Every email goes through the stack's configuration set with tags SES accepts (the SES API
reference: a tag's value is ASCII letters, digits, "_" and "-", at most 256 characters), naming the
return or claim and the template, so a bounce finds its timeline (usecases/mail_events.py)."""
from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from returns_core import aws
from returns_core.outbound import messaging


@pytest.fixture
def ses(monkeypatch):
    """The SES client the code gets, stubbed as botocore stubs an AWS answer."""
    client = boto3.client("ses", region_name="eu-west-3", aws_access_key_id="x", aws_secret_access_key="x")
    monkeypatch.setattr(aws, "client", lambda name: client)
    return client


def test_an_email_carries_the_configuration_set_and_its_owners_tags(monkeypatch, ses):
    monkeypatch.setenv("SES_TEMPLATE_PREFIX", "returns-prod")
    monkeypatch.setenv("SENDER_EMAIL", "returns@shop.example.org")
    monkeypatch.setenv("SES_CONFIGURATION_SET", "returns-prod-mail")
    with Stubber(ses) as stub:
        stub.add_response("send_templated_email", {"MessageId": "m-1"}, {
            "Source": "returns@shop.example.org", "Destination": {"ToAddresses": ["ana@example.com"]},
            "Template": "returns-prod-return_requested-fr", "TemplateData": "{}",
            "ConfigurationSetName": "returns-prod-mail",
            "Tags": [{"Name": "return_id", "Value": "RT-7QX_2"},
                     {"Name": "template", "Value": "returns-prod-return_requested-fr"}]})
        name = messaging.send_email("ana@example.com", "return_requested", "fr", {}, about={"return_id": "RT-7QX.2"})
        stub.assert_no_pending_responses()
    assert name == "returns-prod-return_requested-fr"


def test_without_a_configuration_set_the_email_still_goes(monkeypatch, ses):
    monkeypatch.setenv("SES_TEMPLATE_PREFIX", "returns-local")
    monkeypatch.setenv("SENDER_EMAIL", "returns@shop.local")
    monkeypatch.delenv("SES_CONFIGURATION_SET", raising=False)
    with Stubber(ses) as stub:
        stub.add_response("send_templated_email", {"MessageId": "m-2"}, {
            "Source": "returns@shop.local", "Destination": {"ToAddresses": ["ana@example.com"]},
            "Template": "returns-local-claim_received-en", "TemplateData": "{}",
            "Tags": [{"Name": "claim_id", "Value": "clm_abc"},
                     {"Name": "template", "Value": "returns-local-claim_received-en"}]})
        messaging.send_email("ana@example.com", "claim_received", "en", {}, about={"claim_id": "clm_abc"})
        stub.assert_no_pending_responses()
