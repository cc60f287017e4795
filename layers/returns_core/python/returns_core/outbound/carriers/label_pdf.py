"""The printable prepaid label: one A6 page with a QR code and a Code 128 of the return code.

reportlab is imported inside `render_label_pdf` only: importing the carriers
package must stay cheap for every Lambda that never prints a label.
"""
from __future__ import annotations

import io
import unicodedata
from typing import TYPE_CHECKING

from .base import Address, LabelRequest, is_french, opening_hours_summary

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

MM = 72 / 25.4
PAGE_W, PAGE_H = 105 * MM, 148 * MM  # A6 portrait
MARGIN = 7 * MM
FONT, BOLD = "Helvetica", "Helvetica-Bold"
QR_SIZE = 30 * MM
BARCODE_H = 13 * MM
MIN_BODY_SIZE = 5.5

_TEXT = {
    "en": {
        "title": "PREPAID RETURN",
        "tracking": "Tracking number",
        "code": "Return code",
        "items": "Contents: {n} item(s)",
        "method_relay_point": "Drop-off: relay point",
        "method_letterbox": "Drop-off: letterbox collection",
        "method_post_office": "Drop-off: post office",
        "post_office_title": "DROP OFF AT A POST OFFICE",
        "post_office": ["Stick this label on the parcel and hand it in at a counter of the carrier."],
        "from": "FROM",
        "to": "TO",
        "relay_title": "DROP OFF AT THIS RELAY POINT",
        "hours": "Hours: ",
        "relay_note": "Drop the parcel here before the deadline in your email. "
                      "The shop scans this label and gives you a receipt.",
        "letterbox_title": "LETTERBOX COLLECTION",
        "letterbox": [
            "1. Pack the items and stick this label on the parcel. Cover or remove any old labels and barcodes.",
            "2. On the collection day, put the parcel with this label in your letterbox before 8:00. "
            "The carrier collects it from the FROM address and scans the label.",
            "3. The parcel must fit in your letterbox and the letterbox must be reachable by the carrier. "
            "No letterbox? Choose a relay point instead.",
            "Keep the tracking number until your refund arrives.",
        ],
    },
    "fr": {
        "title": "RETOUR PRÉPAYÉ",
        "tracking": "N° de suivi",
        "code": "Code retour",
        "items": "Contenu : {n} article(s)",
        "method_relay_point": "Dépôt : point relais",
        "method_letterbox": "Dépôt : collecte en boîte aux lettres",
        "method_post_office": "Dépôt : bureau de poste",
        "post_office_title": "À DÉPOSER DANS UN BUREAU DE POSTE",
        "post_office": ["Collez cette étiquette sur le colis et déposez-le à un guichet du transporteur."],
        "from": "EXPÉDITEUR",
        "to": "DESTINATAIRE",
        "relay_title": "À DÉPOSER DANS CE POINT RELAIS",
        "hours": "Horaires : ",
        "relay_note": "Déposez le colis avant la date limite indiquée dans votre e-mail. "
        "Le commerçant scanne cette étiquette et vous remet un reçu.",
        "letterbox_title": "COLLECTE EN BOÎTE AUX LETTRES",
        "letterbox": [
            "1. Emballez les articles et collez cette étiquette sur le colis. "
            "Masquez ou retirez les anciennes étiquettes et codes-barres.",
            "2. Le jour de la collecte, déposez le colis avec cette étiquette dans votre boîte aux lettres avant 8 h. "
            "Le transporteur le récupère à l'adresse de l'expéditeur et scanne l'étiquette.",
            "3. Le colis doit tenir dans votre boîte aux lettres et celle-ci doit être accessible au transporteur. "
            "Pas de boîte aux lettres ? Choisissez plutôt un point relais.",
            "Conservez le numéro de suivi jusqu'à votre remboursement.",
        ],
    },
}


# Letters with no Unicode decomposition to a Latin-1 base.
_FOLD = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Ħ": "H", "ħ": "h", "Ŧ": "T", "ŧ": "t",
                       "Ŋ": "N", "ŋ": "n"})


def pdf_safe(text: str) -> str:
    """Keep what Helvetica's WinAnsi encoding can draw; fold the rest (ł → l, ő → o) instead of printing boxes."""
    out = []
    for ch in unicodedata.normalize("NFC", str(text)):
        if ch in "\t\r\n":
            out.append(" ")
            continue
        if unicodedata.category(ch).startswith("C"):
            continue
        if _encodable(ch):
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch.translate(_FOLD)) if not unicodedata.combining(c))
        out.append(base if base and all(_encodable(c) for c in base) else "?")
    return "".join(out)


