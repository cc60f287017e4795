"""Issue 28 item 6: the local stack made a new ledger key on every start and kept only the token
key, so after any restart every entry sealed before was a `hash_mismatch` at #1. The ledger key is
now kept in the data folder (`ledger-key`, beside `token-key`, wiped by `make reset`).

First at the level of the function that keeps the keys, with the data carried across two deploys
as the stack carries it (the snapshot); then once through `python -m infra.local run` restarted."""
from __future__ import annotations

import signal
import time

import boto3
import pytest

from infra.local import deploy, persistence
from infra.local.server import _keep_keys
from returns_core.outbound import secret_store
from returns_core.usecases import ledger_audit, settlement

from tests.conftest import deployed_stack
from tests.infra.local_stack import WAIT_SECONDS, carrier_event, push_order, until
from tests.workflow.refund_fixtures import make_order, make_return


def _ledger_secret(stack) -> str:
    arn = stack.function("SettleFunction").environment["LEDGER_KEY_SECRET_ARN"]
    return boto3.client("secretsmanager", region_name=deploy.REGION).get_secret_value(SecretId=arn)["SecretString"]


# slow: two deployed stacks
@pytest.mark.slow
def test_the_ledger_key_is_kept_in_the_data_folder_and_entries_verify_after_a_restart(tmp_path, monkeypatch):
    data = persistence.DataDir(tmp_path / "data")
    with deployed_stack(monkeypatch) as first:
        made = _ledger_secret(first)
        _keep_keys(data, first)
        assert data.ledger_key.read_text() == made and _ledger_secret(first) == made
        make_order("O-K", captured=10_000)
        make_return("R-K", "O-K", 1000)
        assert settlement.settle("R-K") == "refunded"
        assert ledger_audit.verify(None)["ok"] is True
        data.snapshot.write_bytes(persistence.capture(deploy.ACCOUNT, deploy.REGION, None))
    with deployed_stack(monkeypatch) as second:   # a new deploy: new secrets, as every start makes
        assert _ledger_secret(second) != made
        _keep_keys(data, second)
        assert _ledger_secret(second) == made
        persistence.restore(persistence.load(data), deploy.ACCOUNT, deploy.REGION)
        secret_store.reset()
        assert ledger_audit.verify(None) == {"ok": True, "checked": 1, "first_bad_seq": None, "reason": None,
                                             "anchored_seq": 1}
    data.wipe()   # `make reset`
    assert not data.ledger_key.exists() and not data.token_key.exists()


def test_the_local_stack_verifies_its_ledger_after_a_restart(stacks):
    first = stacks()
    store, warehouse, finance = first.token("store", "shop"), first.token("warehouse", "bob"), \
        first.token("finance", "fin:ann")
    push_order(first, store, "ORD-KEY-1", {"provider": "manual", "reference": "offline", "captured_amount": 12997})
    status, found = first.request("POST", "/returns/lookup", {"order_id": "ORD-KEY-1", "email": "ana@example.com"})
    assert status == 200, found
    customer = found["token"]
    status, ret = first.request("POST", "/returns", {
        "order_id": "ORD-KEY-1", "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, customer)
    assert status == 201, ret
    waiting = until(first, ret["return_id"], customer, {"awaiting_dropoff"})
    carrier_event(first, waiting["label"]["tracking_number"], "dropped_off")
    until(first, ret["return_id"], customer, {"in_transit"})
    assert first.request("POST", "/warehouse/scans", {"code": waiting["label"]["code"]}, warehouse)[0] == 200
    status, inspected = first.request("POST", f"/returns/{ret['return_id']}/inspection", {
        "items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]}, warehouse)
    assert status == 200, inspected
    assert until(first, ret["return_id"], customer, {"refunded", "refund_failed"})["status"] == "refunded"
    status, verdict = first.request("GET", "/finance/ledger/verify", token=finance)
    assert (status, verdict["ok"], verdict["checked"]) == (200, True, 1), verdict
    key = first.data_dir.joinpath("ledger-key").read_text()
    assert first.stop(signal.SIGINT) == 0

    second = stacks()
    assert second.data_dir.joinpath("ledger-key").read_text() == key
    deadline = time.monotonic() + WAIT_SECONDS
    while True:   # the restored ledger, checked under the kept key
        status, verdict = second.request("GET", "/finance/ledger/verify", token=finance)
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert (status, verdict["ok"], verdict["checked"], verdict["reason"]) == (200, True, 1, None), verdict
    assert second.stop(signal.SIGTERM) == 0
