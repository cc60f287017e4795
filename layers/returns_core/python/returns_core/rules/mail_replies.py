"""A customer's email reply, read from its MIME message: who sent it, to which addresses, the new text
(the quoted history the mail client appended cut off) and the photos attached.

Pure: Python's `email` package on bytes, no I/O. The text is the text/plain part when there is one;
an HTML-only message is turned into text (tags dropped, quoted blocks dropped, never rendered). What a
client appends below the reply is cut at its first sign: `>` lines; an attribution line ("On ... wrote:",
"Le ... a écrit :", "Am ... schrieb ...:", across up to three lines as clients wrap it); Outlook's
"-----Original Message-----" and its translations, its underscore rule, or a header block
("From:/De :/Von:" followed by "Sent:/Envoyé :/Gesendet:/Date:"). A signature after "-- " goes too.

Attachments: images of the claim photos' types (JPEG, PNG, WebP: what the bytes are, not what the part
says) up to the same size and count are kept; anything else is refused, by type or size, and named.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from .claims import MAX_PHOTO_BYTES, MAX_PHOTOS, PHOTO_TYPES, sniff_image

MAX_MIME_BYTES = 30 * 1024 * 1024   # SES receives at most 40 MB; a reply with photos stays below this


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Reply:
    sender: str                      # the From address, lower-cased
    recipients: list[str]            # To, Cc and Delivered-To, lower-cased
    subject: str
    text: str                        # the new text, quoted history cut off
    photos: list[Attachment]
    refused: list[dict[str, object]]  # [{name, content_type, size, reason}]: too_large, not_an_image, too_many


# ---------------------------------------------------------------- HTML to text

class _Text(HTMLParser):
    """Text of an HTML body: block elements end lines; scripts, styles and quoted blocks are dropped, and
    everything after Outlook's reply marker (`#appendonsend`, `#divRplyFwdMsg`)."""
    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr"}
    _SKIP = {"script", "style", "head", "title", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []
        self.ended = False   # Outlook's quoted message follows its marker as siblings: the rest is history

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def _quoted(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        found = dict(attrs)
        classes = (found.get("class") or "").lower()
        # Gmail's, Apple Mail's and Thunderbird's containers of the quoted message (Outlook's: handle_starttag).
        return tag in self._SKIP or "gmail_quote" in classes or "moz-cite-prefix" in classes or \
            found.get("type") == "cite"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if (dict(attrs).get("id") or "").lower() in ("appendonsend", "divrplyfwdmsg"):
            self.ended = True
        if self.ended:
            return
        if self.skipping:
            if tag not in ("br", "hr", "img", "meta", "link", "input"):
                self.skipping.append(tag)
            return
        if self._quoted(tag, attrs):
            self.skipping.append(tag)
            return
        if tag in self._BLOCKS:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if self.ended:
            return
        if self.skipping:
            self.skipping.pop()
            return
        if tag in self._BLOCKS:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skipping or self.ended or (not data.strip() and (not self.parts or self.parts[-1].endswith("\n"))):
            return   # the source's indentation between blocks is no text
        self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).replace("\xa0", " ").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# ---------------------------------------------------------------- quoted history

_ATTRIBUTION = re.compile(
    r"^[ \t]*(?:"
    r"On\b[^\n]*(?:\n[^\n]*){0,2}?\bwrote:"                          # Gmail, Apple Mail, Thunderbird (en)
    r"|Le\b[^\n]*(?:\n[^\n]*){0,2}?\ba\s+écrit\s*:"                  # (fr), with a no-break space before ':'
    r"|Am\b[^\n]*(?:\n[^\n]*){0,2}?\bschrieb[^\n]*:"                  # (de) "Am ... schrieb X <a@b>:"
    r")[ \t]*$", re.MULTILINE)
_SEPARATOR = re.compile(
    r"^[ \t]*(?:-{2,}\s*(?:Original Message|Message d['’]origine|Ursprüngliche Nachricht)\s*-{2,}"
    r"|_{20,})[ \t]*$", re.MULTILINE | re.IGNORECASE)
_HEADER_BLOCK = re.compile(
    r"^[ \t]*\*?(?:From|De|Von)\s?:\*?[^\n]*\n(?:[^\n]*\n){0,2}?[ \t]*\*?(?:Sent|Envoyé|Gesendet|Date|Datum)\s?:",
    re.MULTILINE | re.IGNORECASE)
_SIGNATURE = re.compile(r"^-- ?$", re.MULTILINE)


def strip_quoted(text: str) -> str:
    """The new text of a reply: everything from the first sign of quoted history on is cut."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    cut = len(text)
    for pattern in (_ATTRIBUTION, _SEPARATOR, _HEADER_BLOCK, _SIGNATURE):
        found = pattern.search(text)
        if found:
            cut = min(cut, found.start())
    kept = [line for line in text[:cut].split("\n") if not line.lstrip().startswith(">")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in kept)).strip()


# ---------------------------------------------------------------- the message

def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is not None:
        return str(part.get_content())
    part = message.get_body(preferencelist=("html",))
    return html_to_text(str(part.get_content())) if part is not None else ""


def _attachments(message: EmailMessage) -> tuple[list[Attachment], list[dict[str, object]]]:
    photos: list[Attachment] = []
    refused: list[dict[str, object]] = []
    for part in message.iter_attachments():
        if part.is_multipart():
            continue
        name = part.get_filename() or "attachment"
        declared = part.get_content_type()
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        seen = {"name": name, "content_type": declared, "size": len(data)}
        sniffed = sniff_image(data[:16])
        if sniffed is None or sniffed not in PHOTO_TYPES:
            refused.append({**seen, "reason": "not_an_image"})
        elif len(data) > MAX_PHOTO_BYTES:
            refused.append({**seen, "reason": "too_large"})
        elif len(photos) >= MAX_PHOTOS:
            refused.append({**seen, "reason": "too_many"})
        else:
            photos.append(Attachment(name, sniffed, data))
    return photos, refused


def parse(raw: bytes) -> Reply:
    if len(raw) > MAX_MIME_BYTES:
        raise ValueError("the message is too large")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    sender = parseaddr(str(message.get("From", "")))[1].strip().lower()
    headers = [str(v) for name in ("To", "Cc", "Delivered-To") for v in message.get_all(name, [])]
    recipients = [address.strip().lower() for _, address in getaddresses(headers) if address]
    photos, refused = _attachments(message)
    return Reply(sender=sender, recipients=recipients, subject=str(message.get("Subject", "")),
                 text=strip_quoted(_body_text(message)), photos=photos, refused=refused)