def _encodable(ch: str) -> bool:
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    from reportlab.lib.utils import simpleSplit

    return simpleSplit(pdf_safe(text), font, size, width) or [""]


def _one_line(text: str, font: str, size: float, width: float) -> str:
    """Truncate with an ellipsis rather than run off the label."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = pdf_safe(text)
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _address_lines(addr: Address) -> list[str]:
    city = " ".join(p for p in (addr.postcode, addr.city) if p)
    if addr.country:
        city = f"{city} ({addr.country})" if city else addr.country
    return [ln for ln in (addr.line1, addr.line2, city) if ln]


# Printed across every demo label, so nobody hands one to a carrier (issue 29).
DEMO_MARK = "DEMO — not a carrier label"


def render_qr_png(code: str) -> bytes:
    """The return code as a QR code PNG, for a paperless drop-off (the customer shows it at the counter)."""
    import segno

    buf = io.BytesIO()
    segno.make_qr(code, error="m").save(buf, kind="png", scale=8, border=4)
    return buf.getvalue()


def render_label_pdf(request: LabelRequest, tracking_number: str, *, carrier_name: str = "DEMO — not a carrier",
                     demo: bool = True) -> bytes:
    from reportlab.pdfgen.canvas import Canvas

    t = _TEXT["fr" if is_french(request.locale) else "en"]
    buf = io.BytesIO()
    # invariant: no wall-clock date or random file id, so the same request gives the
    # same bytes — a retried step overwrites the S3 object with an identical one.
    c = Canvas(buf, pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1, lang=request.locale or None)
    c.setTitle(f"{t['title'].title()} {request.return_code}")
    c.setAuthor(carrier_name)
    c.setCreator("returns")
    # The scanned code is also the subject so tools can read it without decoding images.
    c.setSubject(request.return_code)
    c.setKeywords(f"return_code={request.return_code} tracking_number={tracking_number} return_id={request.return_id}")

    y = _header(c, t["title"], carrier_name)
    y = _summary_row(c, t, request, tracking_number, y - 5)
    y = _address_block(c, t["from"], request.sender, y - 6, name_size=8, size=7.5, boxed=False)
    y = _address_block(c, t["to"], request.warehouse, y - 5, name_size=10, size=9, boxed=True)
    floor = _barcode(c, request.return_code)
    _dropoff_block(c, t, request, top=y - 7, bottom=floor + 6)
    if demo:
        _demo_mark(c)

    c.showPage()
    c.save()
    return buf.getvalue()


def _demo_mark(c: Canvas) -> None:
    """A grey diagonal DEMO band over the page and the words at the top: readable, the codes still scan."""
    c.saveState()
    c.setFillGray(0.55, alpha=0.35)
    c.setFont(BOLD, 15)
    c.translate(PAGE_W / 2, PAGE_H / 2)
    c.rotate(35)
    c.drawCentredString(0, 0, pdf_safe(DEMO_MARK))
    c.restoreState()
    c.setFont(BOLD, 7)
    c.drawCentredString(PAGE_W / 2, PAGE_H - MARGIN + 2, pdf_safe(DEMO_MARK))


def _header(c: Canvas, title: str, carrier_name: str) -> float:
    top = PAGE_H - MARGIN
    band = 16.0
    c.setFillGray(0)
    c.rect(MARGIN, top - band, PAGE_W - 2 * MARGIN, band, stroke=0, fill=1)
    c.setFillGray(1)
    c.setFont(BOLD, 11)
    c.drawString(MARGIN + 5, top - band + 4.5, pdf_safe(title))
    c.setFont(FONT, 7.5)
    c.drawRightString(PAGE_W - MARGIN - 5, top - band + 5, pdf_safe(carrier_name))
    c.setFillGray(0)
    return top - band


def _summary_row(c: Canvas, t: dict, request: LabelRequest, tracking_number: str, top: float) -> float:
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    # Level M survives a scuffed corner; the code is short so the symbol stays coarse.
    qr = QrCodeWidget(request.return_code, barLevel="M", barBorder=4)
    x0, y0, x1, y1 = qr.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x1 - x0), 0, 0, QR_SIZE / (y1 - y0), 0, 0])
    drawing.add(qr)
    # The QR's own white border is its quiet zone, so it can sit flush with the margin.
    renderPDF.draw(drawing, c, PAGE_W - MARGIN - QR_SIZE + 4, top - QR_SIZE)

    width = PAGE_W - 2 * MARGIN - QR_SIZE
    x, y = MARGIN, top - 9
    for label, value in ((t["tracking"], tracking_number), (t["code"], request.return_code)):
        c.setFont(FONT, 7)
        c.drawString(x, y, pdf_safe(label))
        c.setFont(BOLD, 12)
        c.drawString(x, y - 13, _one_line(value, BOLD, 12, width))
        y -= 28
    c.setFont(FONT, 7.5)
    c.drawString(x, y, _one_line(t["items"].format(n=request.items_count), FONT, 7.5, width))
    c.drawString(x, y - 10, _one_line(t[f"method_{request.dropoff_method}"], FONT, 7.5, width))
    return top - QR_SIZE


def _address_block(c: Canvas, label: str, addr: Address, top: float, *, name_size: float, size: float,
                   boxed: bool) -> float:
    pad = 4.0 if boxed else 0.0
    x, width = MARGIN + pad, PAGE_W - 2 * MARGIN - 2 * pad
    y = top - pad - 7
    c.setFont(BOLD, 6.5)
    c.setFillGray(0.35)
    c.drawString(x, y, pdf_safe(label))
    c.setFillGray(0)
    y -= name_size + 1.5
    c.setFont(BOLD, name_size)
    c.drawString(x, y, _one_line(addr.name, BOLD, name_size, width))
    c.setFont(FONT, size)
    for line in _address_lines(addr):
        y -= size + 1.5
        c.drawString(x, y, _one_line(line, FONT, size, width))
    bottom = y - pad - 2
    if boxed:
        c.setLineWidth(1.2)
        c.rect(MARGIN, bottom, PAGE_W - 2 * MARGIN, top - bottom, stroke=1, fill=0)
    return bottom


def _barcode(c: Canvas, code: str) -> float:
    """Code 128 along the bottom with the code in clear text under it; returns its top edge."""
    from reportlab.graphics.barcode.code128 import Code128

    usable = PAGE_W - 2 * MARGIN
    probe = Code128(code, barWidth=1.0, barHeight=BARCODE_H, humanReadable=False, quiet=False)
    # Widest bars that fit, capped: wider modules scan better from a crumpled parcel.
    bar_width = min(1.4, usable / probe.width)
    barcode = Code128(code, barWidth=bar_width, barHeight=BARCODE_H, humanReadable=False, quiet=False)
    text_y = MARGIN
    bar_y = text_y + 11
    barcode.drawOn(c, (PAGE_W - barcode.width) / 2, bar_y)
    c.setFont(BOLD, 10)
    c.drawCentredString(PAGE_W / 2, text_y, pdf_safe(code))
    return bar_y + BARCODE_H


def _dropoff_block(c: Canvas, t: dict, request: LabelRequest, *, top: float, bottom: float) -> None:
    width = PAGE_W - 2 * MARGIN
    if request.dropoff_method == "relay_point" and request.relay_point is not None:
        rp = request.relay_point
        title = t["relay_title"]
        head = [(BOLD, rp.name), (FONT, rp.address), (FONT, f"{rp.postcode} {rp.city}")]
        body = [t["hours"] + opening_hours_summary(rp.opening_hours, request.locale), t["relay_note"]]
    elif request.dropoff_method == "post_office":
        title, head, body = t["post_office_title"], [], list(t["post_office"])
    else:
        title = t["letterbox_title"]
        head = []
        body = list(t["letterbox"])

    # Shrink the body until it fits between the addresses and the barcode.
    size = 7.5
    while True:
        lines = [ln for para in body for ln in _wrap(para, FONT, size, width)]
        needed = 10 + len(head) * (size + 2) + len(lines) * (size + 1.5)
        if needed <= top - bottom or size <= MIN_BODY_SIZE:
            break
        size -= 0.5
    y = top - 7
    c.setFont(BOLD, 7.5)
    c.drawString(MARGIN, y, pdf_safe(title))
    y -= 3
    for font, text in head:
        y -= size + 2
        c.setFont(font, size + 0.5)
        c.drawString(MARGIN, y, _one_line(text, font, size + 0.5, width))
    c.setFont(FONT, size)
    for line in lines:
        if y - (size + 1.5) < bottom:
            break  # never draw over the barcode; the full text is in the customer's email
        y -= size + 1.5
        c.drawString(MARGIN, y, line)
