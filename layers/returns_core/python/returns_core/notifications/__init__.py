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
from .ses_templates import ses_template_definitions, ses_template_resources, template_name

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
