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


def test_an_asynchronous_invoke_is_accepted_at_once_then_retried_twice_then_kept_on_the_failure_queue(
        stack, monkeypatch):
    """Lambda's InvocationType=Event: 202 before the function runs; a run that fails is retried twice
    (EventInvokeConfig), then the event goes to the on-failure queue in the record Lambda writes there."""
    from infra.local import dispatch

    fn = stack.function("StatusEffectsFunction")
    assert fn.async_retries == 2 and fn.on_failure_queue_arn.endswith("StatusEffectsFailedQueue")
    monkeypatch.setattr(dispatch, "ASYNC_RETRY_DELAYS_SECONDS", (0.01, 0.01))
    runs: list[str | None] = []
    monkeypatch.setattr(dispatch, "on_step", lambda logical_id, event, result, error, seconds: runs.append(error))
    client = boto3.client("lambda", region_name="us-east-1")
    event = {"return_id": "x"}    # no previous nor status: the real handler's model refuses it
    response = client.invoke(FunctionName=fn.name, InvocationType="Event", Payload=json.dumps(event).encode())
    assert response["StatusCode"] == 202 and response["Payload"].read() == b""
    dispatch.drain()
    assert runs == ["Unhandled"] * 3
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.get_queue_url(QueueName=fn.on_failure_queue_arn.split(":")[-1])["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"] == event and record["responsePayload"]["errorType"] == "ValidationError"


def test_a_move_the_api_writes_is_followed_by_the_status_effects_function(stack):
    """The API hands a move's follow-up to StatusEffects (outbound/deferred_effects.py): its name is in the
    API's environment and the function is granted to be invoked by it, asynchronously."""
    from infra.local import dispatch

    api = stack.function("ApiFunction")
    effects = stack.function("StatusEffectsFunction")
    assert api.environment["STATUS_EFFECTS_FUNCTION"] == effects.name
    for role in ("StatusEffectsFunction", "SettleFunction", "IssueLabelFunction", "HandleTimeoutFunction"):
        assert "STATUS_EFFECTS_FUNCTION" not in stack.function(role).environment, role   # steps carry out their own
    assert dispatch.invoker("StatusEffectsFunction")
