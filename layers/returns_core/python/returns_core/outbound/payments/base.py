"""The payment provider interface: what every refund adapter takes and returns.

Refunds are keyed by an idempotency key that is fixed per refund
(`returns_core.rules.settlement.idempotency_key`) and reused on every retry, ops
retries included, so that a provider can tell "again" from "another".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = [
    "IDEMPOTENCY_METADATA_KEY",
    "PaymentError",
    "PaymentProvider",
    "PermanentPaymentError",
    "RefundRequest",
    "RefundResult",
    "TransientPaymentError",
]

# The metadata entry that carries the idempotency key to the provider, so a
# refund can be found again after a lost response (see StripeProvider.find_refund).
IDEMPOTENCY_METADATA_KEY = "idempotency_key"

REFUND_STATUSES = ("succeeded", "pending")

# Stripe's limits, which are also sane limits for any provider.
_MAX_KEY_LEN = 255
_MAX_METADATA_KEYS = 49  # Stripe allows 50; one is ours
_MAX_METADATA_KEY_LEN = 40
_MAX_METADATA_VALUE_LEN = 500


@dataclass(frozen=True)
class RefundRequest:
    idempotency_key: str
    payment_reference: str
    amount: int
    currency: str
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.idempotency_key, str) or not self.idempotency_key.strip():
            raise ValueError("idempotency_key must be a non-empty string")
        if len(self.idempotency_key) > _MAX_KEY_LEN:
            raise ValueError(f"idempotency_key must be at most {_MAX_KEY_LEN} characters")
        if not isinstance(self.payment_reference, str) or not self.payment_reference.strip():
            raise ValueError("payment_reference must be a non-empty string")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise ValueError("amount must be a positive integer number of minor units")
        c = self.currency
        if not (isinstance(c, str) and len(c) == 3 and c.isascii() and c.isalpha() and c.isupper()):
            raise ValueError("currency must be a 3-letter upper-case ISO 4217 code")
        if not isinstance(self.metadata, dict):
            raise ValueError("metadata must be a dict of strings")
        if len(self.metadata) > _MAX_METADATA_KEYS:
            raise ValueError(f"metadata has more than {_MAX_METADATA_KEYS} entries")
        for k, v in self.metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise ValueError("metadata keys and values must be strings")
            if not k or len(k) > _MAX_METADATA_KEY_LEN or len(v) > _MAX_METADATA_VALUE_LEN:
                raise ValueError("metadata key or value too long")
        if self.metadata.get(IDEMPOTENCY_METADATA_KEY, self.idempotency_key) != self.idempotency_key:
            raise ValueError(f"metadata[{IDEMPOTENCY_METADATA_KEY!r}] contradicts idempotency_key")

    def provider_metadata(self) -> dict[str, str]:
        """The metadata sent to the provider: the caller's plus the idempotency key."""
        return {**self.metadata, IDEMPOTENCY_METADATA_KEY: self.idempotency_key}


@dataclass(frozen=True)
class RefundResult:
    reference: str
    status: str  # "succeeded" | "pending"
    amount: int
    currency: str
    recovered: bool = False  # found already done at the provider, not created by this call

    def __post_init__(self) -> None:
        if self.status not in REFUND_STATUSES:
            raise ValueError(f"status must be one of {REFUND_STATUSES}, not {self.status!r}")


class PaymentError(Exception):
    """A provider refused or could not be reached.

    `transient` says whether retrying the same request may succeed (timeouts,
    5xx, rate limits) or not (unknown payment, refused, misconfigured).
    """

    def __init__(self, message: str, *, transient: bool, code: str | None = None, provider: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.transient = bool(transient)
        self.code = code
        self.provider = provider

    def __reduce__(self):  # keep keyword-only attributes through pickling
        return (_rebuild_error, (type(self), self.message, self.transient, self.code, self.provider))

    def to_dict(self) -> dict:
        return {"error": type(self).__name__, "message": self.message, "transient": self.transient,
                "code": self.code, "provider": self.provider}


def _rebuild_error(cls, message, transient, code, provider):
    err = cls.__new__(cls)
    PaymentError.__init__(err, message, transient=transient, code=code, provider=provider)
    return err


class TransientPaymentError(PaymentError):
    """Retry later with the same request. Its own class name so a state
    machine `Retry` can match it by `ErrorEquals`."""

    def __init__(self, message: str, *, code: str | None = None, provider: str | None = None,
                 transient: bool = True) -> None:
        super().__init__(message, transient=True, code=code, provider=provider)


class PermanentPaymentError(PaymentError):
    """Retrying the same request will not help; a person has to look."""

    def __init__(self, message: str, *, code: str | None = None, provider: str | None = None,
                 transient: bool = False) -> None:
        super().__init__(message, transient=False, code=code, provider=provider)


@runtime_checkable
class PaymentProvider(Protocol):
    name: str  # "stripe" | "manual" | "store_credit"

    def refund(self, request: RefundRequest) -> RefundResult:
        """Pay the refund once: returns what was done before for this key, or does it now."""
        ...

    def find_refund(self, request: RefundRequest) -> RefundResult | None:
        """What the provider already did for this request's idempotency key, if anything."""
        ...
