"""`python -m infra.aws effects count|replay`: what ops runs against a deployed stack, found from its
outputs (moto's CloudFormation and SQS; Lambda's answer is botocore's stub of the documented response)."""
from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from infra import aws

RECORD = {"version": "1.0", "timestamp": "2026-12-06T10:00:00Z",
          "requestContext": {"requestId": "r-1",
                             "functionArn": "arn:aws:lambda:eu-west-3:123456789012:function:fx:$LATEST",
                             "condition": "RetriesExhausted", "approximateInvokeCount": 3},
          "requestPayload": {"return_id": "RT-AAAA", "previous": "awaiting_dropoff", "status": "in_transit",
                             "token": None},
          "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
          "responsePayload": {"errorType": "ClientError", "errorMessage": "ServiceUnavailable"}}
TEMPLATE = {"Resources": {"Parked": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "parked"}}},
            "Outputs": {"ParkedEffectsQueueUrl": {"Value": {"Ref": "Parked"}},
                        "StatusEffectsFunctionName": {"Value": "returns-prod-StatusEffects"}}}


class _Session(boto3.session.Session):
    """The operator's session, whose Lambda client answers as Lambda documents (202 for an Event)."""

    def __init__(self, lambda_client):
        super().__init__(region_name="eu-west-3")
        self._lambda = lambda_client

    def client(self, name, *args, **kwargs):
        return self._lambda if name == "lambda" else super().client(name, *args, **kwargs)


@pytest.mark.slow   # moto's CloudFormation: 1.5 s
@mock_aws
def test_count_then_replay_a_parked_effect_of_a_deployed_stack(capsys):
    cfn = boto3.client("cloudformation", region_name="eu-west-3")
    cfn.create_stack(StackName="returns-prod", TemplateBody=json.dumps(TEMPLATE))
    sqs = boto3.client("sqs", region_name="eu-west-3")
    queue = sqs.get_queue_url(QueueName="parked")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(RECORD))
    lambda_client = boto3.client("lambda", region_name="eu-west-3")
    session = _Session(lambda_client)

    assert aws.main(["--stack", "returns-prod", "effects", "count"], session=session) == 0
    assert capsys.readouterr().out == "1 status effect(s) parked\n"
    with Stubber(lambda_client) as stub:
        stub.add_response("invoke", {"StatusCode": 202}, {
            "FunctionName": "returns-prod-StatusEffects", "InvocationType": "Event",
            "Payload": json.dumps(RECORD["requestPayload"]).encode()})
        assert aws.main(["--stack", "returns-prod", "effects", "replay"], session=session) == 0
        stub.assert_no_pending_responses()
    out = capsys.readouterr().out.splitlines()
    assert out == ["replayed RT-AAAA: awaiting_dropoff -> in_transit (failed 3x, ClientError)",
                   "1 replayed, 0 unreadable left on the queue"]
    assert sqs.receive_message(QueueUrl=queue).get("Messages", []) == []
    assert aws.main(["--stack", "returns-prod", "effects", "count"], session=session) == 0
    assert capsys.readouterr().out == "0 status effect(s) parked\n"


@mock_aws
def test_a_stack_without_the_output_is_named(capsys):
    cfn = boto3.client("cloudformation", region_name="eu-west-3")
    cfn.create_stack(StackName="returns-old", TemplateBody=json.dumps({"Resources": TEMPLATE["Resources"]}))
    assert aws.main(["--stack", "returns-old", "effects", "count"], session=_Session(None)) == 2
    assert "has no ParkedEffectsQueueUrl output" in capsys.readouterr().err
