"""A return's timeline: what one entry holds, and the sentence the portal shows for it
("Your parcel arrived at our warehouse").

The entry keeps its `type` (what the store's systems and tests read); `text` adds the
sentence, in English or French (the portal speaks the order's language). Unknown types get a
neutral sentence rather than the code.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import clock
from .money import format_amount

# The longest text an entry keeps: the longest one the API accepts (a dispute's message, 2,000 characters).
# The edge refuses longer input with a 4xx naming the field; this bounds what any other writer puts in.
MAX_TEXT_CHARS = 2000


def _bounded(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT_CHARS else value[:MAX_TEXT_CHARS - 1] + "\u2026"
    if isinstance(value, dict):
        return {k: _bounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_bounded(v) for v in value]
    return value


def entry(kind: str, actor: str, detail: Any = None, at: str | None = None) -> dict[str, Any]:
    """One entry; each text in `detail` at most MAX_TEXT_CHARS long, so no entry outgrows its item."""
    return {"at": at or clock.iso(), "type": kind, "actor": actor, "detail": _bounded(detail)}


def has(timeline: list[dict[str, Any]] | None, kind: str) -> bool:
    return any(e.get("type") == kind for e in timeline or [])


_CHANNELS: dict[str, dict[str | None, str]] = {"en": {"email": "an email", "sms": "a text message"},
             "fr": {"email": "un e-mail", "sms": "un SMS"}}
LANGUAGES = ("en", "fr")


def language(locale: str | None) -> str:
    """The portal's two languages: `fr*` is French, anything else English (as the emails)."""
    return "fr" if (locale or "").strip().lower().startswith("fr") else "en"


def _amount(detail: Any, currency: str, lang: str) -> str | None:
    if isinstance(detail, dict) and isinstance(detail.get("amount"), int) and detail["amount"] > 0:
        return format_amount(detail["amount"], currency, lang) if currency else str(detail["amount"])
    return None


def _refund_issued(detail: Any, currency: str, lang: str) -> str:
    amount = _amount(detail, currency, lang)
    if lang == "fr":
        return f"Votre remboursement de {amount} a été émis." if amount else \
            "Votre retour est réglé : rien à rembourser."
    return f"Your refund of {amount} has been issued." if amount else "Your return is settled: nothing to pay back."


def _exchange_shipped(detail: Any, currency: str, lang: str) -> str:
    number = detail.get("tracking_number") if isinstance(detail, dict) else None
    if lang == "fr":
        return f"Votre article de remplacement est en route (numéro de suivi {number})." if number else \
            "Votre article de remplacement est en route."
    return f"Your replacement is on its way (tracking number {number})." if number else \
        "Your replacement is on its way."


def _message_sent(detail: Any, currency: str, lang: str) -> str:
    channel = _CHANNELS[lang].get(detail.get("channel") if isinstance(detail, dict) else None,
                                  "un message" if lang == "fr" else "a message")
    return f"Nous vous avons envoyé {channel} au sujet de votre retour." if lang == "fr" else \
        f"We sent you {channel} about your return."



TEXTS: dict[str, str | Callable[[Any, str, str], str]] = {
    "return.requested": "You started this return.",
    "exception.granted": "Our customer service made an exception so that this return could be accepted.",
    "withdrawal.received": "We received your notice of withdrawal from the contract.",
    "withdrawal.refund_due": "Your refund was paid by the withdrawal deadline.",
    "review.required": "A colleague is checking your return before we issue the label.",
    "review.approved": "Your return was approved.",
    "review.auto_approved": "Your return was approved.",
    "review.rejected": "Your return could not be accepted.",
    "label.issued": "Your prepaid label is ready to download.",
    "label.failed": "We could not prepare your prepaid label; our team has been told and will help you.",
    "label.retry_requested": "We are preparing your prepaid label again.",
    "carrier.dropped_off": "You dropped off your parcel. Thank you!",
    "carrier.in_transit": "Your parcel is on its way to our warehouse.",
    "carrier.delivered": "Your parcel was delivered to our warehouse.",
    "carrier.lost": "The carrier reported your parcel as lost.",
    "parcel.received": "Your parcel arrived at our warehouse.",
    "parcel.lost": "Your parcel did not reach us in time; we treat it as lost and settle your return.",
    "return.inspected": "We checked your items.",
    "inspection.overdue": "Checking your items is taking longer than usual.",
    "refund.awaiting_approval": "Your refund is waiting for a final check by our finance team.",
    "approval.overdue": "The final check of your refund is taking longer than usual.",
    "refund.approved": "Your refund was approved.",
    "refund.refunding": "Your refund is being paid.",
    "refund.awaiting_manual": "Your refund is being paid.",
    "refund.retry_requested": "We are trying your refund again.",
    "refund.failed": "Your refund could not be paid yet; our team is on it.",
    "refund.issued": _refund_issued,
    "refund.held_for_inspection": "Your refund will be paid once we have checked your items.",
    "refund.paid_early": "We are paying your refund now, without waiting for your parcel to be checked.",
    # Staff only (views/returns.STAFF_ONLY_TYPES): the ops page's sentences.
    "risk.verdict": "Customer service gave its verdict on this return.",
    "inspection.below_refund": "The inspection found less than the refund already paid; customer service was told.",
    "exchange.requested": "Your replacement has been requested from the store.",
    "exchange.shipped": _exchange_shipped,
    "return.cancelled": "You cancelled this return.",
    "return.expired": "The parcel was not dropped off before the deadline, so the return expired.",
    "return.confirmed": "You confirmed that everything is settled. This return is closed.",
    "return.auto_closed": "This return was closed.",
    "return.disputed": "You told us something is wrong; our customer service team will contact you.",
    "dispute.resolved": "Our customer service team answered you about this return.",
    "dispute.overdue": "Answering you is taking longer than usual.",
    "dispute.adjustment_paid": _refund_issued,
    "claim.opened": "You told us about a problem with your order; our customer service team will answer you.",
    "claim.resolved": "Our customer service team answered your claim.",
    "claim.refunded": _refund_issued,
    "message.sent": _message_sent,
    "effect.failed": "We could not send you an update; our team has been told.",
    "message.undelivered": "An email we sent you did not arrive; our customer service team will reach you another way.",
}


