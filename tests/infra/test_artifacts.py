"""What ships is what runs: the `sam build` artifacts load as Lambda loads them, and answer
through API Gateway's rules with the right bytes.

Each function is started in a worker process whose import path is exactly Lambda's (its built
folder, the built layer's python/, a runtime holding boto3 only); a dependency missing from an
artifact fails here, not on AWS.
"""
from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import importlib.metadata
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra import artifacts
from infra.local import workers
from infra.local.template import load

pytestmark = pytest.mark.xdist_group("workflow")
BUILD = artifacts.BUILD_DIR
FUNCTIONS = ("ApiFunction", "IssueLabelFunction", "AwaitCallbackFunction", "HandleTimeoutFunction", "SettleFunction")


@pytest.fixture(scope="module")
def build_dir() -> Path:
    return artifacts.build(quiet=True)


def test_the_layer_lock_is_what_pyproject_declares():
    """Every declared dependency the runtime does not provide is pinned, at a version its
    specifier allows; nothing runtime-provided (boto3 and its own) is in the layer."""
    from packaging.requirements import Requirement

    pins = artifacts.locked()
    provided = {artifacts._canonical(n) for n in artifacts.layer_settings()["provided_by_runtime"]}
    for spec in artifacts.declared():
        requirement = Requirement(spec)
        name = artifacts._canonical(requirement.name)
        if name in provided:
            assert name not in pins, f"{name} is the runtime's: the layer must not ship it"
            continue
        assert name in pins, f"{name} is declared in pyproject.toml but not locked: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} in the lock does not satisfy pyproject's {spec}: run `make lock`")
    assert not provided & set(pins)


LAYER_SOURCE = artifacts.ROOT / "layers" / "returns_core" / "python" / "returns_core"


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _top_level_imports(package: Path) -> dict[str, list[str]]:
    """{top-level module: [file:line, ...]} for every absolute import the package's code can run, local
    imports inside functions included (only `if TYPE_CHECKING:` blocks never run)."""
    found: dict[str, list[str]] = {}

    def visit(node: ast.AST, where: Path) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child, where)
            return
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else []
        for name in names:
            found.setdefault(name.split(".")[0], []).append(f"{where.relative_to(package.parent)}:{node.lineno}")
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    for path in sorted(package.rglob("*.py")):
        visit(ast.parse(path.read_text(), str(path)), path)
    return found


def _not_in_the_layer(imports: dict[str, list[str]]) -> list[str]:
    """The imports no locked requirement of the layer and nothing of the runtime (boto3 and its own)
    provides, by the distributions the dev environment installs each module from."""
    runtime = {artifacts._canonical(n) for n in artifacts.layer_settings()["provided_by_runtime"]}
    shipped = set(artifacts.locked()) | runtime
    owners = importlib.metadata.packages_distributions()
    wrong = []
    for name, sites in sorted(imports.items()):
        if name in sys.stdlib_module_names or name == "returns_core":
            continue
        dists = {artifacts._canonical(d) for d in owners.get(name, [])}
        if not dists & shipped:
            wrong.append(f"{name} (from {', '.join(sorted(dists)) or 'no installed distribution'}) "
                         f"imported at {', '.join(sites)}")
    return wrong


def test_the_layer_imports_only_what_its_requirements_provide():
    """A module the layer imports, even lazily, is in the lock or the runtime: the SES template generator
    imported yaml inside a function, so no Lambda failed at INIT, and none could have run it."""
    imports = _top_level_imports(LAYER_SOURCE)
    assert {"pynamodb", "stripe", "botocore", "pydantic", "os"} <= set(imports)   # the walk sees the layer
    assert _not_in_the_layer(imports) == []


def test_the_requirements_check_names_a_module_the_layer_lacks(tmp_path):
    package = tmp_path / "returns_core"
    package.mkdir()
    (package / "generator.py").write_text("import json\n\ndef dump(x):\n    import yaml\n    return yaml.dump(x)\n")
    assert _not_in_the_layer(_top_level_imports(package)) == [
        "yaml (from pyyaml) imported at returns_core/generator.py:4"]


