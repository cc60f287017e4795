"""WaitScale, the demo's shortened waits (issue 28): only the local stack may use it, and `make demo`
(`python -m infra.local run --demo`) does, while `make run` does not. The launcher runs as a user runs
it, as a subprocess on its own ports and data folder, and is stopped by the test."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from infra.local import deploy
from infra.local.template import ParameterError, check_parameters, load, samconfig_parameters

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 120    # a sam build check and the deploy on a loaded 2-core box
STAGING = {"Stage": "staging", "SenderEmail": "returns@shop.example", "PublicBaseUrl": "https://returns.shop.example",
           "StripeApiKey": "sk_live_abc123", "LabelCarriers": "gls"}


def test_a_deployed_stack_refuses_shortened_waits_and_the_local_stack_takes_them():
    template = load()
    check_parameters(template, STAGING)
    for stage in ("staging", "prod"):
        with pytest.raises(ParameterError, match="RealWaitsOutsideTheLocalStack"):
            check_parameters(template, {**STAGING, "Stage": stage, **deploy.DEMO_PARAMETERS})
    check_parameters(template, {**samconfig_parameters("local")[1], **deploy.DEMO_PARAMETERS})


def test_make_demo_is_the_local_stack_run_with_demo():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "-m infra.local run --demo" in recipe
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "--demo" not in run


def _request(url: str, method: str, path: str, body=None, token: str | None = None):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode() if body is not None else None,
                                 method=method, headers={"Content-Type": "application/json",
                                                         **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


# slow: a launched local stack
@pytest.mark.slow
@pytest.mark.xdist_group("localstack")
def test_run_demo_starts_returns_with_short_waits_and_real_deadlines(tmp_path):
    from tests.workflow.helpers import order_payload

    api_port, aws_port, stripe_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "MOTO_PORT")}
    log_path = tmp_path / "stack.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "run", "--demo", "--api-port", str(api_port), "--aws-port",
             str(aws_port), "--stripe-port", str(stripe_port), "--data-dir", str(tmp_path / "data")],
            cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    url = f"http://127.0.0.1:{api_port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            assert proc.poll() is None, f"the stack exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}"
            try:
                if _request(url, "GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"the stack did not come up:\n{log_path.read_text()[-3000:]}"
            time.sleep(0.3)

        def token(role: str, order: str | None = None) -> str:
            args = [sys.executable, "-m", "infra.local", "token", "--role", role, "--data-dir", str(tmp_path / "data")]
            return subprocess.run(args + (["--order", order] if order else []), cwd=ROOT, check=True,
                                  capture_output=True, text=True).stdout.strip()

        assert _request(url, "PUT", "/orders/ORD-DEMO", order_payload(provider="manual"), token("store"))[0] == 201
        status, created = _request(url, "POST", "/returns", {
            "order_id": "ORD-DEMO", "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
            "resolution": "refund", "dropoff": {"method": "letterbox"}}, token("customer", "ORD-DEMO"))
        assert status == 201, created
        from datetime import datetime, timedelta

        def at(text: str) -> datetime:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))

        # Told: the real drop-off period. Waited: minutes (the execution's input, read from the emulator).
        assert at(created["deadline"]) - at(created["created_at"]) == timedelta(days=14)
        import boto3

        sfn = boto3.client("stepfunctions", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{aws_port}",
                           aws_access_key_id="local", aws_secret_access_key="local")
        machine = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
        arn = machine.replace(":stateMachine:", ":execution:") + ":" + created["return_id"]
        timeouts = json.loads(sfn.describe_execution(executionArn=arn)["input"])["timeouts"]
        assert timeouts["dropoff"] == 14 * 60 and timeouts["followup"] == 30 * 60, timeouts
        assert "demo: the workflow's waits are" in log_path.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
