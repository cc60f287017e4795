"""moto's Step Functions interpreter, parsing each state machine's definition once.

moto parses a definition with the ANTLR runtime for Python on `CreateStateMachine` (to validate
it) and again on every `StartExecution`: about a second for our lifecycle on a quiet machine, the
largest single cost of a workflow test and of each return started on the local stack. The
syntax tree depends on nothing but the definition's text, so it is kept, by text; the
evaluation components are still built afresh from it for every execution (they are what an
execution mutates), exactly as moto builds them.
"""
from __future__ import annotations

import threading
from typing import Any

_trees: dict[str, Any] = {}
_lock = threading.Lock()
_original: Any = None
MAX_DEFINITIONS = 32   # a few machines, a few versions each; the local stack never holds more


def _parse(definition: str) -> tuple[Any, Any]:
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    tree = _trees.get(definition)
    if tree is None:
        _, tree = _original(definition)   # moto's own parse: syntax errors raise as moto raises them
        with _lock:
            if len(_trees) >= MAX_DEFINITIONS:
                _trees.clear()
            _trees[definition] = tree
    return Preprocessor().visit(tree), tree


def install() -> None:
    """Idempotent; every caller of moto's parser (validation, executions) goes through the cache."""
    global _original
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    if _original is None:
        _original = AmazonStateLanguageParser.parse
        AmazonStateLanguageParser.parse = staticmethod(_parse)
