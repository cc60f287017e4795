"""The API's way to pay a claim's refund without the ledger key: it asks the Settle function, which
alone may write the ledger, with a synchronous Lambda invoke (functions/settle/app.py answers
`claim_refund`), as the ledger check does (outbound/ledger_verifier.py)."""
from __future__ import annotations

import json

from .. import aws, config

REQUEST = "claim_refund"


class PayerUnavailable(Exception):
    """The Settle function did not pay (an error, or no answer): the claim stays refund_pending."""


def pay(claim_id: str) -> dict:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = aws.client("lambda").invoke(
            # The Settle function: the same one that answers the ledger check.
            FunctionName=config.setting("LEDGER_VERIFIER_FUNCTION"), InvocationType="RequestResponse",
            Payload=json.dumps({REQUEST: {"claim_id": claim_id}}).encode())
    except (BotoCoreError, ClientError) as exc:
        raise PayerUnavailable(f"the claim's refund could not be asked for: {type(exc).__name__}") from exc
    raw = response["Payload"].read()
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = None
    if response.get("FunctionError") or not isinstance(answer, dict) or answer.get("refund") != "succeeded":
        raise PayerUnavailable(f"the claim's refund failed: {response.get('FunctionError') or 'no answer'}")
    return answer
