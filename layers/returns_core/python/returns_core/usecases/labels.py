"""Issuing a return's prepaid label: carrier tracking number, PDF in S3."""
from __future__ import annotations

from .. import config
from ..outbound import carriers, label_store
from ..rules import statuses
from ..store import returns
from ..store.models import ReturnModel, plain
from . import lifecycle, orders


def warehouse_address() -> carriers.Address:
    return carriers.Address(
        name=config.setting("WAREHOUSE_NAME", "Returns Centre"),
        line1=config.setting("WAREHOUSE_LINE1", "12 rue des Entrepôts"),
        postcode=config.setting("WAREHOUSE_POSTCODE", "93200"),
        city=config.setting("WAREHOUSE_CITY", "Saint-Denis"),
        country=config.setting("WAREHOUSE_COUNTRY", "FR"))


def issue(return_id: str) -> str:
    """Idempotent: a retried step reuses the label already stored."""
    ret = returns.get(return_id)
    if ret.status != statuses.REQUESTED:
        return ret.status
    if not ret.label:
        order = orders.get(ret.order_id)
        customer = plain(order.customer)
        home = plain(order.shipping_address) or {}
        dropoff = plain(ret.dropoff)
        point = dropoff.get("relay_point")
        request = carriers.LabelRequest(
            return_id=ret.return_id, return_code=ret.code,
            sender=carriers.Address(name=customer.get("name") or "", line1=home.get("line1", ""),
                                    postcode=home.get("postcode", ""), city=home.get("city", ""),
                                    country=home.get("country", ""), line2=home.get("line2", "") or ""),
            warehouse=warehouse_address(), dropoff_method=dropoff["method"],
            relay_point=carriers.get_carrier().get_relay_point(point["id"]) if point else None,
            items_count=sum(int(i["qty"]) for i in plain(ret.items)), locale=ret.locale)
        issued = carriers.get_carrier().issue_label(request)
        key = label_store.put(ret.return_id, issued.pdf)
        ret.update(actions=[ReturnModel.label.set({"tracking_number": issued.tracking_number, "code": ret.code,
                                                   "s3_key": key}),
                            ReturnModel.tracking_number.set(issued.tracking_number)])
    lifecycle.transition(ret, statuses.AWAITING_DROPOFF, actor="system", event="label.issued",
                         detail={"tracking_number": ret.tracking_number}, allowed_from={statuses.REQUESTED})
    return ret.status


def presigned_url(ret: ReturnModel, seconds: int = 3600) -> str | None:
    label = plain(ret.label)
    if not label:
        return None
    return label_store.presigned_url(label["s3_key"], seconds)
