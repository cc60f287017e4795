"""Telling the customer before they ask: when a step of their return is late, what they read, in their
language, and after how long a step counts as late.

A return waiting in one of these statuses for longer than its delay gets one message per stay in that
status (the sweep remembers `<kind>:<status_since>` on the conversation). A label left unused near its
drop-off deadline is not here: the workflow's own `dropoff_reminder` tells the customer already.
"""
from __future__ import annotations

from dataclasses import dataclass

from .statuses import AWAITING_APPROVAL, RECEIVED, REFUND_FAILED, REFUNDING

DAY = 86400


@dataclass(frozen=True)
class Late:
    kind: str
    status: str
    after_seconds: int


LATE: tuple[Late, ...] = (
    Late("inspection_late", RECEIVED, 3 * DAY),            # received, not inspected in three days
    Late("refund_late", REFUNDING, 2 * DAY),               # a refund that should take seconds
    Late("refund_late", REFUND_FAILED, 1 * DAY),           # a failed refund ops has not retried yet
    Late("approval_late", AWAITING_APPROVAL, 3 * DAY),     # above the threshold, finance has not approved
)

TEXTS: dict[str, dict[str, str]] = {
    "inspection_late": {
        "en": "Your parcel for return {return_id} reached our warehouse, and checking it is taking longer than "
              "usual. We are on it and will tell you as soon as it is done: there is nothing you need to do.",
        "fr": "Votre colis du retour {return_id} est bien arrivé à notre entrepôt, et son contrôle prend plus de "
              "temps que d’habitude. Nous nous en occupons et vous prévenons dès qu’il est terminé : vous n’avez "
              "rien à faire.",
    },
    "refund_late": {
        "en": "The refund of your return {return_id} is taking longer than it should. Our team is looking at "
              "it now; you will hear from us as soon as it is paid.",
        "fr": "Le remboursement de votre retour {return_id} prend plus de temps que prévu. Notre équipe s’en "
              "occupe dès maintenant ; nous vous prévenons dès qu’il est versé.",
    },
    "approval_late": {
        "en": "Your return {return_id} is being checked by our team before the refund, which is taking a "
              "little longer than usual. You will hear from us as soon as it is done.",
        "fr": "Votre retour {return_id} est vérifié par notre équipe avant le remboursement, ce qui prend un "
              "peu plus de temps que d’habitude. Nous vous prévenons dès que c’est fait.",
    },
}


def text(kind: str, locale: str, return_id: str) -> str:
    loc = "fr" if (locale or "").lower().startswith("fr") else "en"
    return TEXTS[kind][loc].format(return_id=return_id)


def sent_key(kind: str, status_since: str) -> str:
    return f"{kind}:{status_since}"
