"""Ready-made replies for the common complaints, in each customer language, and how one is filled in.

A reply is the answer itself: the email it is sent in (`agent_message`) greets the customer by name and
signs it. Its text holds placeholders in braces (``{customer_name}``, ``{return_id}``, ``{refund_amount}``,
``{deadline}``, ``{quote_explanation}``...): `render` fills them from the values a use case computed
from the return (amounts and dates already formatted for the customer's locale). An unknown or
missing placeholder is left as an empty string rather than showing braces to a customer; a brace an
agent typed for itself survives (``{{`` and ``}}``).

The seeded set applies until an agent edits a reply (PUT /ops/replies/{reply_id}); the edit is kept
per locale in the conversations table and wins.
"""
from __future__ import annotations

import re
import string
from typing import Any

REPLY_LOCALES = ("en", "fr")
PLACEHOLDERS = ("customer_name", "return_id", "order_id", "status", "refund_amount", "items_total",
                "deductions", "quote_explanation", "deadline", "tracking_number", "refund_method", "agent_name")

SEEDED: dict[str, dict[str, tuple[str, str]]] = {
    "where_is_my_refund": {
        "en": ("Where is my refund?",
               "Your return {return_id} is {status}. The refund of {refund_amount} "
               "goes back by {refund_method}; a bank usually shows it within 3 to 5 working days of being "
               "issued.\n\nIf it has not arrived by then, answer this message and we will look at it with you."),
        "fr": ("Où est mon remboursement ?",
               "Votre retour {return_id} est {status}. Le remboursement de "
               "{refund_amount} vous est versé par {refund_method} ; une banque l’affiche en général sous 3 à "
               "5 jours ouvrés après son émission.\n\nS’il n’est pas arrivé d’ici là, répondez à ce message et "
               "nous regarderons avec vous."),
    },
    "label_not_received": {
        "en": ("Label not received",
               "Sorry that the label did not reach you. You can download it at any "
               "time from your return's page (return {return_id}); its tracking number is {tracking_number}. "
               "Please drop the parcel off before {deadline}."),
        "fr": ("Étiquette non reçue",
               "Désolés que l’étiquette ne vous soit pas parvenue. Vous pouvez la "
               "télécharger à tout moment depuis la page de votre retour ({return_id}) ; son numéro de suivi "
               "est {tracking_number}. Merci de déposer le colis avant le {deadline}."),
    },
    "refund_lower_than_expected": {
        "en": ("Refund lower than expected",
               "Thank you for asking. For return {return_id}, the items came to "
               "{items_total}, and {deductions} was taken off:\n{quote_explanation}\nThe refund is therefore "
               "{refund_amount}. If something here looks wrong to you, tell us and we will check it again."),
        "fr": ("Remboursement plus bas que prévu",
               "Merci de votre question. Pour le retour {return_id}, les articles "
               "représentaient {items_total}, dont {deductions} ont été déduits :\n{quote_explanation}\nLe "
               "remboursement est donc de {refund_amount}. Si quelque chose vous semble inexact, dites-le-nous "
               "et nous vérifierons à nouveau."),
    },
    "item_damaged": {
        "en": ("Item damaged",
               "We are sorry the item arrived damaged. Could you reply with a photo "
               "of it and of the parcel? We will then settle return {return_id} as quickly as we can."),
        "fr": ("Article abîmé",
               "Nous sommes désolés que l’article soit arrivé abîmé. Pourriez-vous "
               "répondre avec une photo de l’article et du colis ? Nous traiterons ensuite le retour "
               "{return_id} au plus vite."),
    },
    "parcel_in_transit": {
        "en": ("Parcel on its way",
               "Your parcel ({tracking_number}) is on its way to our warehouse. "
               "We check it within two working days of its arrival and tell you at once."),
        "fr": ("Colis en route",
               "Votre colis ({tracking_number}) est en route vers notre entrepôt. "
               "Nous le contrôlons sous deux jours ouvrés après son arrivée et vous prévenons aussitôt."),
    },
}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render(text: str, values: dict[str, Any]) -> str:
    """`text` with its placeholders filled; one that is unknown or has no value becomes empty."""
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    safe = {name: str(values.get(name) or "") for name in names if re.fullmatch(r"\w+", name)}
    try:
        return string.Formatter().vformat(text, (), _Blank(safe))
    except (ValueError, IndexError, KeyError, AttributeError):
        # A lone brace or "{0}" an agent typed: the text as written rather than an error to the customer.
        return text


def seeded(locale: str) -> list[dict[str, str]]:
    loc = locale if locale in REPLY_LOCALES else "en"
    return [{"reply_id": reply_id, "title": texts[loc][0], "body": texts[loc][1]}
            for reply_id, texts in SEEDED.items()]
