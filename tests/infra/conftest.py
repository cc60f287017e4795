"""The infra tests' fixtures: stacks launched as a user launches them (tests/infra/local_stack.py)."""
from __future__ import annotations

import signal

import pytest

from tests.infra.local_stack import Stack


@pytest.fixture
def stacks(tmp_path):
    """Stacks on one data folder, one after the other; whatever is still running is stopped."""
    started: list[Stack] = []

    def make() -> Stack:
        stack = Stack(tmp_path / "data", tmp_path / f"stack-{len(started)}.log")
        started.append(stack)
        return stack.start()

    yield make
    for stack in started:
        if stack.proc is not None and stack.proc.poll() is None:
            stack.stop(signal.SIGKILL)
