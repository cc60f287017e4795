"""The local API's HTTP server (infra/local/server.py): one slow client cannot hold the others.

Issue 14, defect 11: a client that announced a 1,000-byte body and sent 5 blocked every other
request (`/health` timed out at 8 s). The server now serves each connection on its own thread
and drops a connection that stops sending after its read timeout.
"""
from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request

import pytest

pytestmark = pytest.mark.xdist_group("workflow")


@pytest.fixture
def served(stack):
    from infra.local import dispatch
    from infra.local.gateway import RestApi
    from infra.local.server import http_server
    from infra.local.template import load

    api = RestApi.from_template(load(), dispatch.invoker("ApiFunction"))
    server = http_server(api, 0, read_timeout=1.0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_client_that_never_finishes_its_body_does_not_block_health(served):
    url, port = served
    slow = socket.create_connection(("127.0.0.1", port))
    try:
        slow.sendall(b"POST /returns/lookup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"or")
        with urllib.request.urlopen(url + "/health", timeout=20) as response:   # generous: a loaded CI box
            assert response.status == 200 and json.loads(response.read())["ok"] is True
        # The stalled connection is dropped after the read timeout, not kept forever.
        slow.settimeout(20)
        started = time.monotonic()
        assert slow.recv(1024) == b""                 # the server closed it without answering
        assert time.monotonic() - started < 20
    finally:
        slow.close()


def test_many_clients_are_served_at_once(served):
    url, _ = served
    results: list[int] = []

    def get() -> None:
        with urllib.request.urlopen(url + "/health", timeout=30) as response:
            results.append(response.status)

    threads = [threading.Thread(target=get) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [200] * 8
