"""Lambda execution environments for the local stack: a pool of worker processes per function.

Each worker is a `lambda_worker.py` process on the runtime interpreter (`.venv/lambda-runtime`,
boto3 only) whose import path is the built function's folder and the built layer's python/, with
the function's environment from the template. Like Lambda, a worker serves one invocation at a
time and stays warm for the next; concurrent invocations get more workers; an invocation that
runs past the function's timeout is killed and reported as Lambda reports it. A dependency that
the artifact lacks fails the worker's INIT, loudly, with the import error.
"""
from __future__ import annotations

import atexit
import json
import os
import queue
import signal
import socket
import subprocess
import threading
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PYTHON = ROOT / ".venv/lambda-runtime/bin/python"
# The Lambda runtime's Python version (template.yaml's `Runtime` names the same: tests/infra/test_artifacts.py).
RUNTIME_VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["returns"]["layer"]["python"]
WORKER = Path(__file__).resolve().parent / "lambda_worker.py"
INIT_TIMEOUT_SECONDS = 30.0   # Lambda allows 10 s; a loaded 2-core test machine needs more


@dataclass(frozen=True)
class Artifact:
    """Where a built function's code is: its folder (/var/task) and the layer's python/ (/opt/python)."""
    task_root: Path
    layer_root: Path
    handler: str


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


# Lambda's last log line of each invocation; the worker writes it before its answer.
END_OF_INVOCATION = "END RequestId: "
# How long an answer waits for its END line: it is written before the answer, so only a stalled
# reader thread could make this wait at all.
LOG_FLUSH_TIMEOUT_SECONDS = 5.0


class LogSink:
    """Every log line the workers write, by function; echoed to the console when asked."""

    def __init__(self, echo: Callable[[str, str], None] | None = None) -> None:
        self.lines: list[tuple[str, str]] = []
        self.echo = echo
        self._lock = threading.Lock()

    def write(self, function: str, line: str) -> None:
        with self._lock:
            self.lines.append((function, line))
        if self.echo:
            self.echo(function, line)

    def of(self, function: str | None = None) -> list[str]:
        with self._lock:
            return [line for name, line in self.lines if function is None or name == function]


class FunctionError(Exception):
    pass


# --- Pre-loaded runtimes: one fork server per artifact (lambda_worker.zygote) --------------------------

# The libraries a cold start spends its CPU importing, the same in every environment of an artifact.
# Imported once per artifact, from the artifact's own folders, by a process each new environment is
# forked from; the handler module and the function's folder are still imported in each environment's
# INIT. A name the artifact lacks is skipped there, and fails the INIT here as it would on Lambda.
PRELOAD = (
    "boto3", "boto3.session", "botocore.session", "botocore.client", "botocore.config", "botocore.loaders",
    "botocore.exceptions", "pynamodb.models", "pynamodb.attributes", "pynamodb.indexes", "pynamodb.connection",
    "pynamodb.transactions", "pynamodb.exceptions", "aws_lambda_powertools", "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics", "aws_lambda_powertools.tracing", "aws_lambda_powertools.utilities.typing",
    "aws_lambda_powertools.utilities.parser", "aws_xray_sdk.core", "pydantic", "pydantic.json_schema",
    "chalice", "chalice.app", "stripe", "cryptography.hazmat.primitives.asymmetric.rsa",
    "cryptography.hazmat.primitives.serialization", "reportlab.pdfgen.canvas", "reportlab.pdfbase.pdfmetrics",
    "reportlab.graphics.shapes", "reportlab.graphics.renderPDF", "reportlab.graphics.barcode.qr",
    "reportlab.graphics.barcode.code128", "email.parser", "http.client", "zoneinfo", "decimal",
)
# The services whose models the pre-loaded runtime parses (botocore reads each JSON model once per loader).
PRELOAD_CLIENTS = ("dynamodb", "s3", "sns", "ses", "sesv2", "secretsmanager", "lambda", "stepfunctions", "sqs")
# `LOCAL_LAMBDA_PRELOAD=0` starts every environment afresh (bench/ does: on AWS a cold start pays it all).
PRELOAD_SWITCH = "LOCAL_LAMBDA_PRELOAD"


