"""ManualProvider, get_provider and the RefundRequest/RefundResult contract (no server)."""
from __future__ import annotations

import pytest

from returns_core.outbound.payments import (
    InvalidManualReference,
    ManualProvider,
    ManualRefundPending,
    PaymentError,
    PaymentProvider,
    RefundRequest,
    RefundResult,
    StripeProvider,
    get_provider,
    record_manual_refund,
)
from returns_core.rules.settlement import idempotency_key as refund_idempotency_key


def make_request(**overrides) -> RefundRequest:
    fields = dict(idempotency_key="ret_1:refund:1", payment_reference="BANK-ORDER-1", amount=2499,
                  currency="EUR", metadata={"return_id": "ret_1", "order_id": "ord_1"})
    fields.update(overrides)
    return RefundRequest(**fields)


# -- manual provider ------------------------------------------------------------

def test_manual_refund_waits_for_finance():
    with pytest.raises(ManualRefundPending) as err:
        ManualProvider().refund(make_request())
    assert isinstance(err.value, PaymentError)
    assert err.value.transient is False
    assert err.value.code == "manual_refund_pending" and err.value.provider == "manual"
    assert "ret_1:refund:1" in str(err.value)


def test_manual_find_refund_knows_nothing():
    assert ManualProvider().find_refund(make_request()) is None


def test_recording_a_manual_refund():
    result = record_manual_refund(make_request(), "  VIR-2026-11-0042 ")
    assert result == RefundResult(reference="VIR-2026-11-0042", status="succeeded", amount=2499,
                                  currency="EUR", recovered=False)
    assert ManualProvider().record_manual_refund(make_request(), "chèque n°1234").reference == "chèque n°1234"


@pytest.mark.parametrize("reference", ["", "   ", "x" * 101, "VIR\n42", "VIR\t42", "a\x00b", None, 42])
def test_recording_rejects_a_bad_reference(reference):
    with pytest.raises(InvalidManualReference):
        record_manual_refund(make_request(), reference)


def test_recording_accepts_exactly_100_characters():
    assert len(record_manual_refund(make_request(), "R" * 100).reference) == 100


# -- get_provider -----------------------------------------------------------------

def test_get_provider_by_name():
    assert isinstance(get_provider("stripe"), StripeProvider)
    assert isinstance(get_provider("manual"), ManualProvider)
    for name in ("stripe", "manual"):
        provider = get_provider(name)
        assert provider.name == name
        assert isinstance(provider, PaymentProvider)


def test_store_credit_is_not_here():
    with pytest.raises(KeyError, match="returns_core.usecases.settlement"):
        get_provider("store_credit")


def test_unknown_provider():
    with pytest.raises(KeyError, match="unknown payment provider 'paypal'"):
        get_provider("paypal")


# -- the request and result contract -------------------------------------------------

def test_idempotency_key_format():
    assert refund_idempotency_key("ret_1", 1) == "ret_1:refund:1"
    assert refund_idempotency_key("ret_1", 2) == "ret_1:refund:2"
    for bad in (0, -1, True, "1"):
        with pytest.raises(ValueError):
            refund_idempotency_key("ret_1", bad)
    with pytest.raises(ValueError):
        refund_idempotency_key("", 1)


def test_provider_metadata_carries_the_key():
    assert make_request().provider_metadata() == {"return_id": "ret_1", "order_id": "ord_1",
                                                  "idempotency_key": "ret_1:refund:1"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"idempotency_key": ""},
        {"idempotency_key": "k" * 256},
        {"payment_reference": " "},
        {"amount": 0},
        {"amount": -5},
        {"amount": 24.99},
        {"amount": True},
        {"currency": "eur"},
        {"currency": "EURO"},
        {"metadata": {"return_id": 1}},
        {"metadata": {"idempotency_key": "another"}},
        {"metadata": {"k" * 41: "v"}},
        {"metadata": {f"k{i}": "v" for i in range(50)}},
    ],
)
def test_refund_request_rejects_bad_fields(overrides):
    with pytest.raises(ValueError):
        make_request(**overrides)


def test_refund_request_is_frozen():
    req = make_request()
    with pytest.raises(AttributeError):
        req.amount = 1  # type: ignore[misc]


def test_refund_result_status_is_succeeded_or_pending():
    with pytest.raises(ValueError):
        RefundResult(reference="re_1", status="failed", amount=1, currency="EUR", recovered=False)
