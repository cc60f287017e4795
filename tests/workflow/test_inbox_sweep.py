"""Issue 32: a customer who waits past the first response's due time alerts ops, once per wait.

The HandleTimeout function's InboxSweep schedule, read from template.yaml (infra/local/schedules.py, as
the local stack runs it), is invoked through Lambda's API: the built artifact, on the deployed stack.
The wait is made old by moving its start and due time back in the stored conversation (what hours of
real time would do), nothing else."""
from __future__ import annotations

import json

import boto3
import pytest

from infra.local import schedules
from infra.local.template import load
from returns_core.edge import auth

from .helpers import Http, start_return

pytestmark = pytest.mark.xdist_group("workflow")


def _inbox_sweep() -> schedules.Schedule:
    found = [s for s in schedules.of_template(load()) if s.name == "InboxSweep"]
    assert len(found) == 1 and found[0].function == "HandleTimeoutFunction"
    return found[0]


def _run(stack, schedule: schedules.Schedule) -> dict:
    out = boto3.client("lambda", region_name="us-east-1").invoke(
        FunctionName=stack.function(schedule.function).name, Payload=json.dumps(schedule.event).encode())
    body = json.loads(out["Payload"].read())
    assert "FunctionError" not in out, body
    return body


def _age(return_id: str, hours: int) -> None:
    from datetime import timedelta

    from returns_core.rules import clock
    from returns_core.store.models import ConversationModel

    conv = ConversationModel.get(return_id, "state", consistent_read=True)
    conv.waiting_since = clock.iso(clock.parse(conv.waiting_since) - timedelta(hours=hours))
    conv.first_response_due = clock.iso(clock.now() - timedelta(minutes=1))
    conv.save()


@pytest.mark.slow
def test_a_wait_past_its_due_time_alerts_ops_once_and_an_answer_ends_it(stack, api, ops_inbox):
    http = Http(api)
    schedule = _inbox_sweep()
    assert schedule.every_seconds <= 15 * 60   # an alert comes within minutes of the due time
    overdue, _ = start_return(http, "o-sla-1")
    recent, _ = start_return(http, "o-sla-2")
    for rid in (overdue, recent):
        customer = http.call("POST", "/returns/lookup", {"order_id": f"o-sla-{1 if rid == overdue else 2}",
                                                         "email": "ana@example.com"})[1]["token"]
        status, _, _ = http.call("POST", f"/returns/{rid}/messages", {"body": "Any news?"}, token=customer)
        assert status == 201
    ops_inbox()   # drop anything earlier
    assert _run(stack, schedule) == {"alerted": 0, "told": 0}   # nobody waits past the due time yet

    _age(overdue, hours=72)
    assert _run(stack, schedule) == {"alerted": 1, "told": 0}
    alerts = [json.loads(a["message"]) for a in ops_inbox()]
    overdue_alerts = [a for a in alerts if a["type"] == "conversation.overdue"]
    assert [a["data"]["return_id"] for a in overdue_alerts] == [overdue]
    assert "ana@example.com" not in json.dumps(alerts)   # no personal data in the alert

    assert _run(stack, schedule) == {"alerted": 0, "told": 0}   # once per wait
    ops = auth.mint("ops", "ops:marie")
    status, inbox, _ = http.call("GET", "/ops/inbox", token=ops)
    assert [i["return_id"] for i in inbox["items"]] == [overdue, recent]   # the longest wait first
    assert http.call("POST", f"/returns/{overdue}/messages", {"body": "Today."}, token=ops)[0] == 201
    status, inbox, _ = http.call("GET", "/ops/inbox", token=ops)
    assert [i["return_id"] for i in inbox["items"]] == [recent]