def preloading() -> bool:
    return os.environ.get(PRELOAD_SWITCH, "1") != "0"


class ForkedProcess:
    """A Lambda environment forked from a pre-loaded runtime: what Worker needs of a Popen (pipes, pid,
    poll, kill, wait). It is the fork server's child, which reaps it and reports its exit code; the
    pidfd makes a kill safe against the pid's reuse."""

    def __init__(self, server: PreloadedRuntime, pid: int, stdin, stdout, stderr) -> None:
        self.server, self.pid = server, pid
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self._pidfd_lock = threading.Lock()   # stop() can come from two threads: close the pidfd once
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:
            self._pidfd = None   # gone already: its exit code is on its way from the fork server

    def poll(self) -> int | None:
        return self.server.exit_code(self.pid, 0)

    def kill(self) -> None:
        with self._pidfd_lock:
            if self._pidfd is not None and self.poll() is None:
                try:
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def wait(self, timeout: float | None = None) -> int:
        code = self.server.exit_code(self.pid, 10.0 if timeout is None else timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 10.0)
        with self._pidfd_lock:
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
        return code


class PreloadedRuntime:
    """The fork server of one artifact (see lambda_worker.zygote)."""

    def __init__(self, artifact: Artifact, environment: dict[str, str]) -> None:
        self.artifact = artifact
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control = ours
        self.proc = subprocess.Popen([str(RUNTIME_PYTHON), "-I", str(WORKER), "--zygote", str(theirs.fileno())],
                                     pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment,
                                     start_new_session=True, cwd=str(artifact.task_root))
        theirs.close()
        self._said: list[str] = []   # its last lines on stderr: why it died, if it does
        threading.Thread(target=self._read_stderr, daemon=True).start()
        self._replies: queue.Queue[dict | None] = queue.Queue()
        self._exits: dict[int, int] = {}
        self._closed = False          # its control socket ended: it is gone, and so are its reports
        self._exited = threading.Condition()
        self._spawning = threading.Lock()
        self.environments = 0        # how many it has forked
        self.control.send(json.dumps({"task_root": str(artifact.task_root), "layer_root": str(artifact.layer_root),
                                      "preload": PRELOAD, "clients": PRELOAD_CLIENTS}).encode())
        threading.Thread(target=self._read, daemon=True).start()
        if self._reply(INIT_TIMEOUT_SECONDS) != {"ready": True}:
            self.stop()
            raise FunctionError(f"the pre-loaded runtime of {_shown(artifact.task_root)} did not start: {self.why()}")

    def _read_stderr(self) -> None:
        for line in iter(self.proc.stderr.readline, b""):
            self._said = (self._said + [line.decode("utf-8", "replace").rstrip()])[-20:]

    def why(self) -> str:
        return " | ".join(self._said[-5:]) or f"exit {self.proc.poll()}"

    def _read(self) -> None:
        while True:
            try:
                message = self.control.recv(1 << 16)
            except OSError:
                message = b""
            if not message:
                break
            data = json.loads(message)
            if "exited" in data:
                with self._exited:
                    self._exits[data["exited"]] = data["code"]
                    self._exited.notify_all()
            else:
                if "pid" in data:
                    with self._exited:   # an exit of an earlier child with this pid (its notice came first)
                        self._exits.pop(data["pid"], None)
                self._replies.put(data)
        self._replies.put(None)
        with self._exited:
            self._closed = True
            self._exited.notify_all()

    def _reply(self, timeout: float) -> dict | None:
        try:
            return self._replies.get(timeout=timeout)
        except queue.Empty:
            return None

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None and not self._closed

    def exit_code(self, pid: int, timeout: float) -> int | None:
        """The child's exit code once the fork server has reaped it; None while it runs. (If the fork
        server itself is gone, so are its children's reports: -9, as for a killed process.)"""
        with self._exited:
            self._exited.wait_for(lambda: pid in self._exits or self._closed, timeout=timeout)
            if pid in self._exits:
                return self._exits[pid]
            return -signal.SIGKILL if self._closed else None

    def spawn(self, environment: dict[str, str]) -> ForkedProcess:
        # The child's ends of its three pipes travel to the fork server and become its stdin/out/err.
        child_in, parent_in = os.pipe()
        parent_out, child_out = os.pipe()
        parent_err, child_err = os.pipe()
        try:
            with self._spawning:
                socket.send_fds(self.control, [json.dumps({"env": environment}).encode()],
                                [child_in, child_out, child_err])
                reply = self._reply(INIT_TIMEOUT_SECONDS)
        except OSError as exc:
            for fd in (parent_in, parent_out, parent_err):
                os.close(fd)
            raise FunctionError(f"the pre-loaded runtime of {_shown(self.artifact.task_root)} is gone: {exc}; "
                                f"{self.why()}") from exc
        finally:
            for fd in (child_in, child_out, child_err):
                os.close(fd)
        if not reply or "pid" not in reply:
            for fd in (parent_in, parent_out, parent_err):
                os.close(fd)
            raise FunctionError(f"the pre-loaded runtime of {_shown(self.artifact.task_root)} did not fork: "
                                f"{reply or self.why()}")
        self.environments += 1
        text = {"encoding": "utf-8", "errors": "strict"}
        return ForkedProcess(self, reply["pid"], open(parent_in, "w", buffering=1, **text),
                             open(parent_out, **text), open(parent_err, **text))

    def stop(self) -> None:
        try:
            self.control.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


