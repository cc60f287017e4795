"""Manual refunds: finance pays offline (bank transfer, cheque) and records
the reference through the API afterwards. The workflow treats
`ManualRefundPending` as "wait for finance", not as a failure to retry.
"""
from __future__ import annotations

from .base import PaymentError, RefundRequest, RefundResult

__all__ = ["InvalidManualReference", "ManualProvider", "ManualRefundPending", "record_manual_refund"]

PROVIDER = "manual"
MAX_REFERENCE_LEN = 100


class ManualRefundPending(PaymentError):
    """Nothing was paid: finance has to pay offline and record the reference."""

    def __init__(self, message: str = "manual refund: waiting for finance to record the payment reference",
                 *, code: str | None = "manual_refund_pending", provider: str | None = PROVIDER,
                 transient: bool = False) -> None:
        super().__init__(message, transient=False, code=code, provider=provider)


class InvalidManualReference(ValueError):
    """The reference finance typed cannot be recorded."""


def record_manual_refund(request: RefundRequest, reference: str) -> RefundResult:
    """The result of a refund that finance paid offline under `reference`."""
    if not isinstance(reference, str):
        raise InvalidManualReference("reference must be a string")
    ref = reference.strip()
    if not ref:
        raise InvalidManualReference("reference must not be empty")
    if len(ref) > MAX_REFERENCE_LEN:
        raise InvalidManualReference(f"reference must be at most {MAX_REFERENCE_LEN} characters")
    if not ref.isprintable():
        raise InvalidManualReference("reference must contain printable characters only")
    return RefundResult(reference=ref, status="succeeded", amount=request.amount,
                        currency=request.currency, recovered=False)


class ManualProvider:
    name = PROVIDER

    def refund(self, request: RefundRequest) -> RefundResult:
        raise ManualRefundPending(
            f"manual refund of {request.amount} {request.currency} for {request.idempotency_key}: "
            "waiting for finance to record the payment reference")

    def find_refund(self, request: RefundRequest) -> RefundResult | None:
        # What finance recorded lives in our ledger, not at a provider.
        return None

    def record_manual_refund(self, request: RefundRequest, reference: str) -> RefundResult:
        return record_manual_refund(request, reference)
