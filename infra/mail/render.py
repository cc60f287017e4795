"""Render the customer message templates exactly as Amazon SES does.

Not shipped: the Lambdas send a template by name and SES renders it. This renders the same
templates (``templates/``, the one source of template.yaml's generated ``AWS::SES::Template``
resources) for the local stack's outbox (infra/local/outbox.py), which shows each email moto's SES
captured as its customer reads it, and for the tests of the message builders.

SES templates speak a Handlebars subset; we implement that subset here (no jinja2):

- ``{{path}}`` — in the HTML part the value is HTML-escaped like Handlebars'
  ``escapeExpression``; in the subject and text parts it is written verbatim.
  ``{{{path}}}`` and ``{{&path}}`` are never escaped.
- ``{{#each path}}…{{else}}…{{/each}}`` over lists (and objects), with
  ``{{this}}``, ``{{this.x}}`` or ``{{x}}`` for the current item, ``{{../x}}``
  for the enclosing context and ``@index``, ``@first``, ``@last``, ``@key``.
- ``{{#if path}}…{{else}}…{{/if}}`` and ``{{#unless path}}…{{/unless}}``, with
  JavaScript truthiness (``null``, ``false``, ``""``, ``0`` and ``[]`` are
  false).
- ``{{!comment}}``, ``{{!-- comment --}}`` and ``~`` whitespace control.

A variable that is not in the data renders empty, as Handlebars does;
``strict=True`` raises :class:`MissingVariable` instead, which is what moto's
SES does and what SES reports as a rendering failure, so the message builders
are tested in strict mode.

Our templates never put a block tag alone on a line (a test keeps it so):
Handlebars engines differ on whether such "standalone" lines are removed, and
this way the output is the same whichever SES runs.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from returns_core.outbound.notifications.catalogue import LOCALES, TEMPLATES, locale_for

__all__ = ["LOCALES", "TEMPLATES", "TEMPLATE_DIR", "MissingVariable", "Rendered", "TemplateSource",
           "TemplateSyntaxError", "UnknownTemplate", "escape_html", "locale_for", "render", "render_string",
           "template_source", "template_variables"]

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
_BODY_MARKER = "%%BODY%%"
_SUBJECT_PREFIX = "Subject: "


class UnknownTemplate(KeyError):
    """No such template name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MissingVariable(KeyError):
    """Strict rendering met a variable that is absent from the data (or null)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class TemplateSyntaxError(ValueError):
    """The template uses something outside the supported subset, or is unbalanced."""


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """The three SES parts of one template in one locale, before rendering."""

    subject: str
    text: str
    html: str


# ---------------------------------------------------------------- loading

def _read(name: str) -> str:
    with open(os.path.join(TEMPLATE_DIR, name), encoding="utf-8") as f:
        return f.read()


@cache
def template_source(template: str, locale: str) -> TemplateSource:
    """The raw subject/text/html of ``template`` for ``locale`` (``fr*`` → fr, else en).

    The HTML and text bodies are set into the shared layout of their locale here,
    so what SES receives is self-contained (SES templates have no partials).
    """
    if template not in TEMPLATES:
        raise UnknownTemplate(
            f"unknown notification template {template!r}; known: {', '.join(TEMPLATES)}"
        )
    loc = locale_for(locale)
    text_file = _read(f"{template}.{loc}.txt")
    first, _, rest = text_file.partition("\n")
    if not first.startswith(_SUBJECT_PREFIX) or not rest.startswith("\n"):
        raise TemplateSyntaxError(
            f"{template}.{loc}.txt must start with a 'Subject: ...' line and a blank line"
        )
    subject = first[len(_SUBJECT_PREFIX):].strip()
    text = _read(f"_layout.{loc}.txt").replace(_BODY_MARKER, rest[1:].strip("\n"))
    html = _read(f"_layout.{loc}.html").replace(_BODY_MARKER, _read(f"{template}.{loc}.html").strip("\n"))
    return TemplateSource(subject=subject, text=text, html=html)


# ---------------------------------------------------------------- parsing

_TAG = re.compile(
    r"\{\{(~?)(!--.*?--)(~?)\}\}"      # {{!-- comment --}}
    r"|\{\{(~?)\{(.*?)\}(~?)\}\}"       # {{{raw}}}
    r"|\{\{(~?)(.*?)(~?)\}\}",          # {{anything else}}
    re.DOTALL,
)
_PATH = re.compile(r"^(?:\.\./)*(?:@?[A-Za-z_][\w-]*|this|\.)(?:[./][A-Za-z_][\w-]*|[./]\d+)*$")
_BLOCKS = ("each", "if", "unless")

# Node shapes (tuples keep the tree cheap to build and walk):
#   ("text", str)
#   ("var", path, escape)
#   ("block", kind, path, body_nodes, inverse_nodes)


def _check_path(path: str, tag: str) -> str:
    if not _PATH.match(path):
        raise TemplateSyntaxError(f"unsupported expression {{{{{tag}}}}}: only plain paths are allowed")
    return path


def _tokens(source: str) -> Iterator[tuple[str, str]]:
    """Yield ("text", s) and ("tag", inner) with ``~`` whitespace control applied."""
    pos = 0
    strip_next = False
    pending: list[tuple[str, str]] = []
    for m in _TAG.finditer(source):
        text = source[pos:m.start()]
        if m.group(2) is not None:
            left, inner, right = m.group(1), "!", m.group(3)
        elif m.group(5) is not None:
            left, inner, right = m.group(4), "&" + m.group(5), m.group(6)
        else:
            left, inner, right = m.group(7), m.group(8), m.group(9)
        if strip_next:
            text = text.lstrip()
        if left:
            text = text.rstrip()
        if text:
            pending.append(("text", text))
        pending.append(("tag", inner.strip()))
        strip_next = bool(right)
        pos = m.end()
    tail = source[pos:]
    if strip_next:
        tail = tail.lstrip()
    if tail:
        pending.append(("text", tail))
    yield from pending


@lru_cache(maxsize=512)
def _parse(source: str) -> tuple:
    root: list = []
    # each frame: (kind, path, body, inverse, in_inverse)
    stack: list[list] = []
    out = root
    for kind, value in _tokens(source):
        if kind == "text":
            out.append(("text", value))
            continue
        tag = value
        if not tag or tag.startswith("!"):
            continue
        if tag[0] == "#":
            name, _, arg = tag[1:].partition(" ")
            if name not in _BLOCKS:
                raise TemplateSyntaxError(f"unsupported block helper {{{{#{name}}}}}")
            path = _check_path(arg.strip(), tag)
            frame = [name, path, [], [], False]
            out.append(frame)  # replaced by a tuple when closed
            stack.append(frame)
            out = frame[2]
        elif tag[0] == "/":
            name = tag[1:].strip()
            if not stack or stack[-1][0] != name:
                opened = stack[-1][0] if stack else None
                raise TemplateSyntaxError(f"{{{{/{name}}}}} does not close {{{{#{opened}}}}}" if opened
                                          else f"{{{{/{name}}}}} without an opening block")
            stack.pop()
            out = stack[-1][3 if stack[-1][4] else 2] if stack else root
        elif tag in ("else", "^"):
            if not stack or stack[-1][4]:
                raise TemplateSyntaxError("{{else}} outside a block, or twice in one block")
            stack[-1][4] = True
            out = stack[-1][3]
        elif tag[0] == "&":
            out.append(("var", _check_path(tag[1:].strip(), tag), False))
        elif tag[0] in ">^*#":
            raise TemplateSyntaxError(f"unsupported tag {{{{{tag}}}}}")
        else:
            out.append(("var", _check_path(tag, tag), True))
    if stack:
        raise TemplateSyntaxError(f"{{{{#{stack[-1][0]} {stack[-1][1]}}}}} is never closed")
    return _freeze(root)


def _freeze(nodes: list) -> tuple:
    frozen = []
    for node in nodes:
        if isinstance(node, list):
            frozen.append(("block", node[0], node[1], _freeze(node[2]), _freeze(node[3])))
        else:
            frozen.append(node)
    return tuple(frozen)


# ---------------------------------------------------------------- evaluation

class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;", "`": "&#x60;", "=": "&#x3D;"}
_ESCAPE_RE = re.compile(r"[&<>\"'`=]")


def escape_html(value: str) -> str:
    """Handlebars' ``escapeExpression``: & < > " ' ` = become entities."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], value)


def _to_str(value: Any) -> str:
    """JavaScript's String(value), for the JSON types SES TemplateData can hold."""
    if value is None or value is MISSING:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ",".join(_to_str(v) for v in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return str(value)


def _truthy(value: Any) -> bool:
    if value is None or value is MISSING or value is False:
        return False
    if isinstance(value, (str, list, tuple)):
        return len(value) > 0
    if isinstance(value, (int, float)):
        return value != 0
    return True


class _Frame:
    __slots__ = ("context", "data", "parent")

    def __init__(self, context: Any, data: Mapping[str, Any], parent: _Frame | None) -> None:
        self.context = context
        self.data = data
        self.parent = parent


def _lookup(frame: _Frame, path: str) -> Any:
    while path.startswith("../"):
        path = path[3:]
        frame = frame.parent or frame
    if path in ("this", "."):
        return frame.context
    if path.startswith("@"):
        return frame.data.get(path[1:], MISSING)
    if path.startswith("this.") or path.startswith("this/"):
        path = path[5:]
    elif path.startswith("./"):
        path = path[2:]
    value = frame.context
    for part in re.split(r"[./]", path):
        if isinstance(value, Mapping):
            value = value.get(part, MISSING)
        elif isinstance(value, (list, tuple)) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def _render(nodes: tuple, frame: _Frame, html: bool, strict: bool, out: list[str]) -> None:
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "var":
            value = _lookup(frame, node[1])
            if strict and (value is MISSING or value is None):
                raise MissingVariable(f"template variable {node[1]!r} is missing from the data")
            text = _to_str(value)
            out.append(escape_html(text) if html and node[2] else text)
        else:
            _, block, path, body, inverse = node
            value = _lookup(frame, path)
            if strict and value is MISSING:
                raise MissingVariable(f"template variable {path!r} ({{{{#{block}}}}}) is missing from the data")
            if block == "if":
                _render(body if _truthy(value) else inverse, frame, html, strict, out)
            elif block == "unless":
                _render(inverse if _truthy(value) else body, frame, html, strict, out)
            else:  # each
                if isinstance(value, Mapping):
                    entries = list(value.items())
                elif isinstance(value, (list, tuple)):
                    entries = list(enumerate(value))
                else:
                    entries = []
                if not entries:
                    _render(inverse, frame, html, strict, out)
                    continue
                last = len(entries) - 1
                for i, (key, item) in enumerate(entries):
                    data = {"index": i, "first": i == 0, "last": i == last, "key": key}
                    _render(body, _Frame(item, data, frame), html, strict, out)


def render_string(source: str, data: Mapping[str, Any], *, html: bool = False, strict: bool = False) -> str:
    """Render one template part; ``html=True`` escapes ``{{x}}`` as SES does in HtmlPart."""
    out: list[str] = []
    _render(_parse(source), _Frame(data, {}, None), html, strict, out)
    return "".join(out)


def render(template: str, locale: str | None, data: Mapping[str, Any], *, strict: bool = False) -> Rendered:
    """Render ``template`` in the customer's locale (``fr*`` → French, else English)."""
    src = template_source(template, locale_for(locale))
    return Rendered(
        subject=render_string(src.subject, data, strict=strict),
        text=render_string(src.text, data, strict=strict),
        html=render_string(src.html, data, html=True, strict=strict),
    )


# ---------------------------------------------------------------- introspection

def _variables(nodes: tuple, scope: str, found: set[str]) -> None:
    for node in nodes:
        if node[0] == "var":
            found.add(_scoped(node[1], scope))
        elif node[0] == "block":
            _, block, path, body, inverse = node
            found.add(_scoped(path, scope))
            inner = _scoped(path, scope) + "[]" if block == "each" else scope
            _variables(body, inner, found)
            _variables(inverse, scope, found)


def _scoped(path: str, scope: str) -> str:
    while path.startswith("../") and scope:
        path = path[3:]
        scope = scope.rpartition(".")[0] if "." in scope else ""
    if path.startswith("this."):
        path = path[5:]
    return f"{scope}.{path}" if scope else path


def template_variables(template: str, locale: str | None) -> frozenset[str]:
    """Every variable the template reads, items of a list as ``items[].sku``."""
    src = template_source(template, locale_for(locale))
    found: set[str] = set()
    for part in (src.subject, src.text, src.html):
        _variables(_parse(part), "", found)
    return frozenset(found)
