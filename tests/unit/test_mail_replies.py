"""Issue 32: customers' email replies parsed from real-world MIME shapes (tests/unit/mime/README.md says
which client each fixture comes from): the new text only, quoted history cut for fr/en/de clients,
HTML-only turned into text, photos kept and other attachments refused by type or size."""
from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from returns_core.rules import mail_replies
from returns_core.rules.claims import MAX_PHOTO_BYTES

MIME = Path(__file__).parent / "mime"
ADDRESS = "reply+ret_abc.0123456789abcdef0123@replies.shop.test"


def _parse(name: str) -> mail_replies.Reply:
    return mail_replies.parse((MIME / name).read_bytes().replace(b"REPLY_ADDRESS", ADDRESS.encode()))


@pytest.mark.parametrize("name,text", [
    ("gmail_en_alternative.eml", "Thanks, but the label link says it expired. Can you send it again?\n\nAna"),
    ("apple_mail_fr_qp.eml", "Bonjour,\n\nLe colis est bien parti ce matin, déposé au relais de la rue Oberkampf. "
                             "Merci !\n\nAna"),
    ("thunderbird_de_flowed.eml", "Hallo,\n\ndie Jacke hat einen Riss am Ärmel, schon beim Auspacken. Was soll "
                                  "ich\ntun?\n\nViele Grüße\nAna"),
    ("outlook_en_plain_original_message.eml", "It still has not arrived on my card."),
])
def test_the_new_text_without_the_quoted_history(name, text):
    reply = _parse(name)
    assert reply.text == text
    assert reply.sender == "ana@example.com"
    assert ADDRESS in reply.recipients


def test_an_html_only_outlook_reply_becomes_text_without_its_quoted_block():
    reply = _parse("outlook_fr_html_only.eml")
    assert reply.text == ("Bonjour,\nLe remboursement est de 20,04 € au lieu de 24,99 €, pourquoi ? "
                          "<script> n'est pas du code.")
    assert "Envoyé" not in reply.text and "remboursement a été émis" not in reply.text


def test_a_photo_is_kept_and_other_attachments_are_refused_by_what_their_bytes_are():
    reply = _parse("gmail_fr_photo_and_pdf.eml")
    assert reply.text == "Voici la photo de l'article abîmé, et la facture."
    assert [(p.name, p.content_type) for p in reply.photos] == [("IMG_2041.jpg", "image/jpeg")]
    assert reply.photos[0].data.startswith(b"\xff\xd8\xff")
    assert [(r["name"], r["reason"]) for r in reply.refused] == [("facture.pdf", "not_an_image"),
                                                                 ("not-really.jpg", "not_an_image")]


def test_a_photo_over_the_size_limit_is_refused():
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "ana@example.com", ADDRESS, "Re: photo"
    message.set_content("The big one.")
    message.add_attachment(b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_PHOTO_BYTES, maintype="image", subtype="png",
                           filename="huge.png")
    reply = mail_replies.parse(message.as_bytes())
    assert reply.photos == [] and [(r["name"], r["reason"]) for r in reply.refused] == [("huge.png", "too_large")]


@pytest.mark.parametrize("quoted", [
    "On Mon, 7 Dec 2026 at 10:02, Service <x@y> wrote:\n> old",
    "Le lun. 7 déc. 2026 à 10:02, Service <x@y> a\u00a0écrit\u00a0:\n> ancien",
    "Am Mo., 7. Dez. 2026 um 10:02 Uhr schrieb Service <x@y>:\n> alt",
    "________________________________\nFrom: Service <x@y>\nSent: Monday\nold",
    "De : Service <x@y>\nEnvoyé : lundi 7 décembre 2026 10:02\nancien",
    "Von: Service <x@y>\nGesendet: Montag, 7. Dezember 2026 10:02\nalt",
    "-----Message d'origine-----\nancien",
    "-----Ursprüngliche Nachricht-----\nalt",
])
def test_each_clients_history_marker_cuts(quoted):
    assert mail_replies.strip_quoted(f"My answer.\n\n{quoted}\nmore old text") == "My answer."
