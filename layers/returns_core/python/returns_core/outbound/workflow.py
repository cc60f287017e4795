"""The return's lifecycle execution on Step Functions: starting it, resuming its waits."""
from __future__ import annotations

import json
import logging

from .. import aws, config

log = logging.getLogger(__name__)


class WorkflowUnavailable(Exception):
    """Step Functions refused to start the return's execution and none exists under its name."""


# A restarted workflow's execution is named after its return and the restart's number: Step Functions keeps
# an ended execution's name for 90 days, so the return's own name cannot be used again.
_RESTART = "-restart-"
# The executions that ended without finishing their return (Step Functions' statuses).
ENDED_BADLY = ("FAILED", "TIMED_OUT", "ABORTED")


def _execution_arn(machine: str, name: str) -> str:
    return machine.replace(":stateMachine:", ":execution:") + ":" + name


def execution_name(return_id: str, restart: int = 0) -> str:
    return return_id if restart == 0 else f"{return_id}{_RESTART}{restart}"


def parse_execution_name(name: str) -> tuple[str, int]:
    """(return id, restart number) of an execution's name."""
    return_id, sep, number = name.rpartition(_RESTART)
    return (return_id, int(number)) if sep and number.isdigit() else (name, 0)


def ended_badly() -> list[tuple[str, str, str]]:
    """(execution arn, name, status) of every execution of the lifecycle that failed, timed out or was
    aborted and that Step Functions still lists (90 days after it ended)."""
    sfn = aws.client("stepfunctions")
    machine = config.setting("STATE_MACHINE_ARN")
    found = []
    for status in ENDED_BADLY:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine, statusFilter=status):
            found += [(e["executionArn"], e["name"], status) for e in page["executions"]]
    return found


def state_of(execution_arn: str) -> str | None:
    """The execution's status (RUNNING, SUCCEEDED, FAILED, ...); None when Step Functions has no such one."""
    sfn = aws.client("stepfunctions")
    try:
        return sfn.describe_execution(executionArn=execution_arn)["status"]
    except sfn.exceptions.ExecutionDoesNotExist:
        return None


def start(return_id: str, status: str, keep_item: bool = False, withdrawal: bool = False, restart: int = 0) -> str:
    """One execution per return, named after it: a repeated start finds the same execution.

    `keep_item`: a returnless return (the customer keeps every item); the workflow routes it from
    `requested` to the refund, past the label and the parcel. Fixed for the return's life, so it rides
    beside `state`, which each step replaces.

    When the start fails, Step Functions may still have started it (the answer was lost): the
    execution is looked up by name, and only when it is not there is WorkflowUnavailable raised.

    `withdrawal`: a return opened by a withdrawal notice; once the parcel is sent, the workflow pays its
    refund by the notice's deadline (`$.withdrawal`, fixed for its life like `keep_item`).

    `restart`: the number of a restart (usecases/workflow_recovery.py), which names the new execution."""
    from botocore.exceptions import BotoCoreError, ClientError

    sfn = aws.client("stepfunctions")
    machine = config.setting("STATE_MACHINE_ARN")
    payload = {"return_id": return_id, "timeouts": config.workflow_timeouts(), "state": {"status": status},
               "keep_item": bool(keep_item), "withdrawal": bool(withdrawal)}
    # Both flags always present: the Route choice compares them, and moto's interpreter evaluates
    # every operand of an And (IsPresent does not guard the comparison beside it there).
    name = execution_name(return_id, restart)
    try:
        return sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(payload))["executionArn"]
    except sfn.exceptions.ExecutionAlreadyExists:
        return _execution_arn(machine, name)
    except (BotoCoreError, ClientError) as exc:
        arn = _execution_arn(machine, name)
        try:
            sfn.describe_execution(executionArn=arn)
            return arn
        except (BotoCoreError, ClientError):
            pass
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        log.warning("workflow did not start", extra={"return_id": return_id, "error_type": type(exc).__name__,
                                                      "code": code})
        raise WorkflowUnavailable(return_id) from exc


def resume(token: str, output: dict, return_id: str) -> bool:
    """Hand a wait its outcome. A token already used or timed out is not an error: the record rules."""
    sfn = aws.client("stepfunctions")
    try:
        sfn.send_task_success(taskToken=token, output=json.dumps(output))
        return True
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
        log.warning("task token no longer waiting", extra={"return_id": return_id, "status": output.get("status")})
        return False
