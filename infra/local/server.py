"""`make run`: moto on 127.0.0.1:5000, template.yaml deployed into it, the API and pages on :8000."""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import urllib.request
from pathlib import Path

from . import deploy, dispatch

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
STATE_DIR = ROOT / ".local"


def state_file(aws_port: int) -> Path:
    """What a running stack tells the token command (one file per emulator port)."""
    return STATE_DIR / f"stack-{aws_port}.json"


def _environment(aws_port: int) -> None:
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": deploy.REGION,
        "AWS_REGION": deploy.REGION, "AWS_ENDPOINT_URL": f"http://{HOST}:{aws_port}",
        # moto's ASL interpreter calls the other services over HTTP on this port.
        "MOTO_PORT": str(aws_port), "POWERTOOLS_TRACE_DISABLED": "true",
    })
    for p in (ROOT / "layers/returns_core/python", ROOT / "functions/api"):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))


def _configure_moto(aws_port: int) -> None:
    request = urllib.request.Request(f"http://{HOST}:{aws_port}/moto-api/config", method="POST",
                                     data=json.dumps(MOTO_CONFIG).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def _chalice_server(port: int):
    from chalice.config import Config
    from chalice.local import ChaliceRequestHandler, LocalDevServer, ThreadedHTTPServer

    import app as api  # functions/api/app.py

    one_at_a_time = threading.Lock()

    class OneRequestAtATime(ChaliceRequestHandler):
        """A Lambda container serves one request at a time, and Chalice's app keeps the current
        request in one shared attribute: concurrent threads would read each other's requests."""

        def _one(self) -> None:
            with one_at_a_time:
                ChaliceRequestHandler._generic_handle(self)

        # Chalice binds do_GET = ... = _generic_handle at class creation: rebind them all.
        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _one

    class Server(ThreadedHTTPServer):
        request_queue_size = 128   # many clients connecting at once (the default is 5)
        daemon_threads = True

    config = Config(chalice_stage="dev", config_from_disk={"version": "2.0", "app_name": "returns-api",
                                                           "stages": {"dev": {}}})
    return LocalDevServer(api.app, config, HOST, port, handler_cls=OneRequestAtATime, server_cls=Server)


def _list_moto_modules_once() -> None:
    """moto's server lists its own package folders (a listdir and ~150 isdir calls) for every
    request it routes; they do not change while it runs (8 % of the local stack's CPU under load)."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def run(api_port: int = 8000, aws_port: int = 5000) -> None:
    from moto.server import ThreadedMotoServer

    _environment(aws_port)
    _list_moto_modules_once()
    emulator = ThreadedMotoServer(ip_address=HOST, port=aws_port, verbose=False)
    emulator.start()
    _configure_moto(aws_port)
    stack = deploy.deploy("local")
    dispatch.install(stack.functions)
    os.environ.update(stack.environment)
    os.environ["LOCAL_OUTBOX"] = "1"
    state = state_file(aws_port)
    state.parent.mkdir(exist_ok=True)
    state.write_text(json.dumps({"stack": stack.name, "aws": os.environ["AWS_ENDPOINT_URL"],
                                      "api": f"http://{HOST}:{api_port}", "environment": stack.environment},
                                     indent=2))
    api = _chalice_server(api_port)
    stopping = threading.Event()

    def stop(*_):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=api.shutdown, daemon=True).start()

    # Both stop cleanly, also when the runner was started from a shell that ignores SIGINT.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"returns local stack: API and pages on http://{HOST}:{api_port}  (portal: /portal)")
    print(f"AWS emulator on http://{HOST}:{aws_port}  (aws --endpoint-url http://{HOST}:{aws_port} ...)")
    print("Ctrl-C stops everything.", flush=True)
    try:
        api.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        api.server.server_close()
        emulator.stop()
        state.unlink(missing_ok=True)
        print("stopped.", flush=True)