def test_local_only_code_is_not_in_the_layer():
    """The SES templates, their renderer and their generator are the deployment's and the local stack's
    (infra/mail/): the Lambdas send a template by its name (outbound/notifications/catalogue.py)."""
    shipped = {p.relative_to(LAYER_SOURCE).as_posix() for p in LAYER_SOURCE.rglob("*") if p.is_file()}
    assert "outbound/notifications/catalogue.py" in shipped
    mail = artifacts.ROOT / "infra" / "mail"
    assert (mail / "ses_templates.py").is_file() and (mail / "render.py").is_file()
    assert not any(p.endswith((".html", ".txt")) or p.rpartition("/")[2] in {"render.py", "ses_templates.py"}
                   for p in shipped)


def test_the_built_layer_is_the_layer_package_and_its_requirements_only(build_dir):
    """What sam build copies is the package as tested above, nothing more; every module it imports is
    found on Lambda's import path (the built layer, then the runtime's boto3)."""
    built = build_dir / "ReturnsCoreLayer" / "python"

    def files(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}

    assert files(built / "returns_core") == files(LAYER_SOURCE)
    names = sorted(n for n in _top_level_imports(built / "returns_core")
                   if n not in sys.stdlib_module_names and n != "returns_core")
    assert {"pynamodb", "stripe", "botocore"} <= set(names)
    code = ("import importlib.util, json, sys; sys.path.insert(0, sys.argv[1]); "
            "print(json.dumps([n for n in sys.argv[2:] if importlib.util.find_spec(n) is None]))")
    out = subprocess.run([str(workers.RUNTIME_PYTHON), "-I", "-c", code, str(built), *names],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_the_built_layer_holds_karrio_and_every_carrier_the_label_function_asks(build_dir):
    """karrio is imported only when a real carrier issues a label (not at INIT): that the label function
    finds it, with each carrier's extension, is proved here, on Lambda's import path."""
    from returns_core.outbound.carriers import CATALOGUE

    built = build_dir / "ReturnsCoreLayer" / "python"
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import karrio.sdk as karrio; "
            "from loguru import logger; logger.remove(); "
            "print(json.dumps(sorted(n for n in sys.argv[2:] if karrio.gateway[n] is not None)))")
    names = sorted(c.karrio_name for c in CATALOGUE.values())
    out = subprocess.run([str(workers.RUNTIME_PYTHON), "-I", "-c", code, str(built), *names],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == names


def test_sam_build_leaves_no_artifact_without_its_dependencies(build_dir):
    layer = build_dir / "ReturnsCoreLayer"
    assert (layer / "python" / "returns_core" / "__init__.py").exists()
    assert not (layer / "python" / "python").exists(), "the layer's modules must sit directly under python/"
    for name in ("pydantic_core", "cryptography", "PIL", "chalice", "pynamodb", "aws_lambda_powertools", "stripe"):
        assert (layer / "python" / name).is_dir(), f"{name} is missing from the layer"
    assert not (layer / "python" / "boto3").exists() and not (layer / "python" / "botocore").exists()
    # Every compiled extension is for the runtime's platform (x86_64, the runtime's CPython or abi3).
    tag = f"cpython-{artifacts.layer_settings()['python'].replace('.', '')}-x86_64"
    for so in (layer / "python").rglob("*.so"):
        assert "aarch64" not in so.name and (tag in so.name or "abi3" in so.name
                                             or ".cpython" not in so.name), so
    for fn in FUNCTIONS:
        assert (build_dir / fn / "app.py").exists()


def test_the_last_sam_build_printed_no_missing_dependencies(build_dir):
    """infra.artifacts.build refuses a build that says so; its output is kept beside the artifacts."""
    log = (build_dir / artifacts.BUILD_LOG_NAME).read_text()
    assert "Build Succeeded" in log and "without dependencies" not in log


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_function_initialises_with_only_its_artifact_and_boto3(build_dir, logical_id):
    built = load(build_dir / "template.yaml")["Resources"][logical_id]["Properties"]
    artifact = workers.Artifact(build_dir / built["CodeUri"], build_dir / "ReturnsCoreLayer" / "python",
                                built["Handler"])
    sink = workers.LogSink()
    worker = workers.Worker(logical_id, artifact, {"PATH": "/usr/bin:/bin", "AWS_REGION": "us-east-1",
                                                   "AWS_DEFAULT_REGION": "us-east-1",
                                                   "POWERTOOLS_TRACE_DISABLED": "true"}, sink)
    try:
        assert worker.alive     # INIT (the handler module's import) succeeded, or Worker() raised
        assert any(line.startswith("START worker") for line in sink.of(logical_id))
    finally:
        worker.stop()


MISSING_DEPENDENCY = "import not_in_the_layer\n\ndef handler(event, context):\n    return 1\n"


def test_a_missing_dependency_fails_the_init_loudly(tmp_path, build_dir):
    artifact = _one_file_artifact(tmp_path, build_dir, MISSING_DEPENDENCY)
    with pytest.raises(workers.FunctionError, match="No module named 'not_in_the_layer'"):
        workers.Worker("Broken", artifact, {"PATH": "/usr/bin:/bin"}, workers.LogSink())


def test_every_line_an_invocation_logs_is_in_the_sink_when_its_invoke_returns(tmp_path, build_dir):
    """The answer and the log lines travel on two pipes, read by two threads: a caller that reads the logs
    once the answer is back (a test, the console) must find all of them, each time, however busy the machine."""
    artifact = _one_file_artifact(tmp_path, build_dir, (
        "import logging, sys\n\n"
        "def handler(event, context):\n"
        "    for n in range(event['lines']):\n"
        "        print(f\"line {event['round']} {n}\", file=sys.stderr if n % 2 else sys.stdout)\n"
        "    logging.getLogger().warning('last of round %s', event['round'])\n"
        "    return event['round']\n"))
    sink = workers.LogSink()
    worker = workers.Worker("Chatty", artifact, {"PATH": "/usr/bin:/bin"}, sink)
    try:
        for round_ in range(20):
            assert worker.invoke({"lines": 500, "round": round_}, _context("Chatty", f"req-{round_}"), 10) == {
                "result": round_}
            logged = sink.of("Chatty")
            assert sum(line.startswith(f"line {round_} ") for line in logged) == 500
            assert any(line.endswith(f"last of round {round_}") for line in logged)
            assert logged[-1] == f"END RequestId: req-{round_}"     # Lambda's closing line, last
    finally:
        worker.stop()


def _context(name: str, request_id: str, timeout: int = 10) -> dict:
    return {"function_name": name, "invoked_function_arn": f"arn:aws:lambda:us-east-1:1:function:{name}",
            "memory_limit_in_mb": 128, "aws_request_id": request_id, "timeout_seconds": timeout}


def _one_file_artifact(tmp_path: Path, build_dir: Path, source: str) -> workers.Artifact:
    """A function whose folder holds only app.py (`source`), on the built layer."""
    fn = tmp_path / "fn"
    fn.mkdir()
    (fn / "app.py").write_text(source)
    return workers.Artifact(fn, build_dir / "ReturnsCoreLayer" / "python", "app.handler")


def _ready_runtime(artifact: workers.Artifact, env: dict) -> workers.PreloadedRuntime:
    """The artifact's pre-loaded runtime, once it is ready (an artifact's first environments start
    afresh; the second one asked for starts the fork server)."""
    deadline = time.monotonic() + 60
    while (runtime := workers.preloaded_runtime(artifact, env)) is None:
        assert time.monotonic() < deadline, "the pre-loaded runtime did not start in 60 s"
        time.sleep(0.1)
    return runtime


def _forked_worker(name: str, artifact: workers.Artifact, env: dict, sink: workers.LogSink) -> workers.Worker:
    """An environment forked from the artifact's pre-loaded runtime."""
    _ready_runtime(artifact, env)
    worker = workers.Worker(name, artifact, env, sink)
    assert worker.forked, worker.fork_error
    return worker


PROBE = (
    "import os, sys, time\n"
    "AT_INIT = os.environ.get('GREETING')\n\n"
    "def handler(event, context):\n"
    "    if event.get('exit') is not None:\n"
    "        sys.exit(event['exit'])\n"
    "    time.sleep(event.get('sleep', 0))\n"
    "    return {'at_init': AT_INIT, 'now': os.environ.get('GREETING'), 'pid': os.getpid(),\n"
    "            'preloaded': 'pynamodb.models' in sys.modules, 'cwd': os.getcwd(), 'path': sys.path[:2]}\n")


def test_a_forked_environment_is_its_function_own_init_environment_and_exit(tmp_path, build_dir):
    """Forked from the pre-loaded runtime, an environment still imports its handler module in its own
    INIT, with its own environment variables (not the fork server's), on Lambda's import path; and it
    ends as a process ends: an exit code, a timeout's kill."""
    artifact = _one_file_artifact(tmp_path, build_dir, PROBE)
    fn = artifact.task_root
    sink = workers.LogSink()
    first = workers.Worker("Probe", artifact, {"PATH": "/usr/bin:/bin", "GREETING": "first"}, sink)
    assert not first.forked        # (the fork server starts at the next one asked for)
    forked = [_forked_worker("Probe", artifact, {"PATH": "/usr/bin:/bin", "GREETING": f"env {n}"}, sink)
              for n in range(2)]
    try:
        answers = [w.invoke({}, _context("Probe", f"req-{n}"), 10)["result"] for n, w in enumerate([first, *forked])]
        assert [a["at_init"] for a in answers] == ["first", "env 0", "env 1"]
        assert [a["now"] for a in answers] == ["first", "env 0", "env 1"]
        assert len({a["pid"] for a in answers}) == 3
        assert [a["preloaded"] for a in answers] == [False, True, True]
        assert all(a["cwd"] == str(fn) and a["path"] == [str(fn), str(artifact.layer_root)] for a in answers)
        assert sum("forked from its pre-loaded runtime" in line for line in sink.of("Probe")) == 2

        with pytest.raises(workers.FunctionError, match=r"exited during the invocation \(exit 3\)"):
            forked[0].invoke({"exit": 3}, _context("Probe", "req-exit"), 10)
        assert not forked[0].alive
        with pytest.raises(TimeoutError):
            forked[1].invoke({"sleep": 30}, _context("Probe", "req-slow", 1), 1)
        assert not forked[1].alive and forked[1].proc.wait() == -9
    finally:
        for w in (first, *forked):
            w.stop()


def test_a_missing_dependency_fails_a_forked_init_loudly_too(tmp_path, build_dir):
    artifact = _one_file_artifact(tmp_path, build_dir, MISSING_DEPENDENCY)
    runtime = _ready_runtime(artifact, {"PATH": "/usr/bin:/bin"})
    with pytest.raises(workers.FunctionError, match="No module named 'not_in_the_layer'"):
        workers.Worker("Broken", artifact, {"PATH": "/usr/bin:/bin"}, workers.LogSink())
    assert runtime.environments == 1     # the failed INIT was a forked one


def test_one_runtime_version_everywhere():
    """The template's runtime, the layer's lock and build, and the local runtime's interpreter are one
    Python version: a wheel or a language change that breaks on Lambda breaks here first."""
    version = artifacts.layer_settings()["python"]
    template = load(artifacts.ROOT / "template.yaml")
    assert template["Globals"]["Function"]["Runtime"] == f"python{version}"
    assert template["Resources"]["ReturnsCoreLayer"]["Properties"]["CompatibleRuntimes"] == [f"python{version}"]
    assert f"--python-version {version} " in (artifacts.ROOT / "layers/returns_core/Makefile").read_text()
    for fn, props in template["Resources"].items():
        if props["Type"] == "AWS::Serverless::Function":
            assert props["Properties"].get("Runtime", f"python{version}") == f"python{version}", fn
    out = subprocess.run([str(workers.RUNTIME_PYTHON), "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == version
    assert version == workers.RUNTIME_VERSION


def test_the_runtime_holds_boto3_and_nothing_of_ours():
    out = subprocess.run([str(workers.RUNTIME_PYTHON), "-I", "-c",
                          "import importlib.util as u, sys; print(json.dumps([bool(u.find_spec(m)) for m in "
                          "('boto3', 'pydantic', 'pynamodb', 'chalice', 'returns_core', 'moto')]))"
                          .replace("print(json.dumps(", "import json; print(json.dumps(")],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [True, False, False, False, False, False]


def test_through_the_gateway_health_label_pdf_and_signed_carrier_event(stack):
    """The built API, behind API Gateway's rules under a stage path, answers with the right bytes."""
    from infra.local import dispatch
    from infra.local.gateway import RestApi
    from returns_core.edge import auth
    from returns_core.store.models import ReturnModel

    from tests.conftest import GatewayClient
    from tests.workflow.helpers import order_payload, wait_for

    client = GatewayClient(base_path="/Prod")
    health = client.http.get("/health")
    assert health.status_code == 200 and json.loads(health.body)["ok"] is True
    assert client.api.handle("GET", "/health", [], b"").status_code == 403   # no stage: not served

    store = auth.mint("store", "shop")
    order = order_payload(provider="manual")
    put = client.http.put("/orders/ORD-ART", headers={"Authorization": f"Bearer {store}",
                                                      "Content-Type": "application/json"}, body=json.dumps(order))
    assert put.status_code == 201, put.body
    lookup = json.loads(client.http.post("/returns/lookup", headers={"Content-Type": "application/json"},
                                         body=json.dumps({"order_id": "ORD-ART", "email": "ana@example.com"})).body)
    customer = {"Authorization": f"Bearer {lookup['token']}", "Content-Type": "application/json"}
    created = client.http.post("/returns", headers=customer, body=json.dumps({
        "order_id": "ORD-ART", "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
        "resolution": "refund", "dropoff": {"method": "letterbox"}}))
    assert created.status_code == 201, created.body
    rid = json.loads(created.body)["return_id"]
    ret = wait_for(lambda: ReturnModel.get(rid, consistent_read=True), lambda r: r.status == "awaiting_dropoff",
                   what="the label")

    label = client.http.get(f"/returns/{rid}/label", headers={**customer, "Accept": "application/pdf"})
    assert label.status_code == 200
    assert label.headers["Content-Type"].startswith("application/pdf")
    assert label.body.startswith(b"%PDF-"), label.body[:40]          # bytes, not base64 text

    # The rule the template's BinaryMediaTypes exists for: without it, API Gateway would hand
    # the browser the Lambda's base64 text.
    template = load()
    template["Globals"]["Api"]["BinaryMediaTypes"] = []
    bare = RestApi.from_template(template, dispatch.invoker("ApiFunction"))
    as_text = bare.handle("GET", f"/returns/{rid}/label", list({**customer, "Accept": "application/pdf"}.items()), b"")
    assert as_text.status_code == 200 and not as_text.body.startswith(b"%PDF-")
    assert base64.b64decode(as_text.body) == label.body

    raw = json.dumps({"tracking_number": ret.label["tracking_number"], "event": "dropped_off",
                      "occurred_at": "2026-11-22T10:00:00Z", "location": "Paris"}).encode()
    signature = hmac.new(b"local-carrier-secret", raw, hashlib.sha256).hexdigest()
    event = client.http.post("/carrier/events", headers={"Content-Type": "application/json",
                                                         "X-Carrier-Signature": f"sha256={signature}"}, body=raw)
    assert event.status_code == 202, event.body
    forged = client.http.post("/carrier/events", headers={"Content-Type": "application/json",
                                                          "X-Carrier-Signature": "sha256=" + "0" * 64}, body=raw)
    assert forged.status_code == 401
