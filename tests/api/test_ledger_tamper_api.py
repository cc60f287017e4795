"""The six tampers of issue 28 item 5 through `/finance/ledger/verify`: the API asks the built Settle
function (the only holder of the ledger key), which answers 200 with the kind named, never a 5xx,
whatever the tables hold."""
from __future__ import annotations

import os

import boto3
import pytest

from returns_core.edge import auth
from returns_core.rules import clock, ledger_chain
from returns_core.store import ledger
from returns_core.usecases import settlement

from tests.conftest import GatewayClient
from tests.workflow.helpers import Http
from tests.workflow.refund_fixtures import make_order, make_return


def _db():
    return boto3.client("dynamodb", region_name="us-east-1")


def _chain() -> str:
    """The chain of today's refunds of order O-T (store/ledger.py: by day and shard): all three entries."""
    return ledger.chain_for("O-T", clock.iso()[:10])


def _key(seq: int) -> dict:
    return {"ledger": {"S": _chain()}, "seq": {"N": str(seq)}}


def _entry(seq: int) -> dict:
    return _db().get_item(TableName=os.environ["LEDGER_TABLE"], Key=_key(seq), ConsistentRead=True)["Item"]


def _tail_with_its_anchor() -> None:
    _db().delete_item(TableName=os.environ["LEDGER_TABLE"], Key=_key(3))
    _db().delete_item(TableName=os.environ["LEDGER_ANCHORS_TABLE"], Key=_key(3))


def _rechained_unkeyed() -> None:
    prev_hash = ledger_chain.GENESIS
    for seq in (1, 2, 3):
        _db().delete_item(TableName=os.environ["LEDGER_ANCHORS_TABLE"], Key=_key(seq))
        entry = ledger.get(seq, _chain())
        entry.hash_scheme, entry.prev_hash = None, prev_hash
        entry.hash = ledger_chain.legacy_hash(ledger_chain.legacy_fields(ledger.stored(entry)), prev_hash)
        entry.save()
        prev_hash = entry.hash


def _wiped() -> None:
    for table in (os.environ["LEDGER_TABLE"], os.environ["LEDGER_ANCHORS_TABLE"]):
        for seq in (1, 2, 3):
            _db().delete_item(TableName=table, Key=_key(seq))


def _attribute_added() -> None:
    _db().put_item(TableName=os.environ["LEDGER_TABLE"], Item={**_entry(2), "note": {"S": "paid twice"}})


def _amount_as_text() -> None:
    _db().put_item(TableName=os.environ["LEDGER_TABLE"], Item={**_entry(2), "amount": {"S": "1001"}})


def _order_total() -> None:
    _db().update_item(TableName=os.environ["ORDERS_TABLE"], Key={"order_id": {"S": "O-T"}},
                      UpdateExpression="SET refunded_total = :t", ExpressionAttributeValues={":t": {"N": "1"}})


@pytest.mark.parametrize("tamper,expected", [
    (_tail_with_its_anchor, {"first_bad_seq": 3, "reason": "missing_tail"}),
    (_rechained_unkeyed, {"first_bad_seq": 1, "reason": "unkeyed_entry"}),
    (_wiped, {"first_bad_seq": 1, "reason": "missing_tail", "checked": 0}),
    (_attribute_added, {"first_bad_seq": 2, "reason": "unknown_attribute"}),
    (_amount_as_text, {"first_bad_seq": 2, "reason": "malformed_entry"}),
    (_order_total, {"first_bad_seq": None, "reason": "order_total_mismatch", "order_id": "O-T"}),
], ids=lambda v: v.__name__.strip("_") if callable(v) else "")
def test_each_tamper_is_named_by_the_api_with_a_200(stack, tamper, expected):
    http = Http(GatewayClient())
    make_order("O-T", captured=100_000)
    for i in range(3):
        make_return(f"R-T{i}", "O-T", 1000 + i)
        assert settlement.settle(f"R-T{i}") == "refunded"
    token = auth.mint("finance", "fin:ann")
    status, verdict, _ = http.call("GET", "/finance/ledger/verify", token=token)
    assert (status, verdict["ok"], verdict["checked"]) == (200, True, 3), verdict
    tamper()
    status, verdict, _ = http.call("GET", "/finance/ledger/verify", token=token)
    assert status == 200 and verdict["ok"] is False, verdict
    assert {k: verdict[k] for k in expected} == expected, verdict
    assert "ana@example.com" not in str(verdict)
