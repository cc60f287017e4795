"""Secrets (named secret_store so it never shadows the stdlib `secrets`): from Secrets Manager when `<NAME>_ARN` is set (deployed and local stack), else `<NAME>`."""
from __future__ import annotations

import os
from functools import lru_cache

from .. import aws
from ..config import ConfigError


@lru_cache(maxsize=16)
def _from_manager(arn: str, endpoint: str | None) -> str:
    return aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]


def get(name: str) -> str:
    arn = os.environ.get(f"{name}_ARN")
    if arn:
        return _from_manager(arn, os.environ.get("AWS_ENDPOINT_URL"))
    value = os.environ.get(name)
    if value is None:
        raise ConfigError(f"neither {name}_ARN nor {name} is set")
    return value


def reset() -> None:
    _from_manager.cache_clear()
