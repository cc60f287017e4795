"""moto's server for the local stack, bound in the caller's thread.

moto's ThreadedMotoServer binds inside its thread: a busy port leaves `start()` waiting forever.
Here the socket is bound first (a busy port raises OSError at once) and then served on a thread.
Every request that reaches it is reported to `on_request` (the snapshots' change signal);
werkzeug's access lines are shown only when asked for. `before_answer` runs once a request was
applied and before its answer is sent (werkzeug sends the status line with the first chunk of the
body, after the application returns): the journal flushes there, so no write is answered before it
is on disk (persistence.request_done).
"""
from __future__ import annotations

import gc
import logging
import sys
import threading
from collections.abc import Callable

from werkzeug.serving import make_server


class Emulator:
    def __init__(self, host: str, port: int, on_request: Callable[[], None] | None = None,
                 verbose: bool = False, before_answer: Callable[[], None] | None = None) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)
        app = DomainDispatcherApplication(create_backend_app)

        def served(environ, start_response):
            try:
                return app(environ, start_response)
            finally:
                try:
                    if before_answer is not None:   # also when moto raised: what it applied is kept
                        before_answer()
                finally:
                    if on_request is not None and environ.get("REQUEST_METHOD") not in ("GET", "HEAD", "OPTIONS"):
                        on_request()

        self._server = make_server(host, port, served, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()


# How long a thread of this process runs before the interpreter hands the GIL on (Python's default: 5 ms).
# Every emulated request is a few milliseconds of Python under the DynamoDB lock (atomic.py); handed on
# mid-request, the holder waits for the GIL behind the state machine's and the gateway's threads while every
# other request waits for the lock behind it. Long enough for a request to finish first.
SWITCH_INTERVAL_SECONDS = 0.05
# Every so often the young objects are collected and everything older is moved out of the collector's sight
# (gc.freeze): a full collection would otherwise walk every emulated record, execution and log line (at
# a bench's data about a second, every few seconds under load), with every request stopped meanwhile.
FREEZE_EVERY_SECONDS = 2.0


class Interpreter:
    """This process's interpreter tuned for serving many short requests from many threads: see
    SWITCH_INTERVAL_SECONDS and FREEZE_EVERY_SECONDS. Old objects that become cyclic garbage after they
    were frozen stay in memory: the stack is a developer's, restarted often, and such garbage is rare (moto
    frees deleted items by reference counting)."""

    def __init__(self, every: float = FREEZE_EVERY_SECONDS) -> None:
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gc-freeze", daemon=True)
        self._switch = sys.getswitchinterval()

    def freeze(self) -> None:
        gc.collect(1)    # the young generations: a few milliseconds
        gc.freeze()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.freeze()

    def start(self) -> None:
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        gc.collect()     # once, before anything is served: what start-up left behind
        gc.freeze()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        sys.setswitchinterval(self._switch)
        gc.unfreeze()
