"""What the local stack prints, and what it keeps in `.local/logs/` instead.

By default the console gets one readable line per workflow step (which function, which return,
what came of it, how long it took), each worker as it starts, and the functions' warnings and
errors as one line each. Every line the functions write, their metrics (CloudWatch EMF JSON)
included, goes to `.local/logs/functions.log` as written. `--verbose` echoes those raw lines
and the emulators' access logs to the console as well.
"""
from __future__ import annotations

import json
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

SHOWN_LEVELS = ("WARNING", "ERROR", "CRITICAL")
SHOWN_KEYS = ("return_id", "wait", "kind", "status", "outcome", "error", "code")
# Python's `warnings` output: `path.py:213: UserWarning: ...` and then the source line, indented.
_PY_WARNING = re.compile(r"^\S+\.py:\d+: \w*Warning: ")


def _short(function: str) -> str:
    return function[:-len("Function")] if function.endswith("Function") else function


def _now() -> str:
    return time.strftime("%H:%M:%S")


def readable(function: str, line: str) -> str | None:
    """The console's line for one function log line, or None to keep it to the log file."""
    text = line.strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if isinstance(record, dict):
            if "_aws" in record:
                return None                      # a metric (EMF): for CloudWatch, not for people
            level = str(record.get("level", "INFO")).upper()
            if level not in SHOWN_LEVELS:
                return None                      # the step line says what happened
            keys = " ".join(f"{k}={record[k]}" for k in SHOWN_KEYS if record.get(k) not in (None, ""))
            return (f"{_now()}  {_short(function):<14} {level} {record.get('message', '')}"
                    + (f"  ({keys})" if keys else ""))
    if text.startswith("[INFO]") or text.startswith("[DEBUG]"):
        return None                              # the runtime's own handler, below WARNING
    return f"{_now()}  {_short(function):<14} {text}"


def step_line(function: str, event: Any, result: Any, error: str | None, seconds: float) -> str:
    """One workflow step: `12:00:01  IssueLabel     r_1a2b  -> awaiting_dropoff  (0.41 s)`."""
    event = event if isinstance(event, dict) else {}
    what = " ".join(str(event[k]) for k in ("return_id", "wait", "kind") if event.get(k))
    if error:
        outcome = f"failed: {result.get('errorType', error) if isinstance(result, dict) else error}"
    elif isinstance(result, dict):
        outcome = "-> " + ", ".join(str(result[k]) for k in ("status", "outcome") if result.get(k)) if any(
            result.get(k) for k in ("status", "outcome")) else "done"
    else:
        outcome = "done"
    return f"{_now()}  {_short(function):<14} {what}  {outcome}  ({seconds:.2f} s)"


class Console:
    def __init__(self, logs: Path, verbose: bool = False, out: TextIO | None = None) -> None:
        self.verbose = verbose
        self.out = out or sys.stdout
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / "functions.log"
        if path.exists():
            path.replace(logs / "functions.previous.log")   # this run's lines, and the last run's
        self._file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - open while the stack runs
        self._lock = threading.Lock()
        self._in_warning: set[str] = set()
        self.log_path = path

    def say(self, text: str) -> None:
        with self._lock:
            print(text, file=self.out, flush=True)

    def function_line(self, function: str, line: str) -> None:
        with self._lock:
            self._file.write(f"{function}\t{line}\n")
        if self.verbose:
            self.say(f"[{function}] {line}")
            return
        # Library warnings (e.g. Powertools' "no application metrics") stay in the log file.
        if _PY_WARNING.match(line):
            self._in_warning.add(function)
            return
        if function in self._in_warning and line.startswith(" "):
            return
        self._in_warning.discard(function)
        shown = readable(function, line)
        if shown is not None:
            self.say(shown)

    def step(self, function: str, event: Any, result: Any, error: str | None, seconds: float) -> None:
        self.say(step_line(function, event, result, error, seconds))

    def close(self) -> None:
        with self._lock:
            self._file.close()
