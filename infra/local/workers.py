"""Lambda execution environments for the local stack: a pool of worker processes per function.

Each worker is a `lambda_worker.py` process on the runtime interpreter (`.venv/lambda-runtime`,
boto3 only) whose import path is the built function's folder and the built layer's python/, with
the function's environment from the template. Like Lambda, a worker serves one invocation at a
time and stays warm for the next; concurrent invocations get more workers; an invocation that
runs past the function's timeout is killed and reported as Lambda reports it. A dependency that
the artifact lacks fails the worker's INIT, loudly, with the import error.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PYTHON = ROOT / ".venv/lambda-runtime/bin/python"
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


class Worker:
    def __init__(self, logical_id: str, artifact: Artifact, environment: dict[str, str], sink: LogSink) -> None:
        if not RUNTIME_PYTHON.exists():
            raise FunctionError(f"{RUNTIME_PYTHON.relative_to(ROOT)} is missing: `make install` makes it")
        self.logical_id = logical_id
        self.proc = subprocess.Popen([str(RUNTIME_PYTHON), "-I", str(WORKER)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment,
                                     # Not in the terminal's process group: Ctrl-C stops the stack, which stops them.
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
                               f"{_shown(artifact.layer_root)} on {RUNTIME_PYTHON.parent.parent.name}")

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
    """What Lambda puts in a python3.11 function's environment, the template's variables, and the
    emulator's endpoint and dummy credentials (`aws`). Nothing of this process's own environment."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11", "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb), "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}", "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "LAMBDA_TASK_ROOT": str(artifact.task_root), "_HANDLER": artifact.handler,
        "PYTHONUNBUFFERED": "1",
        # No X-Ray daemon on this machine: the Tracer stays off locally, as in Powertools' tests.
        "POWERTOOLS_TRACE_DISABLED": "true",
        **function_env, **aws,
    }


