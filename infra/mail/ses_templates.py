"""The SES templates as CloudFormation resources, generated from the template folder.

``template.yaml`` carries them between two marker lines so the files in
``templates/`` stay the one source::

    python -m infra.mail.ses_templates --write template.yaml
    python -m infra.mail.ses_templates --check template.yaml   # exit 1 if stale

moto's CloudFormation does not create ``AWS::SES::Template``; the local stack
can create them from :func:`ses_template_definitions` with ``ses.create_template``.

Not shipped: it imports ``yaml``, which the layer does not hold, and no Lambda needs it.
"""
from __future__ import annotations

import sys
from typing import Any

from returns_core.outbound.notifications.catalogue import LOCALES, TEMPLATES, template_name

from .render import template_source

BEGIN_MARKER = "  # BEGIN generated SES templates"
END_MARKER = "  # END generated SES templates"


def logical_id(template: str, locale: str) -> str:
    """``return_requested`` + ``en`` → ``TplReturnRequestedEn``."""
    return "Tpl" + "".join(part.capitalize() for part in template.split("_")) + locale.capitalize()


def ses_template_definitions(prefix: str) -> list[dict[str, str]]:
    """Every template × locale as the ``Template`` argument of ``ses.create_template``."""
    out = []
    for template in TEMPLATES:
        for locale in LOCALES:
            src = template_source(template, locale)
            out.append({"TemplateName": template_name(prefix, template, locale),
                        "SubjectPart": src.subject, "TextPart": src.text, "HtmlPart": src.html})
    return out


def ses_template_resources(prefix_sub: str = "${AWS::StackName}") -> dict[str, Any]:
    """``{LogicalId: AWS::SES::Template resource}`` for every template × locale."""
    resources: dict[str, Any] = {}
    for template in TEMPLATES:
        for locale in LOCALES:
            src = template_source(template, locale)
            resources[logical_id(template, locale)] = {
                "Type": "AWS::SES::Template",
                "Properties": {
                    "Template": {
                        "TemplateName": {"Fn::Sub": template_name(prefix_sub, template, locale)},
                        "SubjectPart": src.subject,
                        "TextPart": src.text,
                        "HtmlPart": src.html,
                    }
                },
            }
    return resources


def resources_yaml(resources: dict[str, Any] | None = None) -> str:
    """The resources as YAML lines indented two spaces, to sit under ``Resources:``."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _str)
    text = yaml.dump(resources if resources is not None else ses_template_resources(), Dumper=_Dumper,
                     sort_keys=False, allow_unicode=True, indent=2, width=100000, default_flow_style=False)
    return "".join(("  " + line) if line.strip() else line for line in text.splitlines(keepends=True))


def _split(text: str) -> tuple[str, str, str]:
    """(before and the BEGIN line, the generated block, the END line and after)."""
    lines = text.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == BEGIN_MARKER]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == END_MARKER]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise ValueError(f"expected exactly one {BEGIN_MARKER.strip()!r} line followed by one "
                         f"{END_MARKER.strip()!r} line")
    b, e = begins[0], ends[0]
    return "".join(lines[: b + 1]), "".join(lines[b + 1 : e]), "".join(lines[e:])


def updated(text: str) -> str:
    """``text`` with its generated block replaced by the current templates."""
    head, _, tail = _split(text)
    return head + resources_yaml() + tail


def main(argv: list[str] | None = None) -> int:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m infra.mail.ses_templates",
                                     description="Write or check the generated SES template resources "
                                                 "in a SAM template.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", metavar="TEMPLATE_YAML", type=Path, help="replace the generated block")
    mode.add_argument("--check", metavar="TEMPLATE_YAML", type=Path, help="exit 1 if the generated block is stale")
    args = parser.parse_args(argv)
    path = args.write or args.check
    try:
        current = path.read_text(encoding="utf-8")
        fresh = updated(current)
    except (OSError, ValueError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if fresh != current:
            print(f"{path}: the generated SES templates are stale; run "
                  f"python -m infra.mail.ses_templates --write {path}", file=sys.stderr)
            return 1
        return 0
    if fresh != current:
        path.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
