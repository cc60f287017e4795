"""The environment every in-process part of the bench runs in (before boto3 is imported)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "returns_core" / "python"
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "Returns",
    "POWERTOOLS_SERVICE_NAME": "returns", "POWERTOOLS_DEV": "false", "POWERTOOLS_LOG_LEVEL": "WARNING",
}


def in_process() -> None:
    for p in (ROOT, ROOT / "functions" / "api", LAYER):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))
    if str(ROOT / "tests") not in sys.path:   # payments_support, workflow.helpers (after ROOT: tests/infra
        sys.path.append(str(ROOT / "tests"))  # must not shadow the infra package)
    os.environ.update(FAKE_AWS)
    os.environ.pop("AWS_ENDPOINT_URL", None)


def ensure_ses_templates(prefix: str) -> int:
    """template.yaml's generated SES block may still be empty: create what the code sends (counted)."""
    import boto3

    from infra.mail.ses_templates import ses_template_definitions

    ses = boto3.client("ses", region_name="us-east-1")
    existing = {t["Name"] for t in ses.list_templates(MaxItems=1000).get("TemplatesMetadata", [])}
    made = 0
    for definition in ses_template_definitions(prefix):
        if definition["TemplateName"] not in existing:
            ses.create_template(Template=definition)
            made += 1
    return made
