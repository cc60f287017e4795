"""Run in a fresh interpreter by bench.coldstart: one cold start, timed. Not a module to import.

Started as `.venv/lambda-runtime/bin/python -I _coldstart_child.py ARGS` (the runtime's boto3 only;
-I keeps this script's folder off sys.path), so only the standard library is used here.

argv[1] is JSON: {"mode": "baseline"|"function", "paths": [...], "handler": "app.handler",
"event": {...} | null}. Prints one JSON line with the timings in milliseconds.
"""
import time

T0 = time.perf_counter()
import sys  # noqa: E402

if sys.path and sys.path[0] == __import__("os").path.dirname(__file__):
    sys.path.pop(0)   # without -I: this script's own folder (bench/) must not shadow the function's imports
import json  # noqa: E402

args = json.loads(sys.argv[1])
out = {}
if args["mode"] == "baseline":
    import boto3
    out["import_ms"] = (time.perf_counter() - T0) * 1000
    boto3.client("dynamodb", region_name="us-east-1")
    out["init_ms"] = (time.perf_counter() - T0) * 1000
else:
    sys.path[:0] = args["paths"]
    import importlib

    module_name, attr = args["handler"].rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), attr)
    out["init_ms"] = (time.perf_counter() - T0) * 1000
    heavy = ("boto3", "botocore", "pynamodb", "reportlab", "segno", "stripe", "pydantic", "aws_xray_sdk",
             "chalice", "aws_lambda_powertools.utilities.idempotency", "aws_lambda_powertools.utilities.parser")
    out["heavy_at_init"] = [m for m in heavy if m in sys.modules]
    if args.get("event") is not None:
        class Context:
            function_name = args.get("name", "bench")
            memory_limit_in_mb = int(args.get("memory_mb", 512))
            invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
            aws_request_id = "00000000-0000-0000-0000-000000000000"
            function_version = "$LATEST"
            log_group_name = "/aws/lambda/bench"
            log_stream_name = "bench"

            @staticmethod
            def get_remaining_time_in_millis():
                return 30000

        t1 = time.perf_counter()
        result = handler(args["event"], Context())
        out["first_call_ms"] = (time.perf_counter() - t1) * 1000
        out["result"] = result if isinstance(result, (dict, list, str, int)) else repr(result)[:200]
        out["heavy_after_first_call"] = [m for m in heavy if m in sys.modules]
print("BENCH-RESULT " + json.dumps(out, default=str))
