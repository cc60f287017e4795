"""Keep template.yaml's API events equal to the Chalice app's routes.

Chalice routes on the resource path, so API Gateway needs one event per route
(a {proxy+} catch-all would not route). The block between the markers in
ApiFunction's Events is generated from `app.routes`:

    python -m infra.api_events --write    # regenerate
    python -m infra.api_events --check    # exit 1 if stale (a test runs this)
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
BEGIN = "        # BEGIN generated API events"
END = "        # END generated API events"


def routes() -> list[tuple[str, str]]:
    """(path, METHOD) of every route of the Chalice app, sorted."""
    for p in (ROOT / "layers/returns_core/python", ROOT / "functions/api"):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))
    import app as api  # functions/api/app.py

    return sorted((path, method) for path, methods in api.app.routes.items() for method in methods)


def event_name(path: str, method: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", path.replace("{", " By ").replace("}", " "))
    name = method.capitalize() + "".join(w[:1].upper() + w[1:] for w in words)
    return name or method.capitalize() + "Root"


def block() -> str:
    lines = [BEGIN]
    for path, method in routes():
        lines += [f"        {event_name(path, method)}:", "          Type: Api",
                  "          Properties:", f"            Path: {path}", f"            Method: {method.lower()}"]
    lines.append(END)
    return "\n".join(lines)


def render(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + block() + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.api_events")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = TEMPLATE.read_text()
    new = render(text)
    if args.write:
        TEMPLATE.write_text(new)
        return 0
    if new != text:
        print("template.yaml's API events differ from the Chalice routes: run python -m infra.api_events --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
