"""Stripe refunds through the official SDK, paid at most once per idempotency key.

Before creating a refund we ask Stripe what it already did for the key (the
key travels in the refund's metadata), because a call that timed out after
Stripe had paid must not pay again on retry. Stripe's own `Idempotency-Key`
only covers 24 hours and is ignored by localstripe; the metadata lookup does not
depend on either. Concurrent calls for one key are kept out upstream, by the pay
path (usecases/movements.py `pay`): a lease on the owner's record (a return, a
claim) lets one invocation at a time call the provider for a movement, and the
key is derived from the movement (rules/settlement.py: `idempotency_key` for a
return's refund, `movement_key` for the others), so every retry asks for the
same refund. Powertools idempotency is not used.

`stripe` is imported inside the methods: it costs about half a second of
Lambda cold start and most invocations of the layer never pay anyone.

Configuration, read on first use: STRIPE_API_KEY or STRIPE_SECRET_ARN (required), STRIPE_API_BASE
(optional, e.g. localstripe), STRIPE_TIMEOUT_SECONDS (default 10),
STRIPE_MAX_NETWORK_RETRIES (default 1, at most 1: Step Functions retries).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .base import (
    IDEMPOTENCY_METADATA_KEY,
    PaymentError,
    PermanentPaymentError,
    RefundRequest,
    RefundResult,
    TransientPaymentError,
)

if TYPE_CHECKING:  # pragma: no cover
    import stripe

__all__ = ["StripeProvider", "map_stripe_error"]

logger = logging.getLogger(__name__)

PROVIDER = "stripe"
DEFAULT_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 3.0
MAX_SDK_RETRIES = 1
_LIVE_STATUSES = ("succeeded", "pending", "requires_action")


class StripeProvider:
    name = PROVIDER

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_base: str | None = None,
        timeout: float | None = None,
        max_network_retries: int | None = None,
    ) -> None:
        # Nothing is read from the environment here: tests and the local stack
        # set it after import.
        self._api_key = api_key
        self._api_base = api_base
        self._timeout = timeout
        self._max_network_retries = max_network_retries
        self._client: stripe.StripeClient | None = None

    # -- the interface -----------------------------------------------------

    def find_refund(self, request: RefundRequest) -> RefundResult | None:
        _check_reference(request)
        return _match(request, self._list_refunds(request.payment_reference))

    def refund(self, request: RefundRequest) -> RefundResult:
        _check_reference(request)
        refunds = self._list_refunds(request.payment_reference)
        found = _match(request, refunds)
        if found is not None:
            logger.info("stripe refund recovered", extra={"idempotency_key": request.idempotency_key,
                                                          "reference": found.reference})
            return found

        self._check_refundable(request, refunds)
        with _stripe_call("creating the refund"):
            created = self._stripe().v1.refunds.create(
                params={
                    "payment_intent": request.payment_reference,
                    "amount": request.amount,
                    "metadata": request.provider_metadata(),
                },
                options={"idempotency_key": request.idempotency_key},
            ).to_dict()
        result = _result(request, created, recovered=False)
        logger.info("stripe refund created", extra={"idempotency_key": request.idempotency_key,
                                                    "reference": result.reference, "status": result.status})
        return result

    # -- helpers -----------------------------------------------------------

    def _stripe(self) -> stripe.StripeClient:
        if self._client is None:
            import stripe

            api_key = self._api_key or _api_key_from_environment()
            if not api_key:
                raise PermanentPaymentError("STRIPE_API_KEY is not set", code="not_configured", provider=PROVIDER)
            api_base = self._api_base or os.environ.get("STRIPE_API_BASE") or None
            timeout = (self._timeout if self._timeout is not None
                       else _env_float("STRIPE_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
            retries = self._max_network_retries
            if retries is None:
                retries = int(_env_float("STRIPE_MAX_NETWORK_RETRIES", MAX_SDK_RETRIES))
            self._client = stripe.StripeClient(
                api_key,
                base_addresses={"api": api_base.rstrip("/")} if api_base else None,
                max_network_retries=max(0, min(retries, MAX_SDK_RETRIES)),
                http_client=stripe.RequestsClient(timeout=(min(CONNECT_TIMEOUT_SECONDS, timeout), timeout)),
            )
        return self._client

    def _list_refunds(self, payment_intent: str) -> list[dict[str, Any]]:
        with _stripe_call("listing refunds"):
            page = self._stripe().v1.refunds.list(params={"payment_intent": payment_intent, "limit": 100})
            return [r.to_dict() for r in page.auto_paging_iter()]

    def _check_refundable(self, request: RefundRequest, refunds: list[dict[str, Any]]) -> None:
        """Refuse, before any money moves, what Stripe would refuse or silently
        get wrong: another currency, an uncaptured payment, more than remains."""
        with _stripe_call("reading the payment"):
            pi = self._stripe().v1.payment_intents.retrieve(request.payment_reference).to_dict()
        currency = str(pi.get("currency", "")).upper()
        if currency != request.currency:
            raise PermanentPaymentError(
                f"payment {request.payment_reference} is in {currency or '?'}, the refund is in {request.currency}",
                code="currency_mismatch", provider=PROVIDER)
        if pi.get("status") != "succeeded":
            raise PermanentPaymentError(
                f"payment {request.payment_reference} is {pi.get('status')!r}, not captured",
                code="payment_not_captured", provider=PROVIDER)
        captured = pi.get("amount_received")
        if captured is None:  # localstripe leaves it out
            captured = pi.get("amount", 0)
        refunded = sum(int(r.get("amount") or 0) for r in refunds if r.get("status") in _LIVE_STATUSES)
        if refunded + request.amount > captured:
            raise PermanentPaymentError(
                f"refund of {request.amount} exceeds what remains on {request.payment_reference} "
                f"(captured {captured}, already refunded {refunded})",
                code="exceeds_captured", provider=PROVIDER)


def _check_reference(request: RefundRequest) -> None:
    if not request.payment_reference.startswith("pi_"):
        raise PermanentPaymentError(
            f"{request.payment_reference!r} is not a Stripe PaymentIntent id (pi_...)",
            code="invalid_payment_reference", provider=PROVIDER)


def _match(request: RefundRequest, refunds: list[dict[str, Any]]) -> RefundResult | None:
    mine = [r for r in refunds if (r.get("metadata") or {}).get(IDEMPOTENCY_METADATA_KEY) == request.idempotency_key]
    if not mine:
        return None
    live = sorted((r for r in mine if r.get("status") in _LIVE_STATUSES),
                  key=lambda r: (r.get("created") or 0, r["id"]))
    if not live:
        dead = mine[0]
        # The money did not move; paying again needs a new key (the next refund number).
        raise PermanentPaymentError(
            f"refund {dead['id']} for {request.idempotency_key} is {dead.get('status')} at Stripe; "
            "issue it again under the next refund number",
            code="refund_failed", provider=PROVIDER)
    if len(live) > 1:
        logger.error("several stripe refunds carry one idempotency key",
                     extra={"idempotency_key": request.idempotency_key, "references": [r["id"] for r in live]})
    return _result(request, live[0], recovered=True)


def _result(request: RefundRequest, refund: dict[str, Any], *, recovered: bool) -> RefundResult:
    status = refund.get("status")
    if status not in _LIVE_STATUSES:
        raise PermanentPaymentError(f"refund {refund.get('id')} is {status} at Stripe",
                                    code="refund_failed", provider=PROVIDER)
    amount, currency = refund.get("amount"), str(refund.get("currency", "")).upper()
    if amount != request.amount or currency != request.currency:
        raise PermanentPaymentError(
            f"refund {refund.get('id')} for {request.idempotency_key} is {amount} {currency}, "
            f"not {request.amount} {request.currency}: the key was reused for another refund",
            code="idempotency_key_reused", provider=PROVIDER)
    return RefundResult(
        reference=refund["id"],
        status="succeeded" if status == "succeeded" else "pending",
        amount=amount,
        currency=currency,
        recovered=recovered,
    )


@contextmanager
def _stripe_call(action: str) -> Iterator[None]:
    import stripe

    try:
        yield
    except stripe.StripeError as exc:
        raise map_stripe_error(exc, action) from exc


def map_stripe_error(exc: Exception, action: str = "calling Stripe") -> PaymentError:
    """A Stripe SDK error as a PaymentError: transient when retrying may help."""
    import stripe

    status = getattr(exc, "http_status", None)
    code = getattr(exc, "code", None)
    text = getattr(exc, "user_message", None) or getattr(exc, "_message", None) or str(exc) or type(exc).__name__
    where = f"Stripe failed {action}: {text} (http {status or '-'}"
    where += f", code {code})" if code else ")"

    if isinstance(exc, stripe.APIConnectionError):
        return TransientPaymentError(f"Stripe unreachable {action}: {text}", code="connection", provider=PROVIDER)
    if isinstance(exc, stripe.RateLimitError):
        return TransientPaymentError(where, code=code or "rate_limited", provider=PROVIDER)
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return PermanentPaymentError(f"Stripe refused our API key {action}: {text}", code="not_authorised",
                                     provider=PROVIDER)
    if isinstance(exc, stripe.IdempotencyError):
        return PermanentPaymentError(where, code="idempotency_conflict", provider=PROVIDER)
    if isinstance(exc, stripe.CardError):
        return PermanentPaymentError(where, code=code or "card_error", provider=PROVIDER)
    if isinstance(exc, stripe.InvalidRequestError):
        if status == 404:
            return PermanentPaymentError(where, code=code or "resource_missing", provider=PROVIDER)
        return PermanentPaymentError(where, code=code or "invalid_request", provider=PROVIDER)
    if status is None or status == 409 or status >= 500:
        # APIError without a status is an unreadable answer; 409 is a lock
        # conflict on Stripe's side: both are worth the same request again.
        return TransientPaymentError(where, code=code or "provider_unavailable", provider=PROVIDER)
    return PermanentPaymentError(where, code=code or "provider_refused", provider=PROVIDER)


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise PermanentPaymentError(f"{name} must be a number, not {raw!r}", code="not_configured",
                                    provider=PROVIDER) from None


def _api_key_from_environment() -> str:
    """The key from Secrets Manager (STRIPE_SECRET_ARN, as deployed) or STRIPE_API_KEY."""
    if os.environ.get("STRIPE_SECRET_ARN"):
        from .. import secret_store

        return secret_store.get("STRIPE_SECRET")
    return os.environ.get("STRIPE_API_KEY", "")
