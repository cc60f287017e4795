"""The template's scheduled events (`Events: {Type: Schedule}` on a function), run by the local stack as
EventBridge runs them on AWS: the function is invoked with the event's `Input` at the event's rate.

Only `rate(N minute|minutes|hour|hours|day|days)` is read: it is what template.yaml uses; any other
expression is refused loudly at start (tests/infra/test_schedules.py), never skipped in silence.
"""
from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Schedule:
    function: str          # the function's logical id
    name: str              # the event's name in the template
    every_seconds: float
    event: Any             # the Input, parsed


def rate_seconds(expression: str) -> float:
    match = _RATE.match(expression.strip())
    if match is None:
        raise ValueError(f"the local stack runs rate(...) schedules only, not {expression!r}")
    count, unit = int(match.group(1)), match.group(2).rstrip("s")
    if count <= 0:
        raise ValueError(f"a schedule's rate must be positive: {expression!r}")
    return float(count * _UNIT_SECONDS[unit])


def of_template(template: dict) -> list[Schedule]:
    found = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for name, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
            if event.get("Type") != "Schedule":
                continue
            props = event.get("Properties") or {}
            if props.get("Enabled") is False or props.get("State") == "DISABLED":
                continue
            found.append(Schedule(logical_id, name, rate_seconds(props["Schedule"]),
                                  json.loads(props.get("Input") or "{}")))
    return found


class Runner:
    """One thread per schedule: the first run one period after the start (as a new EventBridge rule),
    then one every period; `stop()` ends them. `invoke(logical_id, event)` runs the function."""

    def __init__(self, schedules: list[Schedule], invoke: Callable[[str, Any], Any],
                 on_error: Callable[[str], None] = lambda text: None, scale: float = 1.0):
        self._schedules = schedules
        self._invoke = invoke
        self._on_error = on_error
        self._scale = scale
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Runner:
        for schedule in self._schedules:
            thread = threading.Thread(target=self._loop, args=(schedule,), name=f"schedule-{schedule.name}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _loop(self, schedule: Schedule) -> None:
        while not self._stopped.wait(schedule.every_seconds * self._scale):
            try:
                self._invoke(schedule.function, schedule.event)
            except Exception as exc:  # noqa: BLE001 - EventBridge retries on the next period too
                self._on_error(f"{schedule.function} ({schedule.name}) failed: {type(exc).__name__}")

    def stop(self) -> None:
        self._stopped.set()
        for thread in self._threads:
            thread.join(timeout=5)
