"""The payloads the state machine hands each step, parsed at the edge."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field


class StepInput(BaseModel):
    return_id: str = Field(min_length=1, max_length=64)


class LabelInput(StepInput):
    """The label step's input: the status it is entered with ($.state.status) and the execution's
    $.keep_item. Optional, for executions started by an older definition (their Route sent only
    `requested` returns here)."""
    status: str | None = Field(default=None, max_length=64)
    keep_item: bool = False


class StatusEffectsInput(StepInput):
    """A written move handed to the StatusEffects function (outbound/deferred_effects.py)."""
    previous: str = Field(min_length=1, max_length=64)
    status: str = Field(min_length=1, max_length=64)
    token: str | None = Field(default=None, max_length=2048)


class WaitInput(StepInput):
    wait: Literal["review", "label_retry", "dropoff", "arrival", "inspection", "approval", "refund_retry",
                  "confirmation",
                  "manual_refund", "dispute", "dispute_followup", "withdrawal_parcel"]
    token: str = Field(min_length=1, max_length=2048)
    # The status the workflow enters the wait with ($.state.status): a wait entered with another status
    # than its own hands the execution back to Route (usecases.lifecycle.ReturnRerouted). Optional: the
    # withdrawal deadline's waits (entered from their clock's choice) and executions started by an older
    # definition do not send it.
    status: str | None = Field(default=None, max_length=64)
    withdrawal: bool = False   # the execution's $.withdrawal


class TimeoutInput(StepInput):
    kind: Literal["review", "dropoff_reminder", "dropoff", "transit", "inspection_sla", "approval",
                  "refund_retry", "refund_failed", "followup", "autoclose", "label_failed", "label_retry",
                  "dispute_overdue", "dispute_followup", "dispute_autoclose", "withdrawal_clock", "withdrawal_due"]
    error: dict | None = None


class MovementInput(StepInput):
    """A money movement other than a return's refund, paid by the Settle step: a resolved dispute's
    adjustment."""
    movement: Literal["adjustment"]


class ClaimRefundInput(BaseModel):
    """The API's request to pay a claim's decided refund (outbound/claim_payer.py)."""
    claim_id: str = Field(min_length=1, max_length=64)


class LedgerVerifyInput(BaseModel):
    """The API's request to check the ledger (outbound/ledger_verifier.py): these days, or all."""
    days: list[date] | None = Field(default=None, max_length=92)

    def day_strings(self) -> list[str] | None:
        return None if self.days is None else [d.isoformat() for d in self.days]


class SweepInput(BaseModel):
    """A scheduled pass, with nothing to say but that it is time: the Settle function's over refunds a
    transient fault left unpaid (usecases/refund_recovery.py, `{"refund_sweep": {}}`), the HandleTimeout
    function's over returns whose workflow stopped (usecases/workflow_recovery.py, `{"workflow_sweep": {}}`)."""
    model_config = {"extra": "forbid"}


class MailEventsInput(BaseModel):
    """SNS's delivery of SES's events (bounces, complaints, rejects) to the StatusEffects function
    (usecases/mail_events.py): each record's `Sns.Message` is one SES event, as JSON text."""
    Records: list[dict] = Field(min_length=1, max_length=100)

    def ses_events(self) -> list[dict]:
        import json

        return [json.loads(record["Sns"]["Message"]) for record in self.Records]



class InboundMailInput(BaseModel):
    """SES's receipt rule invoking the InboundMail function (a Lambda action after its S3 action): one
    record per received message, `ses.mail.messageId` naming the object the S3 action stored, and
    `ses.receipt` the recipients and the SPF/DKIM/DMARC verdicts."""
    Records: list[dict] = Field(min_length=1, max_length=10)

    def received(self) -> list[tuple[str, list[str], dict]]:
        """(message id, recipients, verdicts) of each record."""
        out = []
        for record in self.Records:
            ses = record.get("ses") or {}
            receipt = ses.get("receipt") or {}
            verdicts = {k: receipt.get(k) for k in ("spfVerdict", "dkimVerdict", "dmarcVerdict") if receipt.get(k)}
            out.append((str((ses.get("mail") or {}).get("messageId") or ""), list(receipt.get("recipients") or []),
                        verdicts))
        return out
