"""The prepaid label: a real A6 PDF whose QR code and Code 128 scan back to the return code."""
from __future__ import annotations

import dataclasses
import io

import pypdf
import pypdfium2
import pytest
import zxingcpp

from returns_core.outbound.carriers import (
    Address,
    CarrierError,
    DemoCarrier,
    IssuedLabel,
    LabelRequest,
    get_carrier,
    is_valid_tracking_number,
    tracking_number_for,
)
from returns_core.outbound.carriers.label_pdf import pdf_safe

MM = 72 / 25.4
A6 = (105 * MM, 148 * MM)
CODE = "RT-7K3F9QXM"
SENDER = Address(name="Zoë Müller", line1="112 Boulevard Voltaire", line2="Bât. B, 3e étage", postcode="75011",
                 city="Paris", country="FR")
WAREHOUSE = Address(name="Entrepôt Retours Sud", line1="ZA des Bréguières", postcode="06600", city="Antibes",
                    country="FR")


@pytest.fixture(scope="module")
def carrier() -> DemoCarrier:
    return get_carrier()


@pytest.fixture(scope="module")
def relay_request(carrier: DemoCarrier) -> LabelRequest:
    point, _ = carrier.search_relay_points("75011", "FR", 1)[0]
    return LabelRequest(
        return_id="ret_01J8Z5Q4", return_code=CODE, sender=SENDER, warehouse=WAREHOUSE,
        dropoff_method="relay_point", relay_point=point, items_count=2, locale="fr-FR",
    )


@pytest.fixture(scope="module")
def letterbox_request(relay_request: LabelRequest) -> LabelRequest:
    return dataclasses.replace(relay_request, dropoff_method="letterbox", relay_point=None, locale="en-GB")


@pytest.fixture(scope="module")
def fr_label(carrier: DemoCarrier, relay_request: LabelRequest) -> IssuedLabel:
    return carrier.issue_label(relay_request)


@pytest.fixture(scope="module")
def en_label(carrier: DemoCarrier, letterbox_request: LabelRequest) -> IssuedLabel:
    return carrier.issue_label(letterbox_request)


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    # Wrapped lines become spaces, so phrases can be matched across line breaks.
    return " ".join(reader.pages[0].extract_text().split())


def _decode(pdf: bytes, dpi: int = 300) -> dict[str, list[str]]:
    doc = pypdfium2.PdfDocument(pdf)
    try:
        assert len(doc) == 1
        image = doc[0].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        doc.close()
    found: dict[str, list[str]] = {}
    for result in zxingcpp.read_barcodes(image):
        found.setdefault(result.format.name, []).append(result.text)
    return found


# --- the document ------------------------------------------------------------


