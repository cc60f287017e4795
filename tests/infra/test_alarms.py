"""A deployed store hears of trouble (issue 35, "Silence" and "Protection"): every alarm watches a real
metric of this stack and tells the ops topic when it fires and when it clears; the topic's key lets
CloudWatch publish; the routes an attacker would hammer have their own throttle."""
from __future__ import annotations

import io
import json
import logging
import re

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from infra import deploy
from infra.local.template import Resolver, load

TEMPLATE = load()
RESOURCES = TEMPLATE["Resources"]
ALARMS = {lid: res["Properties"] for lid, res in RESOURCES.items() if res["Type"] == "AWS::CloudWatch::Alarm"}
FUNCTIONS = sorted(lid for lid, res in RESOURCES.items() if res["Type"] == "AWS::Serverless::Function")
OPS_TOPIC = {"Ref": "OpsTopic"}


def _metrics(alarm: dict) -> set[tuple[str, str]]:
    """(namespace, metric name) of what an alarm watches, a single metric or metric math."""
    if "MetricName" in alarm:
        return {(alarm["Namespace"], alarm["MetricName"])}
    return {(m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"])
            for m in alarm["Metrics"] if "MetricStat" in m}


def test_every_alarm_tells_the_ops_topic_when_it_fires_and_when_it_clears():
    assert len(ALARMS) == 9
    for lid, alarm in ALARMS.items():
        assert (lid, alarm["AlarmActions"], alarm["OKActions"]) == (lid, [OPS_TOPIC], [OPS_TOPIC])
        assert (lid, alarm["TreatMissingData"]) == (lid, "notBreaching")   # no traffic is not trouble
        assert alarm["AlarmDescription"].strip()


def test_the_alarms_cover_what_the_issue_names():
    watched = {lid: _metrics(alarm) for lid, alarm in ALARMS.items()}
    assert watched == {
        "LifecycleExecutionsFailedAlarm": {("AWS/States", "ExecutionsFailed"), ("AWS/States", "ExecutionsTimedOut"),
                                           ("AWS/States", "ExecutionsAborted")},
        "ParkedStatusEffectsAlarm": {("AWS/SQS", "ApproximateNumberOfMessagesVisible")},
        "Api5xxAlarm": {("AWS/ApiGateway", "5XXError")},
        "LambdaErrorsAlarm": {("AWS/Lambda", "Errors")},
        "LambdaThrottlesAlarm": {("AWS/Lambda", "Throttles")},
        "SesBounceRateAlarm": {("AWS/SES", "Reputation.BounceRate")},
        "SesComplaintRateAlarm": {("AWS/SES", "Reputation.ComplaintRate")},
        "WithdrawalDeadlineNearAlarm": {("Returns", "WithdrawalDeadlinesNear")},
        "LedgerTamperedAlarm": {("Returns", "LedgerTampered")},
    }


def test_the_failed_executions_alarm_watches_this_stacks_state_machine_and_sums_every_bad_end():
    alarm = ALARMS["LifecycleExecutionsFailedAlarm"]
    stats = [m for m in alarm["Metrics"] if "MetricStat" in m]
    assert {d["Value"]["Ref"] for m in stats for d in m["MetricStat"]["Metric"]["Dimensions"]} == {
        "ReturnLifecycleStateMachine"}
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert set(re.findall(r"\w+", expression["Expression"])) == {m["Id"] for m in stats}


@pytest.mark.parametrize("alarm_id", ["LambdaErrorsAlarm", "LambdaThrottlesAlarm"])
def test_the_lambda_alarms_sum_every_function_of_the_template(alarm_id):
    alarm = ALARMS[alarm_id]
    stats = [m for m in alarm["Metrics"] if "MetricStat" in m]
    assert sorted(d["Value"]["Ref"] for m in stats for d in m["MetricStat"]["Metric"]["Dimensions"]) == FUNCTIONS
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert sorted(re.findall(r"\w+", expression["Expression"])) == sorted(m["Id"] for m in stats)


def test_the_5xx_alarm_and_the_dlq_alarm_name_this_stacks_api_and_queue():
    api = ALARMS["Api5xxAlarm"]["Dimensions"]
    assert {"Name": "ApiName", "Value": RESOURCES["ReturnsApi"]["Properties"]["Name"]} in api
    assert {"Name": "Stage", "Value": RESOURCES["ReturnsApi"]["Properties"]["StageName"]} in api
    assert ALARMS["ParkedStatusEffectsAlarm"]["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["StatusEffectsFailedQueue", "QueueName"]}}]
    # the queue the alarm watches is the one the effects are parked in
    config = RESOURCES["StatusEffectsFunction"]["Properties"]["EventInvokeConfig"]
    assert "StatusEffectsFailedQueue" in json.dumps(config["DestinationConfig"]["OnFailure"])


def test_the_withdrawal_metric_counts_the_log_line_the_alert_writes(monkeypatch):
    """The metric filter's pattern `{ $.alert = "withdrawal_deadline_near" }` against the JSON line
    outbound/events.alert_ops really logs (Powertools' logger), not against a line written here."""
    from aws_lambda_powertools import Logger

    from returns_core.outbound import events

    stream = io.StringIO()
    # A service name of its own: Powertools gives a second Logger of a known service no new handler.
    logger = Logger(service="alarm-filter-test", logger_handler=logging.StreamHandler(stream))
    monkeypatch.setattr(events, "log", logger)
    with mock_aws():
        topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="ops")["TopicArn"]
        monkeypatch.setenv("OPS_TOPIC_ARN", topic)
        events.alert_ops("withdrawal_deadline_near", None, "a withdrawal's refund is due soon")
    logged = [json.loads(line) for line in stream.getvalue().splitlines()]
    pattern = RESOURCES["WithdrawalDeadlineNearMetric"]["Properties"]["FilterPattern"]
    field, value = re.fullmatch(r'\{ \$\.(\w+) = "(\w+)" \}', pattern).groups()
    assert [line.get(field) for line in logged] == [value]
    assert RESOURCES["WithdrawalDeadlineNearMetric"]["Properties"]["LogGroupName"] == {"Ref": "HandleTimeoutLogGroup"}
    assert RESOURCES["HandleTimeoutFunction"]["Properties"]["LoggingConfig"]["LogGroup"] == {
        "Ref": "HandleTimeoutLogGroup"}


def test_the_ledger_alarm_watches_the_metric_settle_emits():
    from pathlib import Path

    settle = (Path(deploy.__file__).resolve().parents[1] / "functions/settle/app.py").read_text()
    assert 'name="LedgerTampered"' in settle
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "Returns"


def test_alarms_can_publish_to_the_ops_topic_and_every_publisher_may_encrypt_for_it():
    key = RESOURCES["OpsTopicKey"]["Properties"]
    assert RESOURCES["OpsTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "OpsTopicKey"}
    cloudwatch = [s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch[0]["Action"])
    assert key["EnableKeyRotation"] is True
    publishers = [lid for lid, res in RESOURCES.items()
                  if "OpsTopic.TopicName" in json.dumps(res.get("Properties", {}).get("Policies", []))
                  or "'OpsTopic', 'TopicName'" in str(res.get("Properties", {}).get("Policies", []))]
    assert len(publishers) == 5
    for lid in publishers:
        policies = json.dumps(RESOURCES[lid]["Properties"]["Policies"])
        assert '"OpsTopicKey", "Arn"' in policies and "kms:GenerateDataKey*" in policies, lid


def test_an_ops_email_is_subscribed_only_when_given():
    sub = RESOURCES["OpsAlertSubscription"]
    assert sub["Condition"] == "OpsAlertEmailGiven"
    assert sub["Properties"] == {"TopicArn": OPS_TOPIC, "Protocol": "email", "Endpoint": {"Ref": "OpsAlertEmail"}}
    for given, expected in (("", False), ("ops@shop.example.org", True)):
        resolver = Resolver(TEMPLATE, {"OpsAlertEmail": given}, "s", "eu-west-3", "1")
        assert resolver.condition("OpsAlertEmailGiven") is expected


def test_the_dashboard_is_json_and_shows_every_alarm():
    resolver = Resolver(TEMPLATE, {}, "returns-prod", "eu-west-3", "123456789012")
    resolver.refs.update({"ReturnLifecycleStateMachine": "arn:sm"})
    resolver.atts.update({lid: {"Arn": f"arn:alarm:{lid}"} for lid in ALARMS})
    resolver.atts["StatusEffectsFailedQueue"] = {"QueueName": "q"}
    body = json.loads(resolver.resolve(RESOURCES["OpsDashboard"]["Properties"]["DashboardBody"]))
    (alarms,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert sorted(alarms["properties"]["alarms"]) == sorted(f"arn:alarm:{lid}" for lid in ALARMS)


def test_the_routes_an_attacker_would_hammer_have_their_own_throttle():
    api = RESOURCES["ReturnsApi"]["Properties"]
    paths = set(api["DefinitionBody"]["paths"])
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in api["MethodSettings"]}
    stage = settings[("/*", "*")]
    for path, method in (("/returns/lookup", "POST"), ("/returns/{return_id}/label", "GET"),
                         ("/carrier/events", "POST")):
        assert path in paths   # a route the API serves, so the setting applies to something
        own = settings[("/" + path.replace("/", "~1"), method)]   # API Gateway's escaping: "/" is "~1"
        assert own["ThrottlingRateLimit"] < stage["ThrottlingRateLimit"]
        assert own["ThrottlingBurstLimit"] < stage["ThrottlingBurstLimit"]


def test_settle_has_reserved_concurrency_and_deploy_check_reads_the_accounts_quota():
    assert RESOURCES["SettleFunction"]["Properties"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["SettleConcurrencyReserved", {"Ref": "SettleReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    client = boto3.client("lambda", region_name="eu-west-3", aws_access_key_id="x", aws_secret_access_key="x")
    for quota, expected in ((10, 1), (1000, 0)):
        with Stubber(client) as stub:
            stub.add_response("get_account_settings", {"AccountLimit": {"ConcurrentExecutions": quota}})
            assert len(deploy.concurrency_problems({}, TEMPLATE, client)) == expected
    assert deploy.concurrency_problems({"SettleReservedConcurrency": "0"}, TEMPLATE, client) == []


def test_a_web_acl_is_put_in_front_of_the_api_only_when_given():
    assoc = RESOURCES["ApiWebAcl"]
    assert assoc["Condition"] == "WebAclGiven"
    assert assoc["Properties"]["WebACLArn"] == {"Ref": "WebAclArn"}
    assert "/restapis/${ReturnsApi}/stages/Prod" in assoc["Properties"]["ResourceArn"]["Fn::Sub"]
