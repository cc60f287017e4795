"""Issuing a return's prepaid label: carrier tracking number, PDF in S3; and what happens when it cannot be.

A label that cannot be issued (no address to collect the parcel from, a carrier refusing the request)
is not retried forever nor left in `requested`: the workflow catches the step's failure, the return goes
to `label_failed` (ops alerted, the customer sees it), and `retry` sends it back to `requested` with a
new drop-off choice or as it was, for the workflow to issue the label again.
"""
from __future__ import annotations

from .. import config
from ..outbound import carriers, label_store
from ..rules import policy_document, statuses
from ..rules.errors import UnprocessableError
from ..rules.shapes import Address, Customer, Dropoff
from ..store import returns, writes
from ..store.models import OrderModel, ReturnModel
from . import lifecycle, orders


def warehouse_address() -> carriers.Address:
    return carriers.Address(
        name=config.setting("WAREHOUSE_NAME", "Returns Centre"),
        line1=config.setting("WAREHOUSE_LINE1", "12 rue des Entrepôts"),
        postcode=config.setting("WAREHOUSE_POSTCODE", "93200"),
        city=config.setting("WAREHOUSE_CITY", "Saint-Denis"),
        country=config.setting("WAREHOUSE_COUNTRY", "FR"))


def dropoff_for(order: OrderModel, dropoff: dict, policy_carriers: dict | None = None) -> dict:
    """The drop-off a return records: its relay point, or the address its parcel leaves from (collected
    from its letterbox, or taken to a post office: the one given, else the order's shipping address), and
    the carrier that issues its label: the customer's pick (`dropoff.carrier`), else the store's policy
    preference for the country and method (`policy_carriers`), else the first configured one serving them.
    422 naming the field when there is none."""
    method, wanted = dropoff["method"], dropoff.get("carrier")
    if method == "relay_point":
        point_id = dropoff.get("relay_point_id") or ""
        point = next((p for c in carriers.configured_ids()
                      if (p := carriers.get_carrier(c).get_relay_point(point_id)) is not None), None)
        if point is None:
            raise UnprocessableError("unknown relay point", field="dropoff.relay_point_id", code="unknown_relay_point")
        return {"method": method, "relay_point": point.to_api(),
                "carrier": _carrier(point.country, method, wanted, policy_carriers, owner_of=point_id)}
    address = dropoff.get("address") or order.shipping_address
    if not address:
        raise UnprocessableError("a collection address is needed", field="dropoff.address")
    return {"method": method, "address": address,
            "carrier": _carrier(address.get("country") or "", method, wanted, policy_carriers)}


def carriers_for(country: str, policy_carriers: dict | None) -> dict[str, str | None]:
    """The carrier each drop-off method's label would go with in this country (POST /policy/simulate)."""
    out: dict[str, str | None] = {}
    for method in carriers.DROPOFF_METHODS:
        try:
            out[method] = carriers.carrier_for(
                country, method, None, policy_document.carrier_preference(policy_carriers or {}, country, method)).name
        except carriers.CarrierError:
            out[method] = None
    return out


def _carrier(country: str, method: str, wanted: str | None, policy_carriers: dict | None,
             owner_of: str | None = None) -> str:
    preferred = policy_document.carrier_preference(policy_carriers or {}, country.strip().upper(), method)
    try:
        if owner_of is not None and not wanted:
            # A relay point belongs to one carrier's network: the one that knows it.
            wanted = next(c for c in carriers.configured_ids()
                          if carriers.get_carrier(c).get_relay_point(owner_of) is not None)
        return carriers.carrier_for(country, method, wanted, preferred).name
    except carriers.CarrierError as exc:
        field = "dropoff.address.country" if exc.field == "country" else exc.field
        raise UnprocessableError(str(exc), field=field, code="carrier_unavailable") from None


def sender(customer: Customer, dropoff: Dropoff, shipping_address: Address | None) -> carriers.Address:
    """The label's FROM: where a letterbox parcel is collected (the return's collection address) when
    one is given, else the order's shipping address; the name on it, else the customer's."""
    where: Address = (dropoff.get("address") if dropoff.get("method") in ("letterbox", "post_office") else None) \
        or shipping_address or {}
    return carriers.Address(name=where.get("name") or customer.get("name") or "", line1=where.get("line1") or "",
                            postcode=where.get("postcode") or "", city=where.get("city") or "",
                            country=where.get("country") or "", line2=where.get("line2") or "")


