"""The API's way to check the ledger without the ledger key: it asks the Settle function, which
holds the key, with a synchronous Lambda invoke (functions/settle/app.py answers `ledger_verify`)."""
from __future__ import annotations

import json

from .. import aws, config

REQUEST = "ledger_verify"


class VerifierUnavailable(Exception):
    """The Settle function did not answer the check (an error, or no answer)."""


def verify(days: list[str] | None) -> dict:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = aws.client("lambda").invoke(
            FunctionName=config.setting("LEDGER_VERIFIER_FUNCTION"), InvocationType="RequestResponse",
            Payload=json.dumps({REQUEST: {"days": days}}).encode())
    except (BotoCoreError, ClientError) as exc:
        raise VerifierUnavailable(f"the ledger check could not be asked for: {type(exc).__name__}") from exc
    raw = response["Payload"].read()
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = None
    if response.get("FunctionError") or not isinstance(answer, dict) or "ok" not in answer:
        raise VerifierUnavailable(f"the ledger check failed: {response.get('FunctionError') or 'no answer'}")
    return answer