# The same sentences in French, in the wording of the French emails where one says the same.
TEXTS_FR: dict[str, str | Callable[[Any, str, str], str]] = {
    "return.requested": "Vous avez commencé ce retour.",
    "exception.granted": "Notre service client a fait une exception pour que ce retour soit accepté.",
    "withdrawal.received": "Nous avons reçu votre rétractation du contrat.",
    "withdrawal.refund_due": "Votre remboursement a été versé dans le délai de rétractation.",
    "review.required": "Un collègue vérifie votre retour avant d’émettre l’étiquette.",
    "review.approved": "Votre retour a été accepté.",
    "review.auto_approved": "Votre retour a été accepté.",
    "review.rejected": "Votre retour n’a pas pu être accepté.",
    "label.issued": "Votre étiquette prépayée est prête à télécharger.",
    "label.failed": "Nous n’avons pas pu préparer votre étiquette prépayée ; notre équipe est prévenue et va vous "
                    "aider.",
    "label.retry_requested": "Nous préparons à nouveau votre étiquette prépayée.",
    "carrier.dropped_off": "Vous avez déposé votre colis. Merci !",
    "carrier.in_transit": "Votre colis est en route vers notre entrepôt.",
    "carrier.delivered": "Votre colis a été livré à notre entrepôt.",
    "carrier.lost": "Le transporteur a signalé votre colis comme perdu.",
    "parcel.received": "Votre colis est arrivé à notre entrepôt.",
    "parcel.lost": "Votre colis ne nous est pas parvenu à temps ; nous le considérons comme perdu et réglons votre "
                   "retour.",
    "return.inspected": "Nous avons vérifié vos articles.",
    "inspection.overdue": "La vérification de vos articles prend plus de temps que d’habitude.",
    "refund.awaiting_approval": "Votre remboursement attend une dernière vérification par notre service financier.",
    "approval.overdue": "La dernière vérification de votre remboursement prend plus de temps que d’habitude.",
    "refund.approved": "Votre remboursement a été approuvé.",
    "refund.refunding": "Votre remboursement est en cours de paiement.",
    "refund.awaiting_manual": "Votre remboursement est en cours de paiement.",
    "refund.retry_requested": "Nous tentons à nouveau votre remboursement.",
    "refund.failed": "Votre remboursement n’a pas encore pu être payé ; notre équipe s’en occupe.",
    "refund.issued": _refund_issued,
    "refund.held_for_inspection": "Votre remboursement sera versé une fois vos articles vérifiés.",
    "refund.paid_early": "Nous versons votre remboursement dès maintenant, sans attendre la vérification de votre "
                         "colis.",
    "risk.verdict": "Le service client a donné son avis sur ce retour.",
    "inspection.below_refund": "La vérification a trouvé moins que le remboursement déjà versé ; le service client "
                               "est prévenu.",
    "exchange.requested": "Votre article de remplacement a été demandé à la boutique.",
    "exchange.shipped": _exchange_shipped,
    "return.cancelled": "Vous avez annulé ce retour.",
    "return.expired": "Le colis n’a pas été déposé avant la date limite : le retour a expiré.",
    "return.confirmed": "Vous avez confirmé que tout est réglé. Ce retour est clos.",
    "return.auto_closed": "Ce retour a été clos.",
    "return.disputed": "Vous nous avez signalé un problème ; notre service client va vous contacter.",
    "dispute.resolved": "Notre service client vous a répondu au sujet de ce retour.",
    "dispute.overdue": "Notre réponse prend plus de temps que d’habitude.",
    "dispute.adjustment_paid": _refund_issued,
    "claim.opened": "Vous nous avez signalé un problème avec votre commande ; notre service client va vous répondre.",
    "claim.resolved": "Notre service client a répondu à votre réclamation.",
    "claim.refunded": _refund_issued,
    "message.sent": _message_sent,
    "effect.failed": "Nous n’avons pas pu vous envoyer une mise à jour ; notre équipe est prévenue.",
    "message.undelivered": "Un e-mail que nous vous avons envoyé n’a pas été remis ; "
                           "notre service client vous contactera autrement.",
}
_BY_LANGUAGE = {"en": TEXTS, "fr": TEXTS_FR}
_UPDATED = {"en": "Your return was updated.", "fr": "Votre retour a été mis à jour."}


def text(item: dict[str, Any], currency: str = "", lang: str = "en") -> str:
    """The sentence for one timeline entry, in English or French (`lang`, see `language`)."""
    lang = language(lang)
    found = _BY_LANGUAGE[lang].get(item.get("type") or "")
    if found is None:
        return _UPDATED[lang]
    return found(item.get("detail"), currency, lang) if callable(found) else found
