"""After a restart, every open return gets its workflow back where it was.

Step Functions executions are threads of the process that stopped, so none survives a restart.
The state machine needs none of their history: it starts at its `Route` choice, which goes on
from the return's status (requested -> issue the label, awaiting_dropoff -> wait for the
drop-off, inspected -> settle, ...); from there each step goes to the one that usually follows,
and a wait entered with a status it does not wait for comes back to Route. So the stack starts,
for each return that is not finished, a fresh execution with the status the return has now,
exactly as POST /returns starts the first one (outbound/workflow.py: same name, same input).

The task token kept on a return belongs to the old execution and is dead; nothing needs to
clear it: the new execution's wait parks its own token (lifecycle.park overwrites it), and an
event that comes first takes the dead token, finds it refused (InvalidToken, logged) and leaves
the move recorded, which the new wait then sees and resumes at once. The waits' timers start
again from the restart.
"""
from __future__ import annotations

import os


def open_returns(table_name: str, account: str, region: str) -> list[tuple[str, str]]:
    """(return_id, status) of every return that is not finished, read from the restored table."""
    from moto.dynamodb.models import dynamodb_backends

    from returns_core.rules import statuses

    from . import atomic

    table = dynamodb_backends[account][region].tables[table_name]
    with atomic.lock():
        found = [(item.attrs["return_id"].value, item.attrs["status"].value) for item in table.items.values()]
    return sorted((rid, status) for rid, status in found if status in statuses.ACTIVE)


def resume(environment: dict[str, str], account: str, region: str) -> list[tuple[str, str]]:
    """Start the workflow of every open return; what was started."""
    from returns_core import aws
    from returns_core.outbound import workflow

    os.environ.update(environment)   # the API's settings: the state machine, the timeouts
    aws.reset()
    pending = open_returns(environment["RETURNS_TABLE"], account, region)
    from returns_core.rules import policy
    from returns_core.store import returns

    for return_id, status in pending:
        ret = returns.get(return_id)
        workflow.start(return_id, status, keep_item=policy.keeps_items(ret.items),
                       withdrawal=bool(ret.withdrawal))
    return pending
