"""The Stripe-compatible server of the local stack: localstripe, in this process, on 127.0.0.1.

The functions reach it as they reach Stripe when deployed: STRIPE_API_BASE (the template's
StripeApiBase parameter) and the key from Secrets Manager (StripeSecret, `sk_test_local`).

localstripe keeps its objects in one in-memory dict and, when it runs on its own, pickles it to
a fixed /tmp/localstripe.pickle (shared by every localstripe on the machine, written in place).
Here that is replaced: its writes only signal a change, and the local stack's snapshot
(persistence.py) reads the dict on localstripe's own event loop, between two requests, so the
payment intents and refunds are kept in `.local/` with everything else, atomically.

Between snapshots, `journal` (given to start) keeps each write: after a PUT/POST/DELETE, and before
it is answered, all the objects are recorded (they refer to one another, a payment intent to its
charge: one object alone would come back as a copy) and the record is flushed. localstripe holds a
few objects per payment, and the functions write to it once per refund.
"""
from __future__ import annotations

import asyncio
import logging
import pickle
import socket
import threading
from collections.abc import Callable

HOST = "127.0.0.1"
API_KEY = "sk_test_local"


class StripeServer:
    def __init__(self, port: int, verbose: bool = False) -> None:
        # Bound now: a busy port fails here, before anything else starts.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((HOST, port))
            self._sock.listen(128)
        except OSError:
            self._sock.close()
            raise
        self.port = port
        self.verbose = verbose
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @staticmethod
    def _store():
        from localstripe import resources

        return resources

    def load(self, blob: bytes | None) -> int:
        """Put kept objects back (before start); how many."""
        resources = self._store()
        resources.store.clear()
        if blob:
            dict.update(resources.store, pickle.loads(blob))
        return len(resources.store)

    def start(self, changed: Callable[[], None], journal=None) -> None:
        """`journal` (journal.Journal): records every write before it is answered."""
        from aiohttp import web
        from localstripe import resources, server  # importing the server registers its routes

        if journal is not None:
            @web.middleware
            async def journaled(request, handler):
                try:
                    return await handler(request)
                finally:
                    if request.method in ("PUT", "POST", "DELETE"):
                        # On the event loop: no other request changes the objects while they are read.
                        journal.append("stripe", lambda: pickle.dumps(dict(resources.store),
                                                                      protocol=pickle.HIGHEST_PROTOCOL))
                    if journal.behind:   # a read too: what it saw is on disk before it is answered
                        await asyncio.get_running_loop().run_in_executor(None, journal.wait_durable)

            server.app.middlewares.append(journaled)   # innermost: before localstripe's error answer

        # Its own saving to /tmp becomes "something changed": the snapshot saves it.
        resources.Store.dump_to_disk = lambda store: changed()
        resources.Store.try_load_from_disk = lambda store: None
        access = logging.getLogger("localstripe.access") if self.verbose else None
        if access is not None:
            access.setLevel(logging.INFO)
            access.addHandler(logging.StreamHandler())
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        failed: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._runner = web.AppRunner(server.app, access_log=access, handle_signals=False)
                self._loop.run_until_complete(self._runner.setup())
                self._loop.run_until_complete(web.SockSite(self._runner, self._sock, shutdown_timeout=2).start())
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failed.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="localstripe", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failed:
            raise failed[0]

    def state(self) -> bytes:
        """localstripe's objects, pickled on its event loop (never while a request changes them)."""
        resources = self._store()

        async def dump() -> bytes:
            return pickle.dumps(dict(resources.store), protocol=pickle.HIGHEST_PROTOCOL)

        if self._loop is None or not self._loop.is_running():
            return pickle.dumps(dict(resources.store), protocol=pickle.HIGHEST_PROTOCOL)
        return asyncio.run_coroutine_threadsafe(dump(), self._loop).result(timeout=30)

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()
