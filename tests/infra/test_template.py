"""The template and the state machine pass their linters, and stay true to the code."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


# slow: cfn-lint over the whole template (`make lint` runs it too)
@pytest.mark.slow
def test_cfn_lint_reports_no_errors():
    result = subprocess.run([str(BIN / "cfn-lint"), "--format", "parseable", "template.yaml"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    errors = [line for line in result.stdout.splitlines() if ":E" in line or line.split(":")[3:4] == ["E"]]
    assert not errors, result.stdout
    assert result.returncode & 2 == 0, result.stdout + result.stderr


@pytest.mark.parametrize("asl", sorted((ROOT / "statemachines").glob("*.json")), ids=lambda p: p.name)
def test_statelint_accepts_every_state_machine(asl):
    result = subprocess.run([str(BIN / "statelint"), str(asl)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_chalice_route_is_a_path_of_the_rest_api():
    from infra import api_events

    text = (ROOT / "template.yaml").read_text()
    assert api_events.render(text) == text, "run: python -m infra.api_events --write"


# slow: SAM's transform of the whole template, in the SAM CLI's interpreter
@pytest.mark.slow
def test_api_gateway_invokes_the_api_through_one_permission():
    """SAM writes a permission per Api event; 32 of them filled ~14 KB of the function's 20 KB resource
    policy. The template, as SAM transforms it for CloudFormation, must hold exactly one, scoped to the
    stack's API and stage."""
    script = r"""
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse
class NoManagedPolicies:
    def load(self): return {}
template = yaml_parse(open(sys.argv[1]).read())
for resource in template["Resources"].values():          # what `sam package` does to local code
    for key in ("CodeUri", "ContentUri", "DefinitionUri"):
        if key in resource.get("Properties", {}):
            resource["Properties"][key] = "s3://bucket/key"
params = {"SenderEmail": "returns@shop.example.org", "PublicBaseUrl": "https://returns.shop.example.org",
          "StripeApiKey": "sk_live_x"}
out = transform(template, params, NoManagedPolicies())
print(json.dumps({k: v for k, v in out["Resources"].items()
                  if v["Type"] in ("AWS::Lambda::Permission", "AWS::ApiGateway::RestApi")}))
"""
    result = subprocess.run([str(ROOT / ".venv/sam/bin/python"), "-c", script, str(ROOT / "template.yaml")],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"})
    assert result.returncode == 0, result.stderr
    resources = json.loads(result.stdout)
    permissions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Lambda::Permission"}
    # The API's one permission for API Gateway; each sweeper's schedule (EventBridge) has its own; SES's
    # receipt rule invokes the InboundMail function (issue 32).
    assert sorted(permissions) == ["ApiInvokePermission", "HandleTimeoutFunctionFinanceRollupPermission",
                                   "HandleTimeoutFunctionInboxSweepPermission",
                                   "HandleTimeoutFunctionWorkflowSweepPermission", "InboundMailInvokePermission",
                                   "SettleFunctionLedgerHeadsAnchorPermission",
                                   "SettleFunctionLedgerVerificationPermission",
                                   "SettleFunctionRefundSweepPermission", "StatusEffectsFunctionMailEventsPermission"]
    inbound = permissions["InboundMailInvokePermission"]["Properties"]
    assert inbound["Principal"] == "ses.amazonaws.com" and inbound["SourceAccount"] == {"Ref": "AWS::AccountId"}
    mail = permissions["StatusEffectsFunctionMailEventsPermission"]["Properties"]
    assert mail["Principal"] == "sns.amazonaws.com" and "MailEventsTopic" in json.dumps(mail["SourceArn"])
    for name, function in (("SettleFunctionRefundSweepPermission", "SettleFunction"),
                           ("HandleTimeoutFunctionWorkflowSweepPermission", "HandleTimeoutFunction"),
                           ("HandleTimeoutFunctionInboxSweepPermission", "HandleTimeoutFunction"),
                           ("HandleTimeoutFunctionFinanceRollupPermission", "HandleTimeoutFunction"),
                           ("SettleFunctionLedgerHeadsAnchorPermission", "SettleFunction"),
                           ("SettleFunctionLedgerVerificationPermission", "SettleFunction")):
        sweep = permissions[name]["Properties"]
        assert sweep["Principal"] == "events.amazonaws.com" and function in json.dumps(sweep["FunctionName"])
    source = json.dumps(permissions["ApiInvokePermission"]["Properties"]["SourceArn"])
    assert "${ReturnsApi}/Prod/*" in source
    assert [k for k, v in resources.items() if v["Type"] == "AWS::ApiGateway::RestApi"] == ["ReturnsApi"]


def test_every_callback_has_a_timeout_and_every_task_retry_and_catch():
    asl = json.loads((ROOT / "statemachines/return_lifecycle.asl.json").read_text())
    for name, state in asl["States"].items():
        if state["Type"] != "Task":
            continue
        assert state.get("Retry"), f"{name} has no Retry"
        assert state.get("Catch"), f"{name} has no Catch"
        if state["Resource"].endswith(".waitForTaskToken"):
            assert "TimeoutSeconds" in state or "TimeoutSecondsPath" in state, f"{name} waits forever"
            caught = {e for c in state["Catch"] for e in c["ErrorEquals"]}
            assert "States.Timeout" in caught, f"{name} does not catch its timeout"


def test_definition_placeholders_are_all_substituted_by_the_template():
    from infra.local.template import load

    template = load()
    machine = template["Resources"]["ReturnLifecycleStateMachine"]["Properties"]
    text = (ROOT / machine["DefinitionUri"]).read_text()
    import re
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(machine["DefinitionSubstitutions"])


def test_workflow_timeouts_are_template_parameters():
    from infra.local.template import load
    from returns_core import config

    params = load()["Parameters"]
    env = load()["Globals"]["Function"]["Environment"]["Variables"]
    for variable, default in config._TIMEOUTS.values():
        assert variable in env, f"{variable} is not given to the functions"
        ref = env[variable].get("Ref") if isinstance(env[variable], dict) else None
        assert ref in params, f"{variable} is not a template parameter ({env[variable]!r})"
        # Deployed without overrides, the workflow waits what the code says production waits.
        assert params[ref]["Type"] == "Number" and int(params[ref]["Default"]) == default, (variable, ref)
