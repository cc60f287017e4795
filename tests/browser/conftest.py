"""Browser tests: the real local stack (`python -m infra.local run`) on free ports, driven by
Debian's Chromium through Playwright. Tests own the server and stop it.

The stack serves under a stage path (`/Prod`), as an execute-api URL does: every page, every
call a page makes and every link it follows must work there, not only at the root."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.ports import free_port as _free_port

from .page import ANSWER, ARTIFACTS

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


STAGE_PATH = "/Prod"



def _wait_for_answers() -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=ANSWER)


class LocalStack:
    def __init__(self, api_port: int, aws_port: int, proc: subprocess.Popen, data_dir: Path):
        self.api_port, self.aws_port, self.proc, self.data_dir = api_port, aws_port, proc, data_dir
        self.url = f"http://127.0.0.1:{api_port}{STAGE_PATH}"

    def token(self, role: str, sub: str = "tester", order: str | None = None) -> str:
        args = [sys.executable, "-m", "infra.local", "token", "--role", role, "--sub", sub,
                "--data-dir", str(self.data_dir)] + (["--order", order] if order else [])
        return subprocess.run(args, cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()

    def request(self, method: str, path: str, body=None, token: str | None = None,
                headers: dict | None = None, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {}),
            **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                payload = resp.read()
                status = resp.status
        except urllib.error.HTTPError as err:
            payload, status = err.read(), err.code
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    """One local stack per test session (per xdist worker), with its own ports and data folder
    (never the checkout's .local/, which a developer's `make run` may hold)."""
    api_port, aws_port, stripe_port = _free_port(), _free_port(), _free_port()
    data_dir = tmp_path_factory.mktemp("local-stack")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for key in ("AWS_ENDPOINT_URL", "MOTO_PORT"):
        env.pop(key, None)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"stack-{api_port}.log"   # beside the screenshots (ignored by git)
    log = open(log_path, "w")  # noqa: SIM115 - the stack's output, open while it runs
    printed = lambda: log_path.read_text(errors="replace")[-3000:]  # noqa: E731 - the stack's last words
    proc = subprocess.Popen([sys.executable, "-m", "infra.local", "run", "--api-port", str(api_port),
                             "--aws-port", str(aws_port), "--stripe-port", str(stripe_port),
                             "--data-dir", str(data_dir), "--base-path", STAGE_PATH],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    stack = LocalStack(api_port, aws_port, proc, data_dir)
    deadline = time.monotonic() + 90
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the local stack exited with {proc.returncode}; it printed:\n{printed()}")
            try:
                if stack.request("GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local stack did not come up in 90 s; it printed:\n{printed()}")
            time.sleep(0.3)
        yield stack
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()   # kept in artifacts/: what the stack printed, when a browser test fails


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    _wait_for_answers()
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `make test` installs it with apt-get")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def phone_page(browser):
    """A 390x844 phone viewport; any request leaving 127.0.0.1 fails the test."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:",
                                                                               "blob:", "about:")) else None)
    yield page
    context.close()
    assert not outside, f"the page made external requests: {outside}"


@pytest.fixture
def desk_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:",
                                                                               "blob:", "about:")) else None)
    yield page
    context.close()
    assert not outside, f"the page made external requests: {outside}"
