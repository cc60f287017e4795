"""One record opened by its id, for the API to decide who may see it before anything is shown (a
return, a claim), and a return's label as the PDF the customer prints."""
from __future__ import annotations

from ..outbound import label_store
from ..store import claims, returns
from ..store.models import ClaimModel, ReturnModel


def get_return(return_id: str) -> ReturnModel:
    """ReturnNotFound (rules.errors) when there is none."""
    return returns.get(return_id)


def get_claim(claim_id: str) -> ClaimModel:
    """A NotFoundError (rules.errors) when there is none."""
    return claims.get(claim_id)


def label_pdf(ret: ReturnModel) -> bytes | None:
    """The label's PDF; None before it was issued."""
    label = ret.label or {}
    return label_store.read(label["s3_key"]) if label.get("s3_key") else None