@pytest.mark.parametrize("which", ["fr_label", "en_label"])
def test_one_a6_page(which: str, request: pytest.FixtureRequest) -> None:
    label: IssuedLabel = request.getfixturevalue(which)
    assert label.pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(label.pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(A6[0], abs=1)
    assert float(box.height) == pytest.approx(A6[1], abs=1)


@pytest.mark.parametrize("which", ["fr_label", "en_label"])
def test_codes_and_addresses_are_printed(which: str, request: pytest.FixtureRequest) -> None:
    label: IssuedLabel = request.getfixturevalue(which)
    text = _text(label.pdf)
    assert CODE in text
    assert label.tracking_number in text
    for fragment in ("Zoë Müller", "112 Boulevard Voltaire", "Bât. B, 3e étage", "75011 Paris",
                     "Entrepôt Retours Sud", "ZA des Bréguières", "06600 Antibes"):
        assert fragment in text, fragment


def test_french_relay_point_label(fr_label: IssuedLabel, relay_request: LabelRequest) -> None:
    text = _text(fr_label.pdf)
    for fragment in ("RETOUR PRÉPAYÉ", "N° de suivi", "EXPÉDITEUR", "DESTINATAIRE", "POINT RELAIS", "2 article(s)",
                     "Horaires"):
        assert fragment in text, fragment
    point = relay_request.relay_point
    assert point is not None
    assert point.name in text and point.address in text and f"{point.postcode} {point.city}" in text
    assert "Lun–Ven 07:00-20:00" in text  # the opening-hours summary, French day names
    assert "Tracking number" not in text and "letterbox" not in text.lower()


def test_english_letterbox_label(en_label: IssuedLabel) -> None:
    text = _text(en_label.pdf)
    for fragment in ("PREPAID RETURN", "Tracking number", "FROM", "TO", "LETTERBOX COLLECTION",
                     "put the parcel with this label in your letterbox", "collection day", "carrier collects it"):
        assert fragment in text, fragment
    assert "RELAY POINT" not in text and "DESTINATAIRE" not in text


def test_french_letterbox_instructions(carrier: DemoCarrier, letterbox_request: LabelRequest) -> None:
    text = _text(carrier.issue_label(dataclasses.replace(letterbox_request, locale="fr-BE")).pdf)
    assert "COLLECTE EN BOÎTE AUX LETTRES" in text
    assert "jour de la collecte" in text and "dans votre boîte aux lettres" in text


def test_metadata_carries_the_code(fr_label: IssuedLabel) -> None:
    meta = pypdf.PdfReader(io.BytesIO(fr_label.pdf)).metadata
    assert meta is not None
    assert meta.subject == CODE
    assert f"return_code={CODE}" in meta["/Keywords"]
    assert f"tracking_number={fr_label.tracking_number}" in meta["/Keywords"]


# --- scanning ------------------------------------------------------------------


@pytest.mark.parametrize("which", ["fr_label", "en_label"])
def test_qr_and_code128_decode_to_the_return_code(which: str, request: pytest.FixtureRequest) -> None:
    label: IssuedLabel = request.getfixturevalue(which)
    found = _decode(label.pdf)
    assert found.get("QRCode") == [CODE]
    assert found.get("Code128") == [CODE]


def test_long_names_and_a_long_code_still_scan(carrier: DemoCarrier, relay_request: LabelRequest) -> None:
    long = "Établissements Très-Longuement-Nommés du Faubourg Saint-Antoine et Associés " * 2
    code = "RT-" + "7K3F9QXM" * 2
    req = dataclasses.replace(
        relay_request, return_code=code, sender=dataclasses.replace(SENDER, name=long, line1=long, line2=long),
    )
    label = carrier.issue_label(req)
    found = _decode(label.pdf)
    assert found.get("QRCode") == [code] and found.get("Code128") == [code]
    assert "…" in _text(label.pdf)  # truncated, not overflowing the page


def test_characters_outside_latin1_are_substituted(carrier: DemoCarrier, relay_request: LabelRequest) -> None:
    req = dataclasses.replace(relay_request, sender=dataclasses.replace(SENDER, name="Łucja Ștefănescu 😀"))
    text = _text(carrier.issue_label(req).pdf)
    assert "Lucja Stefanescu ?" in text
    assert pdf_safe("é ü ß € œ Ø") == "é ü ß € œ Ø"
    assert pdf_safe("Иван\x07") == "????"


# --- determinism and validation ------------------------------------------------


def test_tracking_number_is_deterministic(carrier: DemoCarrier, relay_request: LabelRequest,
                                          fr_label: IssuedLabel) -> None:
    again = carrier.issue_label(relay_request)
    assert again.tracking_number == fr_label.tracking_number == tracking_number_for(relay_request.return_id)
    assert again.pdf == fr_label.pdf  # byte-identical: a retried step rewrites the same S3 object
    other = carrier.issue_label(dataclasses.replace(relay_request, return_id="ret_other"))
    assert other.tracking_number != fr_label.tracking_number


def test_tracking_number_format_and_check_digit() -> None:
    numbers = {tracking_number_for(f"ret_{i}") for i in range(500)}
    assert len(numbers) == 500
    for tn in numbers:
        assert tn.startswith("LC") and len(tn) == 13 and tn[2:].isdigit()
        assert is_valid_tracking_number(tn)
        # Any single-digit typo is caught by the Luhn digit.
        pos = 2 + int(tn[5])
        typo = tn[:pos] + str((int(tn[pos]) + 1) % 10) + tn[pos + 1:]
        assert not is_valid_tracking_number(typo)
    assert not is_valid_tracking_number("LC123")
    assert not is_valid_tracking_number("XX" + next(iter(numbers))[2:])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"relay_point": None}, "relay_point_id"),
        ({"dropoff_method": "drone"}, "dropoff_method"),
        ({"return_code": "RT 7K3F"}, "return_code"),
        ({"return_code": "RT-É"}, "return_code"),
        ({"return_code": ""}, "return_code"),
        ({"items_count": 0}, "items_count"),
        ({"return_id": " "}, "return_id"),
        ({"warehouse": Address(name="", line1="", postcode="06600", city="Antibes", country="FR")}, "warehouse"),
        ({"dropoff_method": "letterbox", "relay_point": None,
          "sender": Address(name="Zoë", line1="", postcode="75011", city="Paris", country="FR")}, "sender"),
    ],
)
def test_bad_requests_name_the_field(carrier: DemoCarrier, relay_request: LabelRequest, change: dict,
                                     field: str) -> None:
    with pytest.raises(CarrierError) as err:
        carrier.issue_label(dataclasses.replace(relay_request, **change))
    assert err.value.field == field


def test_sender_without_name_is_accepted_for_relay_point(carrier: DemoCarrier, relay_request: LabelRequest) -> None:
    # Orders may come without a customer name; the relay-point label must still be issued.
    req = dataclasses.replace(relay_request, sender=Address(name="", line1="", postcode="", city="", country=""))
    assert CODE in _text(carrier.issue_label(req).pdf)


def test_unknown_relay_point_is_refused(carrier: DemoCarrier, relay_request: LabelRequest) -> None:
    assert relay_request.relay_point is not None
    forged = dataclasses.replace(relay_request.relay_point, id="LC-FR-00000-99")
    with pytest.raises(CarrierError) as err:
        carrier.issue_label(dataclasses.replace(relay_request, relay_point=forged))
    assert err.value.field == "relay_point_id"


def test_every_demo_label_says_it_is_no_carrier_label(fr_label: IssuedLabel, en_label: IssuedLabel) -> None:
    """Issue 29: nobody may take a demo label for a carrier's; its codes still scan under the mark."""
    for label in (fr_label, en_label):
        assert _text(label.pdf).count("DEMO — not a carrier label") >= 1
        assert label.carrier == "demo"
    codes = _decode(fr_label.pdf)
    assert codes["QRCode"] and codes["Code128"]


def test_the_demo_label_is_also_paperless_a_qr_png_of_the_return_code(fr_label: IssuedLabel,
                                                                      relay_request: LabelRequest) -> None:
    from PIL import Image

    assert fr_label.qr_png is not None and fr_label.qr_png.startswith(b"\x89PNG")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(fr_label.qr_png)))
    assert [r.text for r in found] == [relay_request.return_code]


def test_a_post_office_label_says_where_to_drop_it(carrier: DemoCarrier, letterbox_request: LabelRequest) -> None:
    request = dataclasses.replace(letterbox_request, dropoff_method="post_office")
    assert "DROP OFF AT A POST OFFICE" in _text(carrier.issue_label(request).pdf)
