"""Keep template.yaml's REST API paths equal to the API's route declarations.

Chalice routes on the resource path, so API Gateway needs one resource per route (a {proxy+}
catch-all would not route). They are declared in ReturnsApi's DefinitionBody, every one a proxy
integration with ApiFunction, so that one AWS::Lambda::Permission lets API Gateway invoke it (an
Api event per route made SAM write a permission per route: 32 of them, ~14 KB of the function's
20 KB resource policy). The block between the markers is generated from the declarations the app
registers (functions/api/chalicelib/routes.py):

    python -m infra.api_events --write    # regenerate
    python -m infra.api_events --check    # exit 1 if stale (a test runs this)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
BEGIN = "          # BEGIN generated API paths"
END = "          # END generated API paths"
INTEGRATION_URI = ('!Sub "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/'
                   '${ApiFunction.Arn}/invocations"')


def routes() -> list[tuple[str, str]]:
    """(path, METHOD) of every declared route, sorted."""
    for p in (ROOT / "layers/returns_core/python", ROOT / "functions/api"):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))
    from chalicelib import routes as declared  # functions/api/chalicelib/routes.py

    return sorted(route.key for route in declared.ROUTES)


def block() -> str:
    lines = [BEGIN]
    by_path: dict[str, list[str]] = {}
    for path, method in routes():
        by_path.setdefault(path, []).append(method)
    for path, methods in by_path.items():
        lines.append(f"          {path}:")
        for method in methods:
            lines += [f"            {method.lower()}:",
                      "              x-amazon-apigateway-integration:",
                      "                type: aws_proxy",
                      "                httpMethod: POST",
                      f"                uri: {INTEGRATION_URI}"]
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
        print("template.yaml's API paths differ from the declared routes: run python -m infra.api_events --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
