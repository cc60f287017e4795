"""python -m infra.local run [--api-port N] [--aws-port N] [--stripe-port N] [--base-path /Prod] [--demo] [--verbose]
                             | token --role ROLE [--sub NAME] [--order ORDER_ID] | reset
                             | store-link ORDER_ID EMAIL [--days N] [--api-port N] [--base-path /Prod]"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .server import DATA_DIR, ROOT


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir).resolve() if args.data_dir else DATA_DIR


def _token(args: argparse.Namespace) -> int:
    """Mint a token the local stack accepts: signed with the token key kept in its data folder,
    so it works whether the stack runs now or starts later (and after restarts)."""
    from .persistence import DataDir

    data = DataDir(_data_dir(args))
    key = data.token_key.read_text().strip() if data.token_key.exists() else ""
    if not key:
        print(f"no token key in {data.root} yet: start the local stack once with `make run`", file=sys.stderr)
        return 2
    if args.role == "customer" and not args.order:
        print("a customer token needs --order ORDER_ID", file=sys.stderr)
        return 2
    os.environ.pop("TOKEN_SECRET_ARN", None)
    os.environ["TOKEN_SECRET"] = key
    sys.path.insert(0, str(ROOT / "layers/returns_core/python"))
    from returns_core.edge import auth

    print(auth.mint(args.role, args.sub or f"local-{args.role}", order_id=args.order, ttl=args.ttl,
                    lead=args.lead))
    return 0


def _store_link(args: argparse.Namespace) -> int:
    """A return link as the store's order page would make it (../shared/api.md v3, "Store links"),
    signed with the local stack's store link secret: it opens the portal on that order, signed in."""
    import time
    import urllib.parse

    from .template import LOCAL_EMULATOR_PARAMETERS

    sys.path.insert(0, str(ROOT / "layers/returns_core/python"))
    from returns_core.rules import store_links

    exp = int(time.time()) + args.days * 86400
    secret = LOCAL_EMULATOR_PARAMETERS["StoreLinkSigningSecret"].encode()
    sig = store_links.sign(secret, args.order_id, args.email, exp)
    query = urllib.parse.urlencode({"order_id": args.order_id, "email": args.email, "exp": exp, "sig": sig})
    base = "/" + args.base_path.strip("/") if args.base_path.strip("/") else ""
    print(f"http://127.0.0.1:{args.api_port}{base}/portal?{query}")
    return 0


def _reset(args: argparse.Namespace) -> int:
    from .persistence import DataDir
    from .server import running

    data = DataDir(_data_dir(args))
    if running(data):
        print(f"a local stack is running on {data.root}: stop it (Ctrl-C) before `make reset`", file=sys.stderr)
        return 1
    data.wipe()
    print(f"wiped {data.root}: the next `make run` starts with no data and new token and ledger keys")
    return 0


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1-65535)")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local")
    sub = parser.add_subparsers(dest="command", required=True)
    data_help = "where the stack keeps its state (default: .local/ in the checkout)"
    run = sub.add_parser("run", help="start the local stack (Ctrl-C stops it; the data is kept)")
    run.add_argument("--api-port", type=_port, default=8000, help="the API and pages (default 8000)")
    run.add_argument("--aws-port", type=_port, default=5000, help="the AWS emulator, moto (default 5000)")
    run.add_argument("--stripe-port", type=_port, default=8420, help="the Stripe-compatible server (default 8420)")
    run.add_argument("--base-path", default="",
                     help="serve under a stage path, as an execute-api URL does (e.g. /Prod)")
    run.add_argument("--data-dir", help=data_help)
    run.add_argument("--demo", action="store_true",
                     help="shorten the workflow's waits (a day of a period in a minute) so a whole lifecycle plays "
                          "out in minutes; customers are still told the real periods (make demo)")
    run.add_argument("--verbose", action="store_true",
                     help="also print every function log line, the metrics and the emulators' access logs")
    tok = sub.add_parser("token", help="print a bearer token for the local stack")
    tok.add_argument("--role", required=True, choices=["customer", "store", "warehouse", "finance", "ops"])
    tok.add_argument("--sub", help="who the token names (recorded as the actor)")
    tok.add_argument("--order", help="the order a customer token is scoped to")
    tok.add_argument("--lead", action="store_true", help="an ops lead (sees escalated conversations first)")
    tok.add_argument("--ttl", type=int, default=12 * 3600)
    tok.add_argument("--aws-port", type=int, default=5000, help=argparse.SUPPRESS)   # before v2; not needed now
    tok.add_argument("--data-dir", help=data_help)
    reset = sub.add_parser(
        "reset", help="wipe the local stack's data (orders, returns, labels, outbox, token and ledger keys)")
    reset.add_argument("--data-dir", help=data_help)
    link = sub.add_parser("store-link", help="print a return link signed as the store's order page would sign it")
    link.add_argument("order_id")
    link.add_argument("email")
    link.add_argument("--days", type=int, default=30, help="how long the link opens the order (default 30)")
    link.add_argument("--api-port", type=_port, default=8000, help="the local stack's API port (default 8000)")
    link.add_argument("--base-path", default="", help="the stage path the stack serves under, if any")
    args = parser.parse_args(argv)
    if args.command == "store-link":
        return _store_link(args)
    if args.command == "run":
        from .server import run as run_stack
        if args.demo:
            from . import deploy

            deploy.use_demo_waits()
            print(f"demo: the workflow's waits are {deploy.DEMO_PARAMETERS['WaitScale']} times shorter (a day in a "
                  "minute); customers are told the real periods", flush=True)
        base = "/" + args.base_path.strip("/") if args.base_path.strip("/") else ""
        return run_stack(args.api_port, args.aws_port, base, stripe_port=args.stripe_port,
                         data_dir=_data_dir(args), verbose=args.verbose)
    if args.command == "reset":
        return _reset(args)
    return _token(args)


if __name__ == "__main__":
    sys.exit(main())
