"""`make run`: moto on 127.0.0.1:5000, template.yaml deployed into it, the built API behind the
gateway emulation on :8000, a Stripe-compatible server on :8420, the state kept in `.local/`.

Every function runs from `sam build`'s artifacts (.aws-sam/build, rebuilt first when the tree
changed) in worker processes shaped like Lambda's (workers.py); the API is the built ApiFunction
behind API Gateway's rules (gateway.py). The console shows each worker as it starts, one line per
workflow step and the functions' warnings (console.py); their full logs go to `.local/logs/`.

Every port is checked before anything starts; a busy one is one line and exit code 1. The data
(tables, labels, outbox, Stripe's objects, the token key) is restored before anything serves and
saved at most once a second, less often when the data is large, with every write between journaled
before it is answered (persistence.py, journal.py); the open returns get their workflows back
(resume.py). Whatever the exit (Ctrl-C, SIGTERM, an error), the run's state file is removed.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import signal
import sys
import threading
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import deploy, dispatch, outbox, persistence, ports, sign_in
from .console import Console
from .gateway import Response, RestApi
from .journal import Journal
from .template import load

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
STRIPE_TEST_KEY = "sk_test_local"   # samconfig's StripeApiKey for `local`
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
DATA_DIR = ROOT / ".local"
READ_TIMEOUT_SECONDS = 10   # a client that announces a body and never sends it is dropped, not waited on
LOCAL_PAGE_HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-cache"),
                      ("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                       "script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-src 'self' data: blob:; "
                       "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"),
                      ("X-Content-Type-Options", "nosniff")]


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
                staff_sign_in: sign_in.LocalSignIn | None = None,
                mail_reply: Callable[[bytes], dict] | None = None) -> ThreadingHTTPServer:
    """The gateway on a TCP port: requests served concurrently, each with a bounded read time.
    `staff_sign_in`: the local staff sign-in (sign_in.py), answered here, never by the API.
    `mail_reply`: the outbox's Reply (`POST /outbox/reply`, a MIME message), as SES would receive it."""

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
            if local == "/outbox/reply" and self.command == "POST" and mail_reply is not None:
                answer = json.dumps(mail_reply(body)).encode()
                response = Response(200, [("Content-Type", "application/json")], answer)
            else:
                response = None
            response = response or (_local_only(local) if local is not None else None) or (
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

        def log_message(self, format: str, *args) -> None:   # `format`: the stdlib's name for it
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


class StackAlreadyRunning(Exception):
    pass


@contextlib.contextmanager
def _only_stack_of(data: persistence.DataDir):
    """One stack per data folder: two would overwrite each other's snapshots. The kernel drops
    the lock when the process ends, however it ends, so it is never stale."""
    data.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(data.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise StackAlreadyRunning(f"a local stack (pid {owner}) is already running on {_shown(data.root)}: "
                                      "stop it first, or give this one another --data-dir") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def running(data: persistence.DataDir) -> bool:
    """Whether a stack holds this data folder now."""
    if not data.lock.exists():
        return False
    fd = os.open(data.lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _keep_keys(data: persistence.DataDir, stack: deploy.Stack) -> None:
    """Tokens issued and ledger entries sealed before a restart still verify: the deploy made new
    secrets, and each is set back to the key kept in `.local/` (the first start keeps the new one)."""
    import boto3

    sm = boto3.client("secretsmanager", region_name=deploy.REGION)
    for arn, keep in ((stack.environment["TOKEN_SECRET_ARN"], persistence.token_key),
                      (stack.function("SettleFunction").environment["LEDGER_KEY_SECRET_ARN"], persistence.ledger_key)):
        key = keep(data, generate=lambda arn=arn: sm.get_secret_value(SecretId=arn)["SecretString"])
        sm.put_secret_value(SecretId=arn, SecretString=key)


def _port_list(api_port: int, aws_port: int, stripe_port: int) -> list[ports.Port]:
    return [ports.Port("API", api_port, "--api-port", "API_PORT"),
            ports.Port("AWS emulator", aws_port, "--aws-port", "AWS_PORT"),
            ports.Port("Stripe", stripe_port, "--stripe-port", "STRIPE_PORT")]


class _Stop(Exception):
    """SIGTERM before the stack serves: unwind and clean up as Ctrl-C does."""


def run(api_port: int = 8000, aws_port: int = 5000, base_path: str = "", stripe_port: int = 8420,
        data_dir: Path = DATA_DIR, verbose: bool = False) -> int:
    """Run until Ctrl-C or SIGTERM; the exit code. Every failure to start is one line on stderr."""
    def raise_stop(*_):
        raise _Stop()

    signal.signal(signal.SIGTERM, raise_stop)
    data = persistence.DataDir(Path(data_dir))
    port_list = _port_list(api_port, aws_port, stripe_port)
    try:
        ports.check(port_list)
        with _only_stack_of(data):
            return _run(data, port_list, base_path, verbose)
    except ports.PortBusy as exc:
        print(exc, file=sys.stderr, flush=True)
    except (ValueError, StackAlreadyRunning, persistence.StateUnreadable) as exc:
        print(exc, file=sys.stderr, flush=True)
    except (KeyboardInterrupt, _Stop):
        return 0          # stopped while starting: everything started is stopped again
    return 1


def _run(data: persistence.DataDir, port_list: list[ports.Port], base_path: str, verbose: bool) -> int:
    from infra import artifacts

    from .emulator import Emulator, Interpreter
    from .stripe_server import StripeServer

    api_port, aws_port, stripe_port = (p.number for p in port_list)
    _environment(aws_port)
    print("sam build: checking .aws-sam/build against this tree ...", flush=True)
    try:
        build_dir = artifacts.build()
    except artifacts.BuildError as exc:
        print(f"the artifacts could not be built, so nothing was started:\n{exc}", file=sys.stderr, flush=True)
        return 1
    kept = persistence.load(data)   # unreadable: one line, before anything starts
    _list_moto_modules_once()
    console = Console(data.logs, verbose)
    cleanup: list = [console.close]
    state = data.run_state(aws_port)
    snapshots: persistence.Snapshotter | None = None
    journal: Journal | None = None
    try:
        def bound(port: ports.Port, make):
            try:
                return make()
            except OSError as exc:
                if ports.is_address_in_use(exc):
                    raise ports.PortBusy(port) from None
                raise

        stripe = bound(port_list[2], lambda: StripeServer(stripe_port, verbose))
        cleanup.append(stripe.stop)
        changed = lambda: snapshots.changed() if snapshots is not None else None  # noqa: E731
        emulator = bound(port_list[1], lambda: Emulator(HOST, aws_port, on_request=changed, verbose=verbose,
                                                        before_answer=persistence.request_done))
        emulator.start()
        cleanup.append(emulator.stop)
        _configure_moto(aws_port)
        # The links in customer messages point at this very server, whatever port or stage path it has;
        # card refunds go to the local Stripe, through the same parameter and secret as deployed.
        stack = deploy.deploy("local", overrides={"PublicBaseUrl": f"http://{HOST}:{api_port}{base_path}",
                                                  "StripeApiBase": stripe.url}, build_dir=build_dir)
        _keep_keys(data, stack)
        restored = persistence.restore(kept, deploy.ACCOUNT, deploy.REGION) if kept else None
        stripe_objects = stripe.load(kept.get("stripe") if kept else None)
        # Then the writes journaled after that snapshot; from here on, every write is journaled.
        replayed = persistence.replay(data, kept["journal"] if kept else 0, stripe_load=stripe.load)
        stripe_objects = replayed["stripe"] or stripe_objects
        journal = Journal(data.journal, after=replayed["last"])
        persistence.record_into(journal)
        snapshots = persistence.Snapshotter(
            data, lambda: persistence.capture(deploy.ACCOUNT, deploy.REGION, stripe.state, journal),
            on_error=lambda text: console.say(text), saved=journal.drop_before_current)
        stripe.start(changed=snapshots.changed, journal=journal)
        dispatch.sink.echo = console.function_line
        dispatch.on_step = console.step
        dispatch.install(stack.functions, emulator_access(aws_port))
        cleanup.append(dispatch.uninstall)
        from . import schedules  # the template's scheduled events (the refund sweeper), at their rates

        scheduled = schedules.Runner(schedules.of_template(load()),
                                     lambda logical_id, event: dispatch.invoker(logical_id)(event),
                                     on_error=console.say).start()
        cleanup.append(scheduled.stop)
        interpreter = Interpreter()
        interpreter.start()
        cleanup.append(interpreter.stop)
        resumed = []
        if kept or replayed["records"]:
            from .resume import resume

            resumed = resume(stack.environment, deploy.ACCOUNT, deploy.REGION)
        snapshots.save()
        snapshots.start()
        api_fn = stack.function("ApiFunction")
        api = RestApi.from_template(load(), lambda event: dispatch.call(api_fn, event), base_path=base_path)
        staff = sign_in.for_stack(stack.environment, base_path)
        inbound = stack.function("InboundMailFunction")
        mail_reply = functools.partial(outbox.reply, bucket=inbound.environment["INBOUND_MAIL_BUCKET"],
                                       invoke=dispatch.invoker("InboundMailFunction"))
        server = bound(port_list[0], lambda: http_server(api, api_port, staff_sign_in=staff, mail_reply=mail_reply))
        cleanup.append(server.server_close)
        state.write_text(json.dumps({"pid": os.getpid(), "stack": stack.name, "aws": os.environ["AWS_ENDPOINT_URL"],
                                     "api": f"http://{HOST}:{api_port}{base_path}", "stripe": stripe.url,
                                     "data": str(data.root)}, indent=2))
        stopping = threading.Event()

        def stop(*_):
            if not stopping.is_set():
                stopping.set()
                threading.Thread(target=server.shutdown, daemon=True).start()

        # Both stop cleanly, also when the runner was started from a shell that ignores SIGINT.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        where = _shown(data.root)
        if restored or replayed["records"]:
            restored = restored or {"items": 0, "objects": 0, "messages": 0}
            print(f"restored from {where}: {restored['items']} records, {restored['objects']} labels and files, "
                  f"{restored['messages']} messages, {stripe_objects} Stripe objects, then "
                  f"{replayed['records']} journaled writes; {len(resumed)} open returns resumed", flush=True)
        else:
            print(f"new local data in {where} (kept across restarts; `make reset` wipes it)", flush=True)
        print(f"functions run from {build_dir.relative_to(ROOT)} (the sam build artifacts), each in its own worker; "
              f"their logs and metrics: {_shown(console.log_path)}")
        print(f"returns local stack: API and pages on http://{HOST}:{api_port}{base_path}  "
              f"(portal: {base_path}/portal, staff: {base_path}/warehouse, {base_path}/finance and {base_path}/ops, "
              f"outbox: {base_path}/outbox)")
        print(f"AWS emulator on http://{HOST}:{aws_port}  (aws --endpoint-url http://{HOST}:{aws_port} ...)")
        print(f"Stripe (test mode) on {stripe.url}  (key {STRIPE_TEST_KEY})")
        print("Ctrl-C stops everything.", flush=True)
        server.serve_forever()
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)    # a second Ctrl-C must not cut the last save short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            if snapshots is not None:
                # Before the functions are stopped, so the next start reads one snapshot and a short
                # journal. What their interrupted steps write until they stop is journaled, as any
                # write; an interrupted step itself is redone by the resumed workflow.
                snapshots.stop()
        finally:
            state.unlink(missing_ok=True)
            for step in reversed(cleanup):
                with contextlib.suppress(Exception):
                    step()
            if journal is not None:     # the emulator and Stripe have stopped: nothing appends any more
                persistence.stop_recording()
                with contextlib.suppress(Exception):
                    journal.close()
            dispatch.on_step = None
            dispatch.sink.echo = None
            print("stopped.", flush=True)
