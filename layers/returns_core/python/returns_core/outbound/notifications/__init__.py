"""Customer messages: SES templates ("ready-made responses"), their renderer and data builders."""
from __future__ import annotations

from . import messages
from .messages import build, format_date, sms_text
from .render import (
    LOCALES,
    TEMPLATES,
    MissingVariable,
    Rendered,
    TemplateSyntaxError,
    UnknownTemplate,
    locale_for,
    render,
    render_string,
    template_source,
    template_variables,
)

_LAZY = {"ses_template_definitions", "ses_template_resources", "template_name"}


def __getattr__(name: str):
    # Imported on first use, so `python -m returns_core.outbound.notifications.ses_templates`
    # does not find its own module already loaded by the package.
    if name in _LAZY:
        from . import ses_templates

        return getattr(ses_templates, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "LOCALES",
    "TEMPLATES",
    "MissingVariable",
    "Rendered",
    "TemplateSyntaxError",
    "UnknownTemplate",
    "build",
    "format_date",
    "locale_for",
    "messages",
    "render",
    "render_string",
    "ses_template_definitions",
    "ses_template_resources",
    "sms_text",
    "template_name",
    "template_source",
    "template_variables",
]
