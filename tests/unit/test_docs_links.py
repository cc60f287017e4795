"""The docs point at what exists (issue 36).

- every relative link of README.md and docs/*.md names a file or folder of the checkout (and a
  `#fragment`, when it has one, a heading of that file);
- docs/architecture.md's map of modules lists every Python module of the layer, functions/ and
  infra/ (an `__init__.py` excepted), and nothing that is not there: a module added, moved or
  deleted without its line in the map fails here, naming it.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
MAPPED = ("layers/returns_core/python/returns_core", "functions", "infra")

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
MAP = re.compile(r"<!-- BEGIN module map -->\s*```text\n(.*?)```\s*<!-- END module map -->", re.S)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but - and _ dropped, spaces as -."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text())
    return {_anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def _links(path: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", path.read_text()))


def test_the_docs_exist():
    for name in ("README.md", "docs/architecture.md", "docs/api.md", "docs/operations.md"):
        assert (ROOT / name).is_file(), name


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc):
    broken = []
    for target in _links(doc):
        if re.match(r"^[a-z]+:", target):       # http:, https:, mailto:
            continue
        file_part, _, fragment = target.partition("#")
        resolved = (doc.parent / file_part).resolve() if file_part else doc
        if not resolved.exists() or fragment and resolved.suffix == ".md" and fragment not in _anchors(resolved):
            broken.append(target)
    assert not broken, f"{doc.relative_to(ROOT)}: links to nothing: {broken}"


def _mapped_modules() -> set[str]:
    found = MAP.search(ARCHITECTURE.read_text())
    assert found, "docs/architecture.md has no module map between its markers"
    paths: set[str] = set()
    stack: list[str] = []
    for line in found.group(1).splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0, f"map line indented by an odd number of spaces: {line!r}"
        name = line.split()[0]
        stack = stack[:indent // 2] + [name.rstrip("/")]
        if not name.endswith("/"):
            paths.add("/".join(stack))
    return paths


def _modules() -> set[str]:
    return {str(p.relative_to(ROOT)) for root in MAPPED for p in (ROOT / root).rglob("*.py")
            if p.name != "__init__.py" and "__pycache__" not in p.parts}


def test_the_module_map_lists_every_module():
    mapped, there = _mapped_modules(), _modules()
    assert not there - mapped, f"modules missing from docs/architecture.md's map: {sorted(there - mapped)}"
    assert not mapped - there, f"docs/architecture.md's map lists modules that do not exist: {sorted(mapped - there)}"
