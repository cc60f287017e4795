"""No personal data in logs: emails and phone numbers are masked in every log record.

The first line of defence is discipline: log ids (return, order, tracking number),
never a customer's name, address, email or phone. This module is the net under it.
`install(logger)` (called once by each handler and the API):

- masks the message of every record made in the process, whichever logger made it
  (a log-record factory: domain modules log through plain `logging`);
- masks every line the Powertools logger writes, extras and tracebacks included
  (its handlers' formatters are wrapped).

Names and street addresses cannot be recognised by a pattern; they are kept out by
never logging them, and tests/workflow/test_no_personal_data_in_logs.py checks that.
"""
from __future__ import annotations

import logging
import re
from typing import Any

__all__ = ["mask", "install", "MaskingFormatter"]

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# International (+33 6 00 00 00 00, +1 (555) 010-9999) and national (06 00 00 00 00, 0600000000)
# numbers. Not dates (2026-11-22), amounts or ids: those do not start with + or 0d and 8 more digits.
PHONE = re.compile(r"(?<![\w+])\+\d(?:[ ().-]{0,2}\d){6,14}(?!\w)"
                   r"|(?<![\w.:-])0\d(?:[ .-]?\d{2}){4}(?![\w-])")
EMAIL_MASK, PHONE_MASK = "<email>", "<phone>"


def mask(text: str) -> str:
    return PHONE.sub(PHONE_MASK, EMAIL.sub(EMAIL_MASK, text))


class MaskingFormatter(logging.Formatter):
    """Wraps another formatter and masks the whole line it produced."""

    def __init__(self, inner: logging.Formatter | None):
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return mask(self.inner.format(record))

    def __getattr__(self, name: str) -> Any:   # Powertools calls append_keys etc. on its formatter
        return getattr(self.inner, name)


_base_factory = None


def _install_record_factory() -> None:
    global _base_factory
    if _base_factory is not None:
        return
    _base_factory = logging.getLogRecordFactory()
    base = _base_factory

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        if isinstance(record.msg, str):
            try:
                text = record.getMessage()
            except Exception:  # noqa: BLE001 - a bad format string stays the logging module's problem
                return record
            record.msg, record.args = mask(text), ()
        return record

    logging.setLogRecordFactory(factory)


def _wrap_handlers(logger: logging.Logger) -> None:
    for handler in logger.handlers:
        if not isinstance(handler.formatter, MaskingFormatter):
            handler.setFormatter(MaskingFormatter(handler.formatter))


def install(logger: Any = None) -> Any:
    """Mask personal data in this process's logs; `logger` may be a Powertools Logger."""
    _install_record_factory()
    if logger is not None:
        inner = getattr(logger, "_logger", logger)
        if isinstance(inner, logging.Logger):
            _wrap_handlers(inner)
    _wrap_handlers(logging.getLogger())
    return logger
