"""Starting a return's lifecycle execution."""
from __future__ import annotations

import json

from . import aws, config
from .models import ReturnModel


def start(ret: ReturnModel) -> str:
    """One execution per return, named after it: a repeated start finds the same execution."""
    sfn = aws.client("stepfunctions")
    machine = config.setting("STATE_MACHINE_ARN")
    payload = {"return_id": ret.return_id, "timeouts": config.workflow_timeouts(), "state": {"status": ret.status}}
    try:
        arn = sfn.start_execution(stateMachineArn=machine, name=ret.return_id, input=json.dumps(payload))["executionArn"]
    except sfn.exceptions.ExecutionAlreadyExists:
        arn = machine.replace(":stateMachine:", ":execution:") + ":" + ret.return_id
    ret.update(actions=[ReturnModel.execution_arn.set(arn)])
    return arn
