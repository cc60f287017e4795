"""A workflow wait ran out (or a refund failed): remind, expire, declare lost, alert, close.

Also the workflow sweep (`{"workflow_sweep": {}}`, on the template's schedule): returns whose execution
ended before they did, or never started, get a new one from their status (usecases/workflow_recovery.py).
And the inbox sweep (`{"inbox_sweep": {}}`): ops is alerted once for each customer who waits past the
first response's due time (usecases/conversations.py), and customers whose return is late at a step are
told before they ask (usecases/proactive_messages.py).
And finance's roll-up (`{"finance_rollup": {}}`, on its schedule): the day aggregates that /analytics/returns
and /finance/reconciliation read catch up with the returns and the ledger (usecases/finance_rollup.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from returns_core.edge.steps import Step
from returns_core.usecases import timeouts

if TYPE_CHECKING:
    from returns_core.edge.step_events import SweepInput, TimeoutInput

SWEEP_REQUEST = "workflow_sweep"   # template.yaml, HandleTimeoutFunction's WorkflowSweep schedule
INBOX_SWEEP_REQUEST = "inbox_sweep"   # template.yaml, HandleTimeoutFunction's InboxSweep schedule
ROLLUP_REQUEST = "finance_rollup"   # template.yaml, HandleTimeoutFunction's FinanceRollup schedule

step = Step("TimeoutInput")   # Logger, Metrics; Tracer and the parser join at the first event
sweep_step = Step("SweepInput", like=step)
logger, metrics = step.logger, step.metrics


def handler(event: Any, context: LambdaContext) -> dict:
    if isinstance(event, dict) and SWEEP_REQUEST in event:
        return sweep_workflows(event[SWEEP_REQUEST], context)
    if isinstance(event, dict) and INBOX_SWEEP_REQUEST in event:
        return sweep_inbox(event[INBOX_SWEEP_REQUEST], context)
    if isinstance(event, dict) and ROLLUP_REQUEST in event:
        return roll_up_finance(event[ROLLUP_REQUEST], context)
    return handle_timeout(event, context)


@sweep_step
def sweep_workflows(event: SweepInput, context: LambdaContext) -> dict:
    from returns_core.usecases import workflow_recovery

    done = workflow_recovery.sweep()
    metrics.add_metric(name="WorkflowsRestarted", unit=MetricUnit.Count, value=done["restarted"])
    metrics.add_metric(name="WorkflowsGivenUp", unit=MetricUnit.Count, value=done["given_up"])
    logger.info("workflow sweep", extra=done)
    return done


@sweep_step
def sweep_inbox(event: SweepInput, context: LambdaContext) -> dict:
    from returns_core.usecases import conversations, proactive_messages

    done = {"alerted": conversations.sweep_overdue(), "told": proactive_messages.sweep()}
    metrics.add_metric(name="ConversationsOverdue", unit=MetricUnit.Count, value=done["alerted"])
    metrics.add_metric(name="CustomersToldBeforeAsking", unit=MetricUnit.Count, value=done["told"])
    logger.info("inbox sweep", extra=done)
    return done


@sweep_step
def roll_up_finance(event: SweepInput, context: LambdaContext) -> dict:
    from returns_core.usecases import finance_rollup

    done = finance_rollup.run()
    metrics.add_metric(name="FinanceReturnsCounted", unit=MetricUnit.Count, value=done["returns"])
    metrics.add_metric(name="FinanceEntriesCounted", unit=MetricUnit.Count, value=done["entries"])
    logger.info("finance roll-up", extra=done)
    return done


@step
def handle_timeout(event: TimeoutInput, context: LambdaContext) -> dict:
    logger.append_keys(return_id=event.return_id, kind=event.kind)
    metrics.add_dimension(name="kind", value=event.kind)
    if event.kind == "withdrawal_clock":   # not a wait that ran out: where a withdrawal stands on its deadline
        return timeouts.withdrawal_clock(event.return_id)
    status = timeouts.handle(event.return_id, event.kind, event.error)
    metrics.add_metric(name="WaitsTimedOut", unit=MetricUnit.Count, value=1)
    return {"status": status}
