"""The template and the state machine pass their linters, and stay true to the code."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


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


def test_every_chalice_route_has_its_api_event():
    from infra import api_events

    text = (ROOT / "template.yaml").read_text()
    assert api_events.render(text) == text, "run: python -m infra.api_events --write"


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
    for key, (variable, default) in config._TIMEOUTS.items():
        assert variable in env, f"{variable} is not given to the functions"
        ref = env[variable].get("Ref") if isinstance(env[variable], dict) else None
        assert ref in params, f"{variable} is not a template parameter ({env[variable]!r})"
        # Deployed without overrides, the workflow waits what the code says production waits.
        assert params[ref]["Type"] == "Number" and int(params[ref]["Default"]) == default, (variable, ref)
