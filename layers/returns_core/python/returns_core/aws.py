"""boto3 clients, made on first use so cold starts pay only for what a step needs."""
from __future__ import annotations

import threading
from functools import cache
from typing import Any

from . import config

_lock = threading.Lock()


@cache
def _service_models() -> Any:
    """The process's one botocore loader. Each botocore session otherwise brings its own, and parses
    again every JSON file a client needs (DynamoDB's model, the endpoint rules, endpoints.json:
    ~100 ms a client): PynamoDB makes a session per model class, so a cold start parsed DynamoDB's
    model once per table it touched. Loaded files are immutable, so sharing them is safe."""
    from botocore.loaders import create_loader

    return create_loader()


def botocore_session() -> Any:
    """A new botocore session (credentials, events: its own) reading models through the shared loader."""
    import botocore.session

    session = botocore.session.get_session()
    session.register_component("data_loader", _service_models())
    return session


def share_service_models_with_pynamodb() -> None:
    """PynamoDB's connections make their sessions with `get_session` from its own module: give them
    sessions that share the process's loader (called once, where the models are defined)."""
    from pynamodb.connection import base

    base.get_session = botocore_session


@cache
def _client(service: str, endpoint: str | None, region: str) -> Any:
    import boto3  # deferred: ~160 ms, and not every step needs every client
    from botocore.config import Config

    with _lock:  # botocore sessions are not thread-safe while creating clients
        return boto3.session.Session(botocore_session=botocore_session()).client(
            service, endpoint_url=endpoint, region_name=region,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=20),
        )


def client(service: str) -> Any:
    return _client(service, config.endpoint_url(), config.region())


@cache
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
