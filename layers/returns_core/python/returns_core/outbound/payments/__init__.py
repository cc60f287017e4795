"""Payment providers behind one interface: `get_provider(name).refund(request)`.

Importing this package does not import the Stripe SDK (cold start).
"""
from __future__ import annotations

from .base import (
    IDEMPOTENCY_METADATA_KEY,
    PaymentError,
    PaymentProvider,
    PermanentPaymentError,
    RefundRequest,
    RefundResult,
    TransientPaymentError,
)
from .manual_provider import InvalidManualReference, ManualProvider, ManualRefundPending, record_manual_refund
from .stripe_provider import StripeProvider

__all__ = [
    "IDEMPOTENCY_METADATA_KEY",
    "InvalidManualReference",
    "ManualProvider",
    "ManualRefundPending",
    "PaymentError",
    "PaymentProvider",
    "PermanentPaymentError",
    "RefundRequest",
    "RefundResult",
    "StripeProvider",
    "TransientPaymentError",
    "get_provider",
    "record_manual_refund",
]

_PROVIDERS = {"stripe": StripeProvider, "manual": ManualProvider}


def get_provider(name: str) -> PaymentProvider:
    """A new provider for `name` ("stripe" or "manual"); configuration is read on first use."""
    if name == "store_credit":
        raise KeyError("store credit is paid by returns_core.usecases.settlement "
                       "(it needs the database), not by a payment provider")
    try:
        return _PROVIDERS[name]()
    except KeyError:
        raise KeyError(f"unknown payment provider {name!r}; "
                       f"known: {', '.join(sorted(_PROVIDERS))}, store_credit") from None
