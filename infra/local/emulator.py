"""moto's server for the local stack, bound in the caller's thread.

moto's ThreadedMotoServer binds inside its thread: a busy port leaves `start()` waiting forever.
Here the socket is bound first (a busy port raises OSError at once) and then served on a thread.
Every request that reaches it is reported to `on_request` (the snapshots' change signal);
werkzeug's access lines are shown only when asked for.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from werkzeug.serving import make_server


class Emulator:
    def __init__(self, host: str, port: int, on_request: Callable[[], None] | None = None,
                 verbose: bool = False) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)
        app = DomainDispatcherApplication(create_backend_app)

        def served(environ, start_response):
            try:
                return app(environ, start_response)
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
