"""The one hook into moto's private Lambda API: fail loudly if moto changes underneath it."""
from __future__ import annotations

import inspect
import json

import boto3


def test_moto_simple_lambda_backend_still_has_the_invoke_we_replace():
    from moto.awslambda_simple.models import LambdaSimpleBackend

    params = list(inspect.signature(LambdaSimpleBackend.invoke).parameters)
    assert params == ["self", "function_name", "qualifier", "body", "headers", "response_headers"], (
        "moto changed LambdaSimpleBackend.invoke: update infra/local/dispatch.py")


def test_invoke_runs_the_real_handler_with_the_template_environment(stack):
    fn = stack.function("AwaitCallbackFunction")
    client = boto3.client("lambda", region_name="us-east-1")
    # A parse error from the real handler's pydantic model proves the real code ran.
    response = client.invoke(FunctionName=fn.name, Payload=json.dumps({"return_id": "x"}).encode())
    assert response.get("FunctionError") == "Unhandled"
    body = json.loads(response["Payload"].read())
    assert body["errorType"] == "ValidationError"
    assert fn.environment["RETURNS_TABLE"].endswith("ReturnsTable")
    assert fn.environment["STATE_MACHINE_ARN"] == stack.state_machine_arn
