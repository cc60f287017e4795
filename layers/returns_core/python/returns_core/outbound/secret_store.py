"""Secrets (named secret_store so it never shadows the stdlib `secrets`): from Secrets Manager when
`<NAME>_ARN` is set (deployed and local stack), else `<NAME>`."""
from __future__ import annotations

import os
import threading
import time

from .. import aws
from ..config import ConfigError

# A warm function re-reads a secret after this long, so a rotated value (e.g. the carrier secret's
# rollover, which keeps both keys valid meanwhile) reaches every instance within it.
CACHE_SECONDS = int(os.environ.get("SECRETS_CACHE_SECONDS", "300"))
_cache: dict[tuple[str, str | None], tuple[float, str]] = {}
_lock = threading.Lock()


def _from_manager(arn: str, endpoint: str | None) -> str:
    key, now = (arn, endpoint), time.monotonic()
    with _lock:
        cached = _cache.get(key)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    value = aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    with _lock:
        _cache[key] = (now, value)
    return value


def get(name: str) -> str:
    arn = os.environ.get(f"{name}_ARN")
    if arn:
        return _from_manager(arn, os.environ.get("AWS_ENDPOINT_URL"))
    value = os.environ.get(name)
    if value is None:
        raise ConfigError(f"neither {name}_ARN nor {name} is set")
    return value


def reset() -> None:
    with _lock:
        _cache.clear()