def issue(return_id: str, *, entered_with: str | None = None, keep_item: bool = False) -> str:
    """Idempotent: a retried step reuses the label already stored. A request the carrier cannot act on
    raises CarrierError: the workflow's Catch moves the return to `label_failed` (`mark_failed`).

    `entered_with`: the status the workflow entered the label step with (it is the execution's first
    state); with no label to issue in it (rules.statuses.issues_label_in), nothing is read or written and
    lifecycle.ReturnRerouted hands the execution to Route."""
    if entered_with is not None and not statuses.issues_label_in(entered_with, keep_item=keep_item):
        raise lifecycle.ReturnRerouted("label", entered_with)
    ret = returns.get(return_id)
    if ret.status != statuses.REQUESTED:
        return ret.status
    if not ret.label:
        order = orders.get(ret.order_id)
        dropoff = ret.dropoff
        point = dropoff.get("relay_point")
        # Returns recorded before carriers were chosen per return went with the demo carrier.
        carrier = carriers.get_carrier(dropoff.get("carrier") or "demo")
        request = carriers.LabelRequest(
            return_id=ret.return_id, return_code=ret.code,
            sender=sender(order.customer, dropoff, order.shipping_address),
            warehouse=warehouse_address(), dropoff_method=dropoff["method"],
            relay_point=carrier.get_relay_point(point["id"]) if point else None,
            items_count=sum(int(i["qty"]) for i in ret.items), locale=ret.locale)
        issued = _issue(carrier, request)
        label = {"tracking_number": issued.tracking_number, "code": ret.code, "carrier": issued.carrier}
        if issued.pdf:
            label["s3_key"] = label_store.put(ret.return_id, issued.pdf, issued.label_format)
        if issued.qr_png:
            label["qr_s3_key"] = label_store.put_qr(ret.return_id, issued.qr_png)

        def decide(current: ReturnModel) -> writes.Update | None:
            # While the carrier printed, others may have written the return (the API records the withdrawal's
            # acknowledgement, a message sent, after the workflow started): read again, the label is still
            # this step's to store, unless a retried step stored one first or the return moved on.
            if current.label or current.status != statuses.REQUESTED:
                return None
            return writes.Update([ReturnModel.label.set(label),
                                  ReturnModel.tracking_number.set(issued.tracking_number)])

        writes.update(ret, decide, busy=lambda: RuntimeError("the return kept changing while its label was stored"))
    lifecycle.transition(ret, statuses.AWAITING_DROPOFF, actor="system", event="label.issued",
                         detail={"tracking_number": ret.tracking_number}, allowed_from={statuses.REQUESTED})
    return ret.status


def _issue(carrier: carriers.CarrierAdapter, request: carriers.LabelRequest) -> carriers.IssuedLabel:
    """The demo prints here; a real carrier is asked through karrio with the credentials the store set
    (read here, in the label function, and nowhere else)."""
    if not isinstance(carrier, carriers.KarrioCarrier):
        return carrier.issue_label(request)
    try:
        return carrier.issue_label(request, carriers.credentials_of(carrier.id))
    except carriers.CarrierUnavailable as exc:
        # The state machine retries TransientError with backoff, then the return goes to label_failed with
        # this reason; a refusal (CarrierError) goes there at once. Imported here: only the label step.
        from ..edge.steps import TransientError

        raise TransientError(str(exc)) from None


def mark_failed(ret: ReturnModel, error: str) -> None:
    """The label step failed for good: `label_failed`, visible to the customer, ops alerted (effects.py).
    Only the error's type is kept: a carrier's message may quote the customer's address."""
    lifecycle.transition(ret, statuses.LABEL_FAILED, actor="system", event="label.failed",
                         detail={"error": str(error)[:100]}, allowed_from={statuses.REQUESTED})


def retry(return_id: str, dropoff: dict | None, note: str | None, actor: str) -> ReturnModel:
    """Issue the label again: with a new drop-off choice (a relay point, another collection address), or
    as it was once ops fixed the cause. The workflow's label wait resumes and issues it."""
    ret = returns.get(return_id)
    updates = []
    if dropoff is not None:
        updates.append(ReturnModel.dropoff.set(dropoff_for(orders.get(ret.order_id), dropoff)))
    detail = {"method": dropoff["method"]} if dropoff else {}
    if note:
        detail["note"] = note
    lifecycle.transition(ret, statuses.REQUESTED, actor=actor, event="label.retry_requested", detail=detail or None,
                         allowed_from={statuses.LABEL_FAILED}, updates=updates)
    return ret


def presigned_url(ret: ReturnModel, seconds: int = 3600) -> str | None:
    label = ret.label
    if not label or not label.get("s3_key"):
        return None
    return label_store.presigned_url(label["s3_key"], seconds)


def qr_presigned_url(ret: ReturnModel, seconds: int = 3600) -> str | None:
    """The paperless label's QR code (a PNG the customer shows at the counter), when the carrier gave one."""
    label = ret.label
    if not label or not label.get("qr_s3_key"):
        return None
    return label_store.presigned_url(label["qr_s3_key"], seconds)
