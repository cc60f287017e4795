"""StripeProvider against a real localstripe (tests.payments_support).

localstripe ignores idempotency keys and accepts over-refunds, so every
"paid once" assertion here is carried by our own code, and a regression shows
up as a second refund in the provider's list.
"""
from __future__ import annotations

import pickle
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import stripe

from returns_core.outbound.payments import (
    PaymentError,
    PermanentPaymentError,
    RefundRequest,
    StripeProvider,
    TransientPaymentError,
    get_provider,
)
from returns_core.outbound.payments.stripe_provider import map_stripe_error
from returns_core.rules.settlement import idempotency_key as refund_idempotency_key

from tests.payments_support import (
    create_captured_payment_intent,
    free_port,
    list_refunds,
    running_localstripe,
    stripe_client,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def stripe_env(monkeypatch, localstripe_url):
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_local")
    monkeypatch.setenv("STRIPE_API_BASE", localstripe_url)
    for name in ("STRIPE_TIMEOUT_SECONDS", "STRIPE_MAX_NETWORK_RETRIES"):
        monkeypatch.delenv(name, raising=False)
    return localstripe_url


@pytest.fixture
def provider(stripe_env):
    return get_provider("stripe")


@pytest.fixture
def payment(localstripe_url) -> str:
    return create_captured_payment_intent(localstripe_url, amount=12997, currency="EUR")


def request_for(pi: str, n: int = 1, amount: int = 2499, currency: str = "EUR",
                return_id: str = "ret_1") -> RefundRequest:
    return RefundRequest(
        idempotency_key=refund_idempotency_key(return_id, n),
        payment_reference=pi,
        amount=amount,
        currency=currency,
        metadata={"return_id": return_id, "order_id": "ord_1"},
    )


# -- paid once --------------------------------------------------------------

def test_refund_pays_and_a_repeat_is_recovered_not_paid_again(provider, payment, localstripe_url):
    req = request_for(payment)

    first = provider.refund(req)
    assert first.status == "succeeded"
    assert first.reference.startswith("re_")
    assert (first.amount, first.currency, first.recovered) == (2499, "EUR", False)
    refunds = list_refunds(localstripe_url, payment)
    assert [r["id"] for r in refunds] == [first.reference]
    assert refunds[0]["metadata"] == {"return_id": "ret_1", "order_id": "ord_1", "idempotency_key": "ret_1:refund:1"}

    again = provider.refund(req)
    assert again.recovered is True
    assert (again.reference, again.status, again.amount, again.currency) == (first.reference, "succeeded", 2499, "EUR")
    assert len(list_refunds(localstripe_url, payment)) == 1

    # A fresh provider (another Lambda container) sees the same thing.
    assert get_provider("stripe").refund(req).reference == first.reference
    assert len(list_refunds(localstripe_url, payment)) == 1


def test_crash_after_the_provider_call_is_recovered(provider, payment, localstripe_url):
    req = request_for(payment)
    # The step paid, then died before recording it: only Stripe knows.
    paid = stripe_client(localstripe_url).v1.refunds.create(
        params={"payment_intent": payment, "amount": 2499, "metadata": req.provider_metadata()},
        options={"idempotency_key": req.idempotency_key},
    )

    result = provider.refund(req)

    assert result.recovered is True
    assert result.reference == paid.id
    assert len(list_refunds(localstripe_url, payment)) == 1


def test_find_refund_reports_what_the_provider_did_for_the_key(provider, payment):
    req = request_for(payment)
    assert provider.find_refund(req) is None
    paid = provider.refund(req)
    found = provider.find_refund(req)
    assert found is not None and found.recovered is True and found.reference == paid.reference
    assert provider.find_refund(request_for(payment, n=2)) is None


def test_a_different_key_is_a_second_refund(provider, payment, localstripe_url):
    one = provider.refund(request_for(payment, n=1))
    two = provider.refund(request_for(payment, n=2, amount=1000))
    assert one.reference != two.reference
    assert not one.recovered and not two.recovered
    assert sorted(r["amount"] for r in list_refunds(localstripe_url, payment)) == [1000, 2499]


def test_localstripe_really_double_pays_on_a_repeated_idempotency_key(payment, localstripe_url):
    """The premise of the lookup: if this starts failing, localstripe learned
    idempotency keys and the harness no longer catches a double payment."""
    client = stripe_client(localstripe_url)
    for _ in range(2):
        client.v1.refunds.create(params={"payment_intent": payment, "amount": 100},
                                 options={"idempotency_key": "same-key"})
    assert len(list_refunds(localstripe_url, payment)) == 2


# -- refused before paying ----------------------------------------------------

def test_more_than_remains_is_refused_before_paying(provider, payment, localstripe_url):
    with pytest.raises(PaymentError) as err:
        provider.refund(request_for(payment, amount=12998))
    assert err.value.transient is False and err.value.code == "exceeds_captured"

    provider.refund(request_for(payment, n=1, amount=10000))
    with pytest.raises(PermanentPaymentError, match="already refunded 10000"):
        provider.refund(request_for(payment, n=2, amount=2998))
    provider.refund(request_for(payment, n=3, amount=2997))  # exactly what remains
    assert sum(r["amount"] for r in list_refunds(localstripe_url, payment)) == 12997


def test_another_currency_is_refused_before_paying(provider, payment, localstripe_url):
    with pytest.raises(PaymentError) as err:
        provider.refund(request_for(payment, currency="USD"))
    assert err.value.transient is False and err.value.code == "currency_mismatch"
    assert list_refunds(localstripe_url, payment) == []


def test_unknown_payment_intent_is_permanent(provider):
    with pytest.raises(PaymentError) as err:
        provider.refund(request_for("pi_doesnotexist"))
    assert err.value.transient is False
    assert err.value.provider == "stripe"
    assert "Stripe failed" in str(err.value) and "404" in str(err.value)


def test_not_a_payment_intent_is_permanent_without_calling_stripe(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_local")
    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")  # nobody there
    with pytest.raises(PaymentError) as err:
        get_provider("stripe").refund(request_for("ch_123"))
    assert err.value.transient is False and err.value.code == "invalid_payment_reference"


def test_same_key_for_another_amount_is_refused(provider, payment, localstripe_url):
    provider.refund(request_for(payment, amount=2499))
    with pytest.raises(PermanentPaymentError) as err:
        provider.refund(request_for(payment, amount=2500))
    assert err.value.code == "idempotency_key_reused"
    assert len(list_refunds(localstripe_url, payment)) == 1


def test_a_failed_refund_under_the_key_is_not_taken_for_paid(provider, payment, localstripe_url):
    req = request_for(payment)
    paid = provider.refund(req)
    # localstripe lets a test set the status Stripe would set asynchronously.
    stripe_client(localstripe_url).v1.refunds.update(paid.reference, params={"status": "failed"})
    with pytest.raises(PermanentPaymentError) as err:
        provider.refund(req)
    assert err.value.code == "refund_failed" and paid.reference in str(err.value)
    assert len(list_refunds(localstripe_url, payment)) == 1


def test_a_pending_refund_is_recovered_as_pending(provider, payment, localstripe_url):
    req = request_for(payment)
    paid = provider.refund(req)
    stripe_client(localstripe_url).v1.refunds.update(paid.reference, params={"status": "pending"})
    again = provider.refund(req)
    assert (again.status, again.recovered, again.reference) == ("pending", True, paid.reference)


# -- transient failures -------------------------------------------------------

def test_server_stopped_is_transient(monkeypatch):
    with running_localstripe() as url:
        pi = create_captured_payment_intent(url)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_local")
    monkeypatch.setenv("STRIPE_API_BASE", url)
    monkeypatch.setenv("STRIPE_MAX_NETWORK_RETRIES", "0")
    with pytest.raises(PaymentError) as err:
        get_provider("stripe").refund(request_for(pi))
    assert err.value.transient is True
    assert isinstance(err.value, TransientPaymentError)
    assert err.value.code == "connection"


def test_wrong_port_is_transient(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_local")
    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(PaymentError) as err:
        get_provider("stripe").find_refund(request_for("pi_123"))
    assert err.value.transient is True


def test_a_silent_server_times_out_transient_after_one_sdk_retry(monkeypatch):
    """Accepts connections and never answers: the request timeout fires, the
    SDK retries once (not more: Step Functions owns retries), then we give up."""
    connections = []
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        srv.settimeout(0.1)
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                try:
                    connections.append(srv.accept()[0])
                except OSError:
                    pass

        t = threading.Thread(target=accept, daemon=True)
        t.start()
        monkeypatch.setenv("STRIPE_API_KEY", "sk_test_local")
        monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{srv.getsockname()[1]}")
        monkeypatch.setenv("STRIPE_TIMEOUT_SECONDS", "0.3")
        monkeypatch.setenv("STRIPE_MAX_NETWORK_RETRIES", "5")  # capped at 1
        try:
            with pytest.raises(TransientPaymentError) as err:
                get_provider("stripe").refund(request_for("pi_123"))
        finally:
            stop.set()
            t.join(2)
            for c in connections:
                c.close()
    assert err.value.transient is True
    assert len(connections) == 2


# -- configuration and mapping --------------------------------------------------

def test_configuration_is_read_on_first_use_not_at_creation(monkeypatch, localstripe_url, payment):
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    p = get_provider("stripe")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_local")
    monkeypatch.setenv("STRIPE_API_BASE", localstripe_url)
    assert p.refund(request_for(payment)).status == "succeeded"


def test_missing_api_key_is_permanent(monkeypatch):
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    with pytest.raises(PermanentPaymentError, match="STRIPE_API_KEY"):
        StripeProvider().find_refund(request_for("pi_123"))


def test_explicit_arguments_override_the_environment(monkeypatch, localstripe_url, payment):
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_local")
    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    p = StripeProvider(api_base=localstripe_url)
    assert p.refund(request_for(payment)).recovered is False


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (stripe.APIConnectionError("timed out"), True),
        (stripe.RateLimitError("slow down", http_status=429, code="rate_limit"), True),
        (stripe.APIError("boom", http_status=500), True),
        (stripe.APIError("bad gateway", http_status=502), True),
        (stripe.APIError("unreadable answer"), True),
        (stripe.StripeError("lock timeout", http_status=409, code="lock_timeout"), True),
        (stripe.InvalidRequestError("No such payment_intent", None, code="resource_missing", http_status=404), False),
        (stripe.InvalidRequestError("Refund exceeds charge", "amount", code="charge_already_refunded",
                                    http_status=400), False),
        (stripe.CardError("card expired", None, "expired_card", http_status=402), False),
        (stripe.AuthenticationError("bad key", http_status=401), False),
        (stripe.PermissionError("no", http_status=403), False),
        (stripe.IdempotencyError("key reused", http_status=400), False),
    ],
)
def test_stripe_errors_map_to_transient_or_permanent(exc, transient):
    err = map_stripe_error(exc, "creating the refund")
    assert isinstance(err, PaymentError)
    assert err.transient is transient
    assert isinstance(err, TransientPaymentError if transient else PermanentPaymentError)
    assert err.provider == "stripe" and err.code


def test_payment_errors_survive_pickling():
    err = pickle.loads(pickle.dumps(TransientPaymentError("x", code="connection", provider="stripe")))
    assert (type(err), err.transient, err.code, err.provider, str(err)) == (
        TransientPaymentError, True, "connection", "stripe", "x")


def test_importing_payments_does_not_import_stripe():
    code = ("import sys; import returns_core.outbound.payments as p; p.get_provider('stripe'); "
            "assert 'stripe' not in sys.modules, 'stripe imported eagerly'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO,
                   env={"PYTHONPATH": str(REPO / "layers/returns_core/python"), "PATH": "/usr/bin:/bin"})
