"""Handing a status change's follow-up to the StatusEffects function, invoked asynchronously.

Whoever made the change (a warehouse scan, an inspection, a carrier's event, a customer's confirmation)
is answered once it is written: the domain event, the customer's message, the ops alert and the
workflow's resume (usecases.lifecycle.after_move) are the StatusEffects function's, through Lambda's
asynchronous invoke (its queue retries a failed invocation twice; one that still fails goes to the
function's on-failure queue, and the workflow's wait times out into its reminder path). A warehouse scan
was twelve AWS calls, now five (issue 20: scan p95 under load).

The API function is given the function's name (STATUS_EFFECTS_FUNCTION); without it (the workflow's own
steps, whose caller is no person, and the in-process tests) the follow-up runs at once, in the caller.
"""
from __future__ import annotations

import json
import logging
import os

from .. import aws

log = logging.getLogger(__name__)
FUNCTION_SETTING = "STATUS_EFFECTS_FUNCTION"


def enabled() -> bool:
    return bool(os.environ.get(FUNCTION_SETTING))


def hand_over(return_id: str, previous: str, status: str, token: str | None) -> bool:
    """Queue the follow-up of `return_id`'s move from `previous` to `status` (and the workflow wait's
    `token`, None when no wait ends); False when Lambda did not accept it (the caller carries it out)."""
    from botocore.exceptions import BotoCoreError, ClientError

    payload = {"return_id": return_id, "previous": previous, "status": status, "token": token}
    try:
        response = aws.client("lambda").invoke(FunctionName=os.environ[FUNCTION_SETTING], InvocationType="Event",
                                               Payload=json.dumps(payload).encode())
    except (BotoCoreError, ClientError) as exc:
        log.warning("status effects not handed over", extra={"return_id": return_id, "error_type": type(exc).__name__})
        return False
    if response.get("StatusCode") != 202:
        log.warning("status effects not accepted",
                    extra={"return_id": return_id, "status_code": response.get("StatusCode")})
        return False
    return True
