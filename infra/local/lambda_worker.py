"""One Lambda execution environment: runs a built function the way the python3.11 runtime does.

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
    # As the python3.11 runtime does: a handler on the root logger, its level AWS_LAMBDA_LOG_LEVEL
    # when the function sets one (Lambda's log-level control), else Python's WARNING.
    root_handler = logging.StreamHandler(sys.stderr)
    root_handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s\t%(name)s\t%(message)s"))
    logging.getLogger().addHandler(root_handler)
    if os.environ.get("AWS_LAMBDA_LOG_LEVEL"):
        logging.getLogger().setLevel(os.environ["AWS_LAMBDA_LOG_LEVEL"].upper())
    init = json.loads(sys.stdin.readline())
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


if __name__ == "__main__":
    main()