_runtimes: dict[tuple, PreloadedRuntime] = {}
_runtimes_lock = threading.Lock()


def _build_identity(artifact: Artifact) -> tuple:
    """An artifact rebuilt in place (sam build replaces the folders) is a new artifact: a runtime that
    pre-loaded the old one's libraries must not serve it."""
    return tuple((str(p), p.stat().st_ino, p.stat().st_mtime_ns) for p in (artifact.task_root, artifact.layer_root)) \
        + (artifact.handler,)


_ASKED_ONCE, _STARTING, _FAILED = "asked once", "starting", "failed"


def preloaded_runtime(artifact: Artifact, environment: dict[str, str]) -> PreloadedRuntime | None:
    """The artifact's fork server once it is ready, else None. An artifact's first environments start
    afresh: the fork server starts in the background when the second is asked for, so a stack that
    needs one environment per function (a short `make run`) never waits for, nor pays for, one."""
    key = _build_identity(artifact)
    with _runtimes_lock:
        runtime = _runtimes.get(key)
        if isinstance(runtime, PreloadedRuntime) and runtime.alive:
            return runtime
        if runtime in (_STARTING, _FAILED):
            return None
        if runtime is None:
            _runtimes[key] = _ASKED_ONCE   # a fork server pays off from an artifact's third environment on
            return None
        _runtimes[key] = _STARTING
    if isinstance(runtime, PreloadedRuntime):
        runtime.stop()   # dead: a new one
    threading.Thread(target=_start_runtime, args=(key, artifact, environment), daemon=True).start()
    return None


def _start_runtime(key: tuple, artifact: Artifact, environment: dict[str, str]) -> None:
    try:
        runtime: PreloadedRuntime | str = PreloadedRuntime(artifact, environment)
    except (FunctionError, OSError):
        runtime = _FAILED      # environments of this artifact start afresh, as without a fork server
    with _runtimes_lock:
        if _runtimes.get(key) == _STARTING:
            _runtimes[key] = runtime
            return
    if isinstance(runtime, PreloadedRuntime):
        runtime.stop()         # stopped meanwhile


