"""The return's lifecycle execution on Step Functions: starting it, resuming its waits."""
from __future__ import annotations

import json
import logging

from .. import aws, config

log = logging.getLogger(__name__)


def start(return_id: str, status: str, keep_item: bool = False) -> str:
    """One execution per return, named after it: a repeated start finds the same execution.

    `keep_item`: a returnless return (the customer keeps every item); the workflow routes it from
    `requested` to the refund, past the label and the parcel. Fixed for the return's life, so it rides
    beside `state`, which each step replaces."""
    sfn = aws.client("stepfunctions")
    machine = config.setting("STATE_MACHINE_ARN")
    payload = {"return_id": return_id, "timeouts": config.workflow_timeouts(), "state": {"status": status},
               "keep_item": bool(keep_item)}
    try:
        return sfn.start_execution(stateMachineArn=machine, name=return_id, input=json.dumps(payload))["executionArn"]
    except sfn.exceptions.ExecutionAlreadyExists:
        return machine.replace(":stateMachine:", ":execution:") + ":" + return_id


def resume(token: str, output: dict, return_id: str) -> bool:
    """Hand a wait its outcome. A token already used or timed out is not an error: the record rules."""
    sfn = aws.client("stepfunctions")
    try:
        sfn.send_task_success(taskToken=token, output=json.dumps(output))
        return True
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
        log.warning("task token no longer waiting", extra={"return_id": return_id, "status": output.get("status")})
        return False
