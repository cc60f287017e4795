"""A claim as the API shows it (GET /claims/{id}): its lines, status, resolution, photos, timeline."""
from __future__ import annotations

from ..rules.timeline import text
from ..store import claims
from ..store.models import ClaimModel
from .returns import customer_entry

# What the customer and staff see of ops' decision; who decided stays with staff.
RESOLUTION_FIELDS = ("decision", "note", "at", "amount", "method", "status", "reference", "issued_at")


def claim_view(claim: ClaimModel, lang: str = "en", photos: list[dict] | None = None, staff: bool = False,
               with_timeline: bool = True) -> dict:
    """`photos`: the checked photos with their view links (staff only; usecases.claims.photos_for_staff);
    otherwise each photo is listed by id only. A list leaves the timeline out (`with_timeline`)."""
    resolution = claim.resolution
    shown = None
    if resolution:
        shown = {k: resolution.get(k) for k in RESOLUTION_FIELDS if k in resolution}
        if staff:
            shown["by"] = resolution.get("by")
            shown["ledger_seq"] = resolution.get("ledger_seq")
    view = {
        "claim_id": claim.claim_id, "order_id": claim.order_id, "kind": claim.kind, "status": claim.status,
        "status_since": claim.status_since, "created_at": claim.created_at, "currency": claim.currency,
        "message": claim.message,
        "lines": [{"sku": line["sku"], "name": line.get("name"), "qty": int(line["qty"]),
                   "paid": int(line.get("paid") or 0)} for line in claim.lines],
        "resolution": shown,
        "photos": photos if photos is not None else [{"photo_id": p["photo_id"], "at": p.get("at")}
                                                     for p in claim.photos or []],
    }
    if with_timeline:
        entries = [{**e, "claim_id": claim.claim_id, "text": text(e, claim.currency, lang)}
                   for e in claims.timeline_of(claim)]
        # The customer's timeline through the same allow-list as a return's: no staff names, no internals.
        view["timeline"] = entries if staff else [customer_entry(e) for e in entries]
    return view
