"""python -m infra.local run [--base-path /Prod] | token --role ROLE [--sub NAME] [--order ORDER_ID]"""
from __future__ import annotations

import argparse
import json
import os
import sys

from .server import ROOT, state_file


def _token(args: argparse.Namespace) -> int:
    """Mint a token the running local stack accepts (same secret, read from its Secrets Manager)."""
    path = state_file(args.aws_port)
    if not path.exists():
        print("the local stack is not running: start it with `make run`", file=sys.stderr)
        return 2
    state = json.loads(path.read_text())
    os.environ.update({"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": state["aws"],
                       "TOKEN_SECRET_ARN": state["environment"]["TOKEN_SECRET_ARN"]})
    sys.path.insert(0, str(ROOT / "layers/returns_core/python"))
    from returns_core.edge import auth

    if args.role == "customer" and not args.order:
        print("a customer token needs --order ORDER_ID", file=sys.stderr)
        return 2
    print(auth.mint(args.role, args.sub or f"local-{args.role}", order_id=args.order, ttl=args.ttl))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the local stack (Ctrl-C stops it)")
    run.add_argument("--api-port", type=int, default=8000)
    run.add_argument("--aws-port", type=int, default=5000)
    run.add_argument("--base-path", default="", help="serve under a stage path, as an execute-api URL does (e.g. /Prod)")
    tok = sub.add_parser("token", help="print a bearer token for the running local stack")
    tok.add_argument("--role", required=True, choices=["customer", "store", "warehouse", "finance", "ops"])
    tok.add_argument("--sub", help="who the token names (recorded as the actor)")
    tok.add_argument("--order", help="the order a customer token is scoped to")
    tok.add_argument("--ttl", type=int, default=12 * 3600)
    tok.add_argument("--aws-port", type=int, default=5000, help="the emulator port of the stack")
    args = parser.parse_args(argv)
    if args.command == "run":
        from .server import run as run_stack
        base = "/" + args.base_path.strip("/") if args.base_path.strip("/") else ""
        run_stack(args.api_port, args.aws_port, base)
        return 0
    return _token(args)


if __name__ == "__main__":
    sys.exit(main())
