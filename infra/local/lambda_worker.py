"""One Lambda execution environment: runs a built function the way Lambda's Python runtime does.

Started by infra/local/workers.py as `<runtime python> -I lambda_worker.py` (isolated: no
PYTHONPATH, no user site, not even this file's folder on the path). Its import path is then what
Lambda gives a function and nothing more: the function's folder (/var/task), the layer's python/
(/opt/python), the standard library and a runtime site-packages that holds boto3 only. It uses the
standard library alone, since the runtime has nothing else.

Protocol, one JSON document per line: the first line on stdin is the init
`{"task_root", "layer_root", "handler"}`; each next line is an invocation `{"event", "context"}`,
answered on the original stdout with `{"result"}` or `{"error": {errorType, errorMessage,
stackTrace}}`. The handler's own stdout and stderr (its log lines) go to stderr, which the parent
reads as the function's log stream; each invocation's lines end with Lambda's `END RequestId: <id>`,
written before the answer. INIT (the handler module's import) happens before the first
answer, `{"ready": true}` or `{"init_error": ...}`, as in Lambda.
"""
import importlib
import json
import logging
import os
import sys
import time
import traceback


class LambdaContext:
    """The attributes Lambda's context object has, for handlers and Powertools."""

    def __init__(self, data: dict) -> None:
        self.function_name = data["function_name"]
        self.function_version = data.get("function_version", "$LATEST")
        self.invoked_function_arn = data["invoked_function_arn"]
        self.memory_limit_in_mb = int(data["memory_limit_in_mb"])
        self.aws_request_id = data["aws_request_id"]
        self.log_group_name = data.get("log_group_name", "/aws/lambda/" + self.function_name)
        self.log_stream_name = data.get("log_stream_name", "local")
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + float(data["timeout_seconds"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(exc: BaseException) -> dict:
    return {"errorType": type(exc).__name__, "errorMessage": str(exc)[:1000],
            "stackTrace": traceback.format_exception(exc)[-3:]}


def main() -> None:
    # The answers travel on the original stdout; anything the handler prints is a log line.
    answers = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # What a pre-loaded runtime (see zygote below) brought must not stand in for this function's INIT:
    # the handler module and the artifact's own code are imported here, in this environment.
    # As Lambda's Python runtime does: a handler on the root logger, its level AWS_LAMBDA_LOG_LEVEL
    # when the function sets one (Lambda's log-level control), else Python's WARNING.
    root_handler = logging.StreamHandler(sys.stderr)
    root_handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s\t%(name)s\t%(message)s"))
    logging.getLogger().addHandler(root_handler)
    if os.environ.get("AWS_LAMBDA_LOG_LEVEL"):
        logging.getLogger().setLevel(os.environ["AWS_LAMBDA_LOG_LEVEL"].upper())
    init = json.loads(sys.stdin.readline())
    if sys.path[:2] != [init["task_root"], init["layer_root"]]:   # (a forked environment has them already)
        sys.path[:0] = [init["task_root"], init["layer_root"]]
    os.chdir(init["task_root"])
    module_name, _, attr = init["handler"].rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), attr)
    except BaseException as exc:  # noqa: BLE001 - reported as Lambda reports an init failure
        answers.write(json.dumps({"init_error": _error(exc)}) + "\n")
        return
    answers.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        try:
            result = handler(request["event"], LambdaContext(request["context"]))
            answer = {"result": result}
        except Exception as exc:  # noqa: BLE001 - a handler's error is the invocation's result
            answer = {"error": _error(exc)}
        # Lambda's END line closes the invocation's log stream; the parent reads the answer only once
        # it has read this far, so an invocation's log lines are all in before its caller goes on.
        sys.stderr.write(f"END RequestId: {request['context']['aws_request_id']}\n")
        sys.stderr.flush()
        try:
            answers.write(json.dumps(answer) + "\n")
        except (TypeError, ValueError) as exc:   # Lambda: the result is not JSON serializable
            answers.write(json.dumps({"error": _error(exc)}) + "\n")


# --- A pre-loaded runtime (the local stack's fork server) --------------------------------------------
#
# Importing boto3, botocore, PynamoDB and Powertools is most of a cold start (~0.4 s of CPU) and the
# same in every environment of an artifact. The local stack starts many environments (every deploy, every
# concurrent invocation), so it keeps one process per artifact that has imported those libraries from
# the artifact's own folders, and forks each new environment from it. The child then does what a worker
# started afresh does: takes the function's environment, imports the handler module (INIT), serves.
# Only libraries are pre-loaded (and the layer's shared botocore loader, returns_core.aws, which reads
# nothing at import), never the handler module or the function's folder: a module the artifact lacks
# is not pre-loaded either, so its import still fails in the child's INIT, loudly.
#
# Protocol on the control socket (SOCK_SEQPACKET, one JSON message each): first
# `{"task_root", "layer_root", "preload": [module, ...], "clients": [service, ...]}`, answered
# `{"ready": true}`; then `{"env": {...}}` carrying the child's stdin, stdout and stderr as file
# descriptors, answered `{"pid": n}`; and, unasked, `{"exited": pid, "code": n}` when a child ends.

def _preload(init: dict) -> None:
    import importlib.util

    for name in init.get("preload", ()):
        try:
            spec = importlib.util.find_spec(name.partition(".")[0])
            origin = (spec.origin or "") if spec else ""
            if spec and not origin.startswith(init["task_root"]):   # the function's own folder: its INIT's
                importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - what fails here fails again, loudly, in the child's INIT
            pass
    # The clients' service models: botocore parses each JSON model once per loader, and the layer's
    # shared loader (returns_core.aws) is what every session of the child reads through.
    try:
        from returns_core import aws as shared

        for service in init.get("clients", ()):
            shared.botocore_session().create_client(service, region_name="us-east-1",
                                                    aws_access_key_id="preload", aws_secret_access_key="preload")
    except BaseException:  # noqa: BLE001 - a layer without it simply starts colder
        pass


def _child(fds: list, env: dict, control) -> None:
    import signal

    control.close()
    os.setsid()                          # like a worker started afresh: not in the stack's process group
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(env)
    # The worker's own standard streams, for the rest of its life.
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
    main()


def zygote(control_fd: int) -> None:
    import signal
    import socket

    control = socket.socket(fileno=control_fd)
    init = json.loads(control.recv(1 << 20))
    sys.path[:0] = [init["task_root"], init["layer_root"]]
    os.chdir(init["task_root"])
    _preload(init)

    def reap(_signum, _frame):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            control.send(json.dumps({"exited": pid, "code": os.waitstatus_to_exitcode(status)}).encode())

    signal.signal(signal.SIGCHLD, reap)
    control.send(b'{"ready": true}')
    while True:
        message, fds, _flags, _addr = socket.recv_fds(control, 1 << 20, 3)
        if not message:
            return                       # the stack is gone
        request = json.loads(message)
        # A child's exit is reported after its pid, never before (a pid can be a reused one's).
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _child(fds, request["env"], control)
            except SystemExit as exc:    # as a runtime process exits: with the handler's code
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # noqa: BLE001
                traceback.print_exc()
                code = 1
            finally:
                sys.stderr.flush()
                os._exit(code)           # never back into the fork server's loop
        for fd in fds:
            os.close(fd)
        control.send(json.dumps({"pid": pid}).encode())
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--zygote":
        zygote(int(sys.argv[2]))
    else:
        main()
