"""The Powertools stack every workflow step handler wears, assembled at its first invocation.

A step is `@metrics.log_metrics` → `@logger.inject_lambda_context` → `@tracer.capture_lambda_handler`
→ `@event_parser(model=...)` around a function of the parsed input. The Logger and Metrics are
made at import (they are light, and the handler uses them); the X-Ray SDK behind Tracer and
Pydantic behind the parser cost more than importing boto3, so they are imported and wrapped
when the first event arrives. That keeps a cold start's INIT near the `import boto3` baseline
(bench/coldstart.py measures both INIT and the first call).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics

from .. import logsafe

__all__ = ["PaymentInProgress", "Step", "TransientError"]


class TransientError(Exception):
    """Raised by a step for a failure worth retrying; the ASL's Retry names this class."""


class PaymentInProgress(TransientError):
    """Another invocation holds a money movement's lease (usecases/movements.py). The ASL retries this
    name on its own, for longer than the lease, so a crashed holder's payment is finished by the step."""


class Step:
    """`step = Step("WaitInput")`, then `@step` on `handler(event: WaitInput, context)`.

    `model` names a class of returns_core.edge.step_events; `step.logger` and `step.metrics` are the
    handler's Powertools objects. Keys appended to the logger last one invocation only.
    """

    def __init__(self, model: str, like: Step | None = None):
        """`like`: another entry point of the same function, whose Logger and Metrics this one shares."""
        self.model = model
        # emails and phone numbers masked in every line
        self.logger = like.logger if like is not None else logsafe.install(Logger())
        self.metrics = like.metrics if like is not None else Metrics()
        self._wrapped: Callable[[Any, Any], Any] | None = None

    def _assemble(self, fn: Callable) -> Callable[[Any, Any], Any]:
        from aws_lambda_powertools import Tracer
        from aws_lambda_powertools.utilities.parser import event_parser

        from . import step_events

        tracer = Tracer()
        parsed = event_parser(fn, model=getattr(step_events, self.model))
        traced = tracer.capture_lambda_handler(parsed)
        return self.metrics.log_metrics(self.logger.inject_lambda_context(traced, clear_state=True))

    def __call__(self, fn: Callable) -> Callable[[dict, Any], Any]:
        @functools.wraps(fn)
        def handler(event: dict, context: Any) -> Any:
            if self._wrapped is None:
                self._wrapped = self._assemble(fn)
            return self._wrapped(event, context)
        return handler
