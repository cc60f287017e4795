"""Real carriers through karrio (PyPI `karrio` and its carrier extensions, LGPL, used as a library).

Only the mapping lives here: our LabelRequest becomes karrio's unified ShipmentRequest, and karrio's
ShipmentDetails becomes our IssuedLabel. karrio builds each carrier's own request, speaks HTTP and
parses the answer. karrio is imported inside `issue_label` only: every other Lambda imports this module
(GET /carriers lists the catalogue) without paying for it.

How each carrier is asked for a *return* label (what karrio offers, and what it lacks):
- DHL Parcel DE, GLS, bpost: karrio's return API (`is_return`: karrio swaps the addresses and calls the
  carrier's returns endpoint: DHL's Returns API with `labelType=BOTH` (PDF and QR), GLS ShipIT with
  `ReturnLabels`, bpost's `returnInstructions`).
- Colissimo: karrio has no return operation; a return is an ordinary label with Colissimo's return
  product (`CORE`, Colissimo Retour France) from the customer to the warehouse.
- EasyPost: karrio has no return operation and does not send EasyPost's `is_return`; the label is an
  ordinary shipment from the customer to the warehouse, with the service the store configured.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from .base import CarrierError, IssuedLabel, LabelRequest

# The nine countries the service serves; a carrier lists those it collects returns from.
EU9: tuple[str, ...] = ("AT", "BE", "DE", "ES", "FR", "IT", "LU", "NL", "PT")
# A returned parcel's weight when the return does not know it: carriers price and route on it.
DEFAULT_WEIGHT_KG = 1.0


class CarrierRefused(CarrierError):
    """The carrier (or karrio on its behalf) answered with errors: its own words are kept."""

    def __init__(self, carrier: str, messages: list[str]) -> None:
        super().__init__(f"{carrier}: " + "; ".join(messages), field="carrier")
        self.carrier = carrier
        self.messages = messages


class CarrierUnavailable(RuntimeError):
    """No answer the carrier gave: a timeout, a 5xx, a body karrio could not read. Worth retrying (the
    label step raises it as TransientError, which the state machine retries with backoff)."""

    def __init__(self, carrier: str, reason: str) -> None:
        super().__init__(f"{carrier}: unavailable ({reason})")
        self.carrier = carrier


# karrio's code for an exception inside it (the connection, or an answer it could not parse), as opposed to
# the carrier's own error codes it parsed from an answer.
_KARRIO_INTERNAL = "SHIPPING_SDK_INTERNAL_ERROR"


@dataclass(frozen=True)
class KarrioCarrier:
    """One carrier karrio knows, as the service offers it for returns."""

    id: str                                 # ours, in GET /carriers and `dropoff.carrier`
    karrio_name: str                        # karrio's gateway name
    display_name: str
    served: tuple[str, ...]                 # the countries it collects returns from
    dropoff_methods: tuple[str, ...]
    label_formats: tuple[str, ...]
    service: str                            # karrio's service code for the return product
    return_operation: bool                  # karrio's own return operation (else an ordinary label to us)
    label_type: str | None = None
    demo = False
    name = property(lambda self: self.id)

    def countries(self) -> tuple[str, ...]:
        return self.served

    def get_relay_point(self, relay_point_id: str) -> None:
        return None     # karrio has no relay-point search for these carriers: drop-off at their counters

    def search_relay_points(self, postcode: str, country: str, limit: int = 5) -> list:
        raise CarrierError(f"{self.display_name} has no relay-point search here; drop off at a post office",
                           field="carrier")

    def shipment_request(self, request: LabelRequest, credentials: dict[str, Any]) -> dict[str, Any]:
        """karrio's unified ShipmentRequest for this return. karrio's return operation takes the outbound
        orientation (shipper = the store) and swaps; an ordinary label goes from the customer to us."""
        customer = _address(request.sender, email=None)
        warehouse = _address(request.warehouse, email=None, company=True)
        shipper, recipient = (warehouse, customer) if self.return_operation else (customer, warehouse)
        payload: dict[str, Any] = {
            "service": credentials.get("service") or self.service,
            "shipper": shipper,
            "recipient": recipient,
            "parcels": [{"weight": DEFAULT_WEIGHT_KG, "weight_unit": "KG"}],
            "reference": request.return_code,
            "is_return": self.return_operation,
        }
        if self.label_type:
            payload["label_type"] = self.label_type
        return payload

    def issue_label(self, request: LabelRequest, credentials: dict[str, Any] | None = None) -> IssuedLabel:
        if not credentials:
            raise CarrierError(f"carrier {self.id!r} is not configured: its credentials are not set", field="carrier")
        import karrio.sdk as karrio
        from loguru import logger

        # karrio logs through loguru, request bodies included at debug: addresses stay out of our logs.
        logger.disable("karrio")
        settings = {k: v for k, v in credentials.items() if k != "service"}
        try:
            gateway = karrio.gateway[self.karrio_name].create(settings)
        except Exception as exc:  # noqa: BLE001 - karrio raises its own types for settings it cannot use
            raise CarrierError(f"carrier {self.id!r}: its credentials are incomplete ({exc})", field="carrier") \
                from None
        shipment, messages = karrio.Shipment.create(self.shipment_request(request, credentials)) \
            .from_(gateway).parse()
        if shipment is None or not shipment.tracking_number:
            if all(m.code == _KARRIO_INTERNAL for m in messages):   # none at all: an empty 5xx
                raise CarrierUnavailable(self.id, "; ".join(m.message or "" for m in messages) or "no answer")
            raise CarrierRefused(self.id, [m.message or m.code or "no label" for m in messages])
        return issued_label(self.id, shipment)


def _address(address: Any, *, email: str | None, company: bool = False) -> dict[str, Any]:
    fields = {
        "person_name": address.name or None,
        "address_line1": address.line1,
        "address_line2": address.line2 or None,
        "postal_code": address.postcode,
        "city": address.city,
        "country_code": address.country,
        "email": email,
    }
    if company:
        fields["company_name"] = address.name
    return {k: v for k, v in fields.items() if v}


def _decoded(value: str | None) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        return None


def issued_label(carrier_id: str, shipment: Any) -> IssuedLabel:
    """karrio's ShipmentDetails as our label: the tracking number, the printable label (base64 in
    `docs.label`) and, where the carrier gives one, the QR code to show at the counter (DHL's
    `qr_label` extra document)."""
    docs = shipment.docs
    qr = next((d for d in (docs.extra_documents or []) if d.category == "qr_label"), None) if docs else None
    return IssuedLabel(tracking_number=str(shipment.tracking_number),
                       pdf=_decoded(docs.label if docs else None),
                       qr_png=_decoded(qr.base64 if qr else None),
                       carrier=carrier_id,
                       label_format=(shipment.label_type or "PDF").upper())


CATALOGUE: dict[str, KarrioCarrier] = {c.id: c for c in (
    KarrioCarrier("colissimo", "colissimo", "Colissimo", ("FR",), ("post_office",), ("pdf",),
                  service="colissimo_return_france", return_operation=False, label_type="PDF_10x15_300dpi"),
    KarrioCarrier("dhl_parcel_de", "dhl_parcel_de", "DHL Parcel Germany (returns)", EU9, ("post_office",),
                  ("pdf", "qr"), service="dhl_parcel_de_paket", return_operation=True),
    KarrioCarrier("gls", "gls", "GLS", EU9, ("post_office",), ("pdf",), service="gls_parcel",
                  return_operation=True),
    KarrioCarrier("bpost", "bpost", "bpost", ("BE",), ("post_office",), ("pdf",), service="bpack_24h_pro",
                  return_operation=True),
    KarrioCarrier("easypost", "easypost", "EasyPost", EU9, ("post_office",), ("pdf",),
                  service="easypost_dhlexpress_express_worldwide", return_operation=False),
)}