def stop_preloaded_runtimes() -> None:
    """They outlive a stack's deploys (that is their point) and end with this process; a fork server
    whose parent dies reads the end of its control socket and exits, and so does each environment."""
    with _runtimes_lock:
        runtimes = [r for r in _runtimes.values() if isinstance(r, PreloadedRuntime)]
        _runtimes.clear()
    for runtime in runtimes:
        runtime.stop()


atexit.register(stop_preloaded_runtimes)


class Worker:
    def __init__(self, logical_id: str, artifact: Artifact, environment: dict[str, str], sink: LogSink,
                 preloaded: bool = True) -> None:
        """`preloaded`: forked from the artifact's pre-loaded runtime (unless LOCAL_LAMBDA_PRELOAD=0),
        else started afresh."""
        if not RUNTIME_PYTHON.exists():
            raise FunctionError(f"{RUNTIME_PYTHON.relative_to(ROOT)} is missing: `make install` makes it")
        self.logical_id = logical_id
        self.proc: subprocess.Popen | ForkedProcess
        runtime = preloaded_runtime(artifact, environment) if preloaded and preloading() else None
        self.forked, self.fork_error = False, ""
        if runtime is not None:
            try:
                self.proc = runtime.spawn(environment)
                self.forked = True
            except FunctionError as exc:
                self.fork_error = str(exc)   # this environment starts afresh, as without a fork server
        if not self.forked:
            self.proc = subprocess.Popen([str(RUNTIME_PYTHON), "-I", str(WORKER)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment,
                                         # Not in the terminal's process group: Ctrl-C stops the stack,
                                         # which stops them.
                                         start_new_session=True,
                                         cwd=str(artifact.task_root), text=True, encoding="utf-8", bufsize=1)
        self._answers: queue.Queue[str | None] = queue.Queue()
        # The request ids whose END line the log reader has read (see invoke).
        self._ended: set[str] = set()
        self._log_read = threading.Condition()
        threading.Thread(target=self._read_answers, daemon=True).start()
        threading.Thread(target=self._read_logs, args=(sink,), daemon=True).start()
        self._send({"task_root": str(artifact.task_root), "layer_root": str(artifact.layer_root),
                    "handler": artifact.handler})
        ready = self._answer(INIT_TIMEOUT_SECONDS, "INIT")
        if "init_error" in ready:
            self.stop()
            error = ready["init_error"]
            raise FunctionError(f"{logical_id} failed to initialise: {error['errorType']}: {error['errorMessage']}")
        sink.write(logical_id, f"START worker pid {self.proc.pid}: {_shown(artifact.task_root)} + "
                               f"{_shown(artifact.layer_root)} on {RUNTIME_PYTHON.parent.parent.name}"
                               + (", forked from its pre-loaded runtime" if self.forked else ""))

    def _read_answers(self) -> None:
        for line in self.proc.stdout:
            self._answers.put(line)
        self._answers.put(None)

    def _read_logs(self, sink: LogSink) -> None:
        for line in self.proc.stderr:
            line = line.rstrip("\n")
            sink.write(self.logical_id, line)
            if line.startswith(END_OF_INVOCATION):
                with self._log_read:
                    self._ended.add(line[len(END_OF_INVOCATION):].strip())
                    self._log_read.notify_all()
        with self._log_read:
            self._ended.add(None)   # the stream closed: nothing more will come
            self._log_read.notify_all()

    def _send(self, message: dict) -> None:
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def _answer(self, timeout: float, what: str) -> dict:
        try:
            line = self._answers.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise TimeoutError(f"Task timed out after {timeout:.2f} seconds") from None
        if line is None:
            code = self.proc.wait()
            raise FunctionError(f"{self.logical_id}: the runtime exited during {what} (exit {code})")
        return json.loads(line)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def invoke(self, event: Any, context: dict, timeout: float) -> dict:
        """The invocation's answer, once its log lines are all in the sink: the answer and the logs travel on
        two pipes read by two threads, and a caller that reads the logs after the answer must find them."""
        self._send({"event": event, "context": context})
        answer = self._answer(timeout, "the invocation")
        request_id = context["aws_request_id"]
        with self._log_read:
            self._log_read.wait_for(lambda: request_id in self._ended or None in self._ended,
                                    timeout=LOG_FLUSH_TIMEOUT_SECONDS)
            self._ended.discard(request_id)
        return answer

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


class FunctionPool:
    """The warm execution environments of one function.

    Like Lambda, one invocation per environment and a new environment when all are busy, up to
    `max_workers` (the function's concurrency here: a 2-core machine gains nothing from more
    processes, so further invocations wait for the next free one instead of being throttled)."""

    def __init__(self, logical_id: str, name: str, arn: str, artifact: Artifact, environment: dict[str, str],
                 memory_mb: int, timeout: int, sink: LogSink, max_workers: int = 6) -> None:
        self.logical_id, self.name, self.arn = logical_id, name, arn
        self.artifact, self.memory_mb, self.timeout, self.sink = artifact, memory_mb, timeout, sink
        self.environment, self.max_workers = environment, max_workers
        self._idle: list[Worker] = []
        self._all: list[Worker] = []
        self._starting = 0
        self._free = threading.Condition()
        self._closed = False

    def _take(self) -> Worker:
        with self._free:
            while True:
                if self._closed:
                    raise FunctionError(f"{self.logical_id}: the local stack is stopping")
                if self._idle:
                    return self._idle.pop()
                if len(self._all) + self._starting < self.max_workers:
                    self._starting += 1
                    break
                self._free.wait()
        try:
            worker = Worker(self.logical_id, self.artifact, self.environment, self.sink)
        finally:
            with self._free:
                self._starting -= 1
                self._free.notify()
        with self._free:
            self._all.append(worker)
        return worker

    def _give_back(self, worker: Worker) -> None:
        with self._free:
            if worker.alive and not self._closed:
                self._idle.append(worker)
            else:
                worker.stop()
                if worker in self._all:
                    self._all.remove(worker)
            self._free.notify()

    def invoke(self, event: Any) -> tuple[Any, str | None]:
        """(result, None) or (Lambda's error document, "Unhandled")."""
        context = {"function_name": self.name, "invoked_function_arn": self.arn,
                   "memory_limit_in_mb": self.memory_mb, "aws_request_id": str(uuid.uuid4()),
                   "timeout_seconds": self.timeout}
        try:
            worker = self._take()
        except FunctionError as exc:
            return {"errorType": "Runtime.ImportModuleError", "errorMessage": str(exc)}, "Unhandled"
        try:
            answer = worker.invoke(event, context, self.timeout)
        except (TimeoutError, FunctionError, OSError) as exc:
            worker.stop()
            return {"errorType": "Sandbox.Timedout" if isinstance(exc, TimeoutError) else "Runtime.ExitError",
                    "errorMessage": str(exc)}, "Unhandled"
        finally:
            self._give_back(worker)
        if "error" in answer:
            return answer["error"], "Unhandled"
        return answer["result"], None

    def close(self) -> None:
        with self._free:
            self._closed = True
            workers, self._all, self._idle = self._all, [], []
            self._free.notify_all()
        for worker in workers:
            worker.stop()


def lambda_environment(logical_id: str, name: str, artifact: Artifact, memory_mb: int,
                       function_env: dict[str, str], aws: dict[str, str]) -> dict[str, str]:
    """What Lambda puts in a python3.13 function's environment, the template's variables, and the
    emulator's endpoint and dummy credentials (`aws`). Nothing of this process's own environment."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{RUNTIME_VERSION}", "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb), "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}", "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "LAMBDA_TASK_ROOT": str(artifact.task_root), "_HANDLER": artifact.handler,
        "PYTHONUNBUFFERED": "1",
        # No X-Ray daemon on this machine: the Tracer stays off locally, as in Powertools' tests.
        "POWERTOOLS_TRACE_DISABLED": "true",
        **function_env, **aws,
    }


