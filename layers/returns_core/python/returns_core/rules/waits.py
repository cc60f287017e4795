"""How long the workflow waits for a period, apart from the period itself.

A period is what a customer is told and what a record says is due: the drop-off deadline, a
withdrawal's `refund_due_by` (14 days after the notice), "this case closes in 30 days". A wait is how
long the state machine sits before it acts on it. In a deployed store the two are the same; the
demo (`make demo`) and the tests shorten the waits only, by the template's WaitScale, so a whole
lifecycle plays out in minutes while every date and number of days shown keeps its real value
(api.md v3, "Languages": what a customer is told never shrinks).
"""
from __future__ import annotations

# A scaled wait is never shorter than this: the demo leaves whoever tries it time to do the step by
# hand, and a period already this short (only tests set such) is waited as it is.
MIN_SCALED_WAIT_SECONDS = 300


def scaled(period_seconds: int, scale: int) -> int:
    """The wait for a period under WaitScale `scale`: the period itself at 1; else `scale` times
    shorter (rounded up), but not under MIN_SCALED_WAIT_SECONDS, nor over the period."""
    period = int(period_seconds)
    if scale <= 1:
        return period
    return min(period, max(MIN_SCALED_WAIT_SECONDS, -(-period // int(scale))))
