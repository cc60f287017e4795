"""Configuration, read lazily from the environment the template gives each function.

Nothing here is read at import time: tests and the local stack set the
environment first, then call these getters.
"""
from __future__ import annotations

import os

from .rules import waits


class ConfigError(RuntimeError):
    """A required setting is missing from the function's environment."""


def setting(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ConfigError(f"environment variable {name} is not set")
    return value


def int_setting(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def endpoint_url() -> str | None:
    """The AWS endpoint (moto locally); None means the real AWS endpoints."""
    return os.environ.get("AWS_ENDPOINT_URL") or None


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


# The lifecycle's periods, in seconds: what a customer is told and what a record says is due (the
# drop-off deadline, "this case closes in 30 days"). Template parameters set them; these are the
# template's defaults, which a deployed store and the local stack (`make run`) both use.
_TIMEOUTS = {
    "review": ("REVIEW_TIMEOUT_SECONDS", 7 * 86400),
    "dropoff": ("DROPOFF_TIMEOUT_SECONDS", 14 * 86400),
    "dropoff_reminder_lead": ("DROPOFF_REMINDER_LEAD_SECONDS", 2 * 86400),
    "transit": ("TRANSIT_TIMEOUT_SECONDS", 21 * 86400),
    "inspection_sla": ("INSPECTION_SLA_SECONDS", 48 * 3600),
    "approval": ("APPROVAL_TIMEOUT_SECONDS", 7 * 86400),
    "refund_retry": ("REFUND_RETRY_TIMEOUT_SECONDS", 14 * 86400),
    "followup": ("FOLLOWUP_DELAY_SECONDS", 30 * 86400),
    "autoclose": ("AUTOCLOSE_DELAY_SECONDS", 14 * 86400),
    # After a dispute is resolved, the case closes on its own this long after (the resolution's email says
    # when, and how to say all is well sooner or write if it is not).
    "dispute_followup": ("DISPUTE_FOLLOWUP_DELAY_SECONDS", 30 * 86400),
}

# The right of withdrawal's refund deadline after the notice (14 days, Art. 13) and how long before it
# ops is alerted (3 days); template parameters too (tests may shorten them).
_WITHDRAWAL = {
    "refund": ("WITHDRAWAL_REFUND_SECONDS", 14 * 86400),
    "alert_lead": ("WITHDRAWAL_ALERT_LEAD_SECONDS", 3 * 86400),
}


def withdrawal_durations() -> dict[str, int]:
    """The withdrawal's periods as the law and the record say them (refund_due_by is the notice + `refund`);
    the workflow's own waits for them are withdrawals.clock_of's, which applies wait_scale()."""
    return {key: int_setting(env, default) for key, (env, default) in _WITHDRAWAL.items()}


def periods() -> dict[str, int]:
    """The lifecycle's periods as a customer is told them: never shortened by wait_scale()."""
    return {key: int_setting(env, default) for key, (env, default) in _TIMEOUTS.items()}


def wait_scale() -> int:
    """The template's WaitScale: how many times shorter the workflow's waits are than the periods
    (1 in a deployed store; `make demo` and the tests shorten waits, never what a customer is told)."""
    return max(1, int_setting("WAIT_SCALE", 1))


def workflow_timeouts() -> dict[str, int]:
    """Every wait of the lifecycle; the execution input carries them to the ASL. Each is its period
    scaled by wait_scale() (rules.waits): read these for what the workflow does (and for staff's
    "overdue", which follows the workflow's alerts), periods() for what a customer is told."""
    scale = wait_scale()
    values = {key: waits.scaled(seconds, scale) for key, seconds in periods().items()}
    lead = min(values.pop("dropoff_reminder_lead"), values["dropoff"] - 1)
    # The drop-off wait is split in two around the reminder: both parts must be >= 1 s.
    values["dropoff_before_reminder"] = max(1, values["dropoff"] - lead)
    values["dropoff_after_reminder"] = max(1, lead)
    return values


# Customer service's hours and the first answer's deadline in those hours (template parameters
# ServiceHours, FirstResponseHours: rules/conversations.py reads the text).
def service_hours() -> str:
    return setting("SERVICE_HOURS", "mon-fri 09:00-18:00 Europe/Paris")


def first_response_hours() -> float:
    return float(setting("FIRST_RESPONSE_HOURS", "4") or 4)


def mail_domain() -> str:
    """Where customers' email replies are received (template parameter MailDomain); empty: none."""
    return setting("MAIL_DOMAIN", "").strip().lower()
