"""boto3 clients, made on first use so cold starts pay only for what a step needs."""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from . import config

_lock = threading.Lock()


@lru_cache(maxsize=None)
def _client(service: str, endpoint: str | None, region: str) -> Any:
    import boto3  # deferred: ~160 ms, and not every step needs every client
    from botocore.config import Config

    with _lock:  # boto3's default session is not thread-safe while creating clients
        return boto3.session.Session().client(
            service, endpoint_url=endpoint, region_name=region,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=20),
        )


def client(service: str) -> Any:
    return _client(service, config.endpoint_url(), config.region())


@lru_cache(maxsize=None)
def _dynamodb_connection(endpoint: str | None, region: str) -> Any:
    from pynamodb.connection import Connection

    return Connection(region=region, host=endpoint)


def dynamodb_connection() -> Any:
    """The PynamoDB connection for transactions: one per process, as the models keep theirs.
    (A new Connection builds a new botocore client, tens of milliseconds, on every transaction.)"""
    return _dynamodb_connection(config.endpoint_url(), config.region())


def reset() -> None:
    """Forget cached clients (tests switch endpoints between runs)."""
    _client.cache_clear()
    _dynamodb_connection.cache_clear()
