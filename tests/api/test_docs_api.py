"""docs/api.md and the served /openapi.json describe the same API (issue 36).

The reference a person reads and the document the app serves are written apart, so they can
drift: a route added without its page, a role taken away in one place only. Each route of
docs/api.md is a `### METHOD /path` heading followed by one table row (who may call, the body
model, whether it takes Idempotency-Key, every status); this test reads those rows and the
document the API answers (through Chalice's test client, as a caller would get it) and fails
on any difference, naming the route.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api.md"
API_DIR = ROOT / "functions" / "api"

HEADING = re.compile(r"^### (GET|PUT|POST|PATCH|DELETE) (/\S*)\s*$")
PUBLIC, SIGNED = "public", "carrier signature"
ENV = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"}


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def documented() -> dict[tuple[str, str], dict]:
    """Each route of docs/api.md: its heading, then its table (a header, a rule, one row)."""
    lines = DOC.read_text().splitlines()
    routes: dict[tuple[str, str], dict] = {}
    for i, line in enumerate(lines):
        found = HEADING.match(line)
        if not found:
            continue
        key = (found.group(1), found.group(2))
        assert key not in routes, f"{key} is documented twice"
        table = [row for row in lines[i + 1:i + 6] if row.startswith("|")]
        assert len(table) >= 3 and _cells(table[0]) == ["who", "body", "Idempotency-Key", "statuses"], \
            f"{key}: no `| who | body | Idempotency-Key | statuses |` table under its heading"
        who, body, key_header, statuses = _cells(table[2])
        routes[key] = {
            "who": who if who in (PUBLIC, SIGNED) else frozenset(r.strip() for r in who.split(",")),
            "body": None if body == "none" else body.strip("`"),
            "idempotency_key": {"yes": True, "no": False}[key_header],
            "statuses": frozenset(int(s) for s in statuses.split(",")),
        }
    return routes


def served(document: dict) -> dict[tuple[str, str], dict]:
    routes: dict[tuple[str, str], dict] = {}
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            headers = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
            if "X-Carrier-Signature" in headers:
                who: object = SIGNED
            elif op.get("x-roles"):
                who = frozenset(op["x-roles"])
            else:
                assert op.get("security") == [], f"{method} {path}: neither roles nor public"
                who = PUBLIC
            ref = (op.get("requestBody", {}).get("content", {}).get("application/json", {})
                   .get("schema", {}).get("$ref"))
            routes[(method.upper(), path)] = {
                "who": who,
                "body": ref.rsplit("/", 1)[-1] if ref else None,
                "idempotency_key": "Idempotency-Key" in headers,
                "statuses": frozenset(int(code) for code in op["responses"]),
            }
    return routes


@pytest.fixture
def openapi_document(load_handler):
    """/openapi.json as the API answers it: the app imported cold by the API tests' loader
    (tests/api/conftest.py, tests/handlers.py) and asked through Chalice's test client. The route
    is public and reads no AWS resource."""
    from chalice.test import Client

    app_module = load_handler("api", ENV)
    with Client(app_module.app, project_dir=str(API_DIR)) as client:
        res = client.http.get("/openapi.json")
    assert res.status_code == 200
    return res.json_body


def test_docs_and_openapi_name_the_same_routes(openapi_document):
    mine, theirs = set(documented()), set(served(openapi_document))
    assert not theirs - mine, f"served but not in docs/api.md: {sorted(theirs - mine)}"
    assert not mine - theirs, f"in docs/api.md but not served: {sorted(mine - theirs)}"


@pytest.mark.parametrize("field", ["who", "body", "idempotency_key", "statuses"])
def test_each_route_is_documented_as_served(openapi_document, field):
    mine, theirs = documented(), served(openapi_document)
    wrong = {f"{m} {p}": {"docs/api.md": mine[(m, p)][field], "/openapi.json": theirs[(m, p)][field]}
             for (m, p) in sorted(set(mine) & set(theirs)) if mine[(m, p)][field] != theirs[(m, p)][field]}
    assert not wrong, f"{field} differs: {wrong}"


def test_the_page_reads_as_a_reference():
    """The parser above found every route of the page: a heading it could not read is a route
    silently left unchecked."""
    text = DOC.read_text()
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    assert headings and all(HEADING.match(line) for line in headings), \
        [line for line in headings if not HEADING.match(line)]
    assert len(documented()) == len(headings)
