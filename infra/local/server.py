"""`make run`: moto on 127.0.0.1:5000, template.yaml deployed into it, the built API behind the
gateway emulation on :8000.

Every function runs from `sam build`'s artifacts (.aws-sam/build, rebuilt first when the tree
changed) in worker processes shaped like Lambda's (workers.py); the API is the built ApiFunction
behind API Gateway's rules (gateway.py). The console shows each worker as it starts
(`[ApiFunction] START ... .aws-sam/build/ApiFunction`) and every line the functions log.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import deploy, dispatch, outbox, sign_in
from .gateway import RestApi, Response
from .template import load

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
STATE_DIR = ROOT / ".local"
READ_TIMEOUT_SECONDS = 10   # a client that announces a body and never sends it is dropped, not waited on
LOCAL_PAGE_HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-cache"),
                      ("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                       "script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-src 'self' data: blob:; "
                       "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"),
                      ("X-Content-Type-Options", "nosniff")]


def state_file(aws_port: int) -> Path:
    """What a running stack tells the token command (one file per emulator port)."""
    return STATE_DIR / f"stack-{aws_port}.json"


def emulator_access(aws_port: int) -> dict[str, str]:
    """How a function (or this process) reaches the emulator: its endpoint and dummy credentials."""
    return {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": deploy.REGION,
            "AWS_REGION": deploy.REGION, "AWS_ENDPOINT_URL": f"http://{HOST}:{aws_port}"}


def _environment(aws_port: int) -> None:
    os.environ.update({
        **emulator_access(aws_port),
        # moto's ASL interpreter calls the other services over HTTP on this port.
        "MOTO_PORT": str(aws_port), "POWERTOOLS_TRACE_DISABLED": "true",
    })
    # This process renders the outbox's emails with the domain's renderer (a local tool, not Lambda).
    layer = str(ROOT / "layers/returns_core/python")
    if layer not in sys.path:
        sys.path.insert(0, layer)


def _configure_moto(aws_port: int) -> None:
    request = urllib.request.Request(f"http://{HOST}:{aws_port}/moto-api/config", method="POST",
                                     data=json.dumps(MOTO_CONFIG).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def _local_only(path: str) -> Response | None:
    """The outbox: a window on the emulator for whoever runs the local stack, never deployed."""
    if path == "/outbox":
        return Response(200, list(LOCAL_PAGE_HEADERS), outbox.PAGE.read_bytes())
    if path == "/outbox/messages":
        return Response(200, [("Content-Type", "application/json")], json.dumps(outbox.messages()).encode())
    return None


def http_server(api: RestApi, port: int, read_timeout: float = READ_TIMEOUT_SECONDS,
                staff_sign_in: sign_in.LocalSignIn | None = None) -> ThreadingHTTPServer:
    """The gateway on a TCP port: requests served concurrently, each with a bounded read time.
    `staff_sign_in`: the local staff sign-in (sign_in.py), answered here, never by the API."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = read_timeout

        def _serve(self) -> None:
            length = self.headers.get("Content-Length")
            try:
                body = self.rfile.read(int(length)) if length else b""
            except (ValueError, OSError):
                self.close_connection = True
                return
            path = self.path.split("?", 1)[0]
            local = path[len(api.base_path):] if path.startswith(api.base_path) else None
            query = self.path.split("?", 1)[1] if "?" in self.path else ""
            response = (_local_only(local) if local is not None else None) or (
                staff_sign_in.answer(self.command, local, query, body)
                if staff_sign_in is not None and local is not None else None) or api.handle(
                self.command, self.path, list(self.headers.items()), body, self.client_address[0])
            self.send_response(response.status_code)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

        def log_message(self, format: str, *args) -> None:   # noqa: A002 - the stdlib's name
            pass   # the functions log what matters; access lines would carry customer paths

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128   # many clients connecting at once (the default is 5)

    return Server((HOST, port), Handler)


def _list_moto_modules_once() -> None:
    """moto's server lists its own package folders (a listdir and ~150 isdir calls) for every
    request it routes; they do not change while it runs (8 % of the local stack's CPU under load)."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def run(api_port: int = 8000, aws_port: int = 5000, base_path: str = "") -> None:
    import logging

    from moto.server import ThreadedMotoServer

    from infra import artifacts

    _environment(aws_port)
    print("sam build: checking .aws-sam/build against this tree ...", flush=True)
    try:
        build_dir = artifacts.build()
    except artifacts.BuildError as exc:
        print(f"the artifacts could not be built, so nothing was started:\n{exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    _list_moto_modules_once()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)   # one access line per AWS call otherwise
    emulator = ThreadedMotoServer(ip_address=HOST, port=aws_port, verbose=False)
    emulator.start()
    _configure_moto(aws_port)
    # The links in customer messages point at this very server, whatever port or stage path it has.
    stack = deploy.deploy("local", overrides={"PublicBaseUrl": f"http://{HOST}:{api_port}{base_path}"},
                          build_dir=build_dir)
    dispatch.sink.echo = lambda function, line: print(f"[{function}] {line}", flush=True)
    dispatch.install(stack.functions, emulator_access(aws_port))
    state = state_file(aws_port)
    state.parent.mkdir(exist_ok=True)
    state.write_text(json.dumps({"stack": stack.name, "aws": os.environ["AWS_ENDPOINT_URL"],
                                 "api": f"http://{HOST}:{api_port}{base_path}", "environment": stack.environment},
                                indent=2))
    api_fn = stack.function("ApiFunction")
    api = RestApi.from_template(load(), lambda event: dispatch.call(api_fn, event), base_path=base_path)
    server = http_server(api, api_port, staff_sign_in=sign_in.for_stack(stack.environment, base_path))
    stopping = threading.Event()

    def stop(*_):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    # Both stop cleanly, also when the runner was started from a shell that ignores SIGINT.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"functions run from {build_dir.relative_to(ROOT)} (the sam build artifacts), each in its own worker")
    print(f"returns local stack: API and pages on http://{HOST}:{api_port}{base_path}  "
          f"(portal: {base_path}/portal, staff: {base_path}/warehouse and {base_path}/finance, "
          f"outbox: {base_path}/outbox)")
    print(f"AWS emulator on http://{HOST}:{aws_port}  (aws --endpoint-url http://{HOST}:{aws_port} ...)")
    print("Ctrl-C stops everything.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        server.server_close()
        dispatch.uninstall()
        emulator.stop()
        state.unlink(missing_ok=True)
        print("stopped.", flush=True)
