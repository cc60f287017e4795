"""Issue 35: the ledger over several chains (by day and a shard of the order), the periodic anchor over
every chain's head, and the incremental verification job, through the real store in moto.

Tampering per chain and with a whole chain removed is caught; the first chain of a deployed stack
("refunds", written before chains) still verifies; the job's reads do not grow with the history."""
from __future__ import annotations

import json
import os

import boto3

from returns_core import aws
from returns_core.rules import clock, ledger_chain
from returns_core.store import ledger, ledger_jobs
from returns_core.store.models import LedgerAnchorModel, LedgerEntryModel
from returns_core.usecases import ledger_audit, settlement

from .refund_fixtures import make_order, make_return


def _db():
    return boto3.client("dynamodb", region_name="us-east-1")


def _today() -> str:
    return clock.iso()[:10]


def _two_orders_apart() -> tuple[str, str]:
    """Two order ids whose movements land in different chains (different shards)."""
    first = "OC-0"
    for n in range(1, 200):
        if ledger.shard_of(f"OC-{n}") != ledger.shard_of(first):
            return first, f"OC-{n}"
    raise AssertionError("every order in one shard")


def _refunds(order_id: str, count: int, new_order: bool = True, first: int = 0) -> str:
    if new_order:
        make_order(order_id, captured=100_000)
    for i in range(first, first + count):
        make_return(f"R-{order_id}-{i}", order_id, 1000 + i)
        assert settlement.settle(f"R-{order_id}-{i}") == "refunded"
    return ledger.chain_for(order_id, _today())


def _remove_chain(chain: str, *, listing: bool = True) -> None:
    """What someone with write access to every table can do: the chain's entries, its anchors, its
    checkpoint, and (listing) its name in its day's list of chains."""
    for table in (os.environ["LEDGER_TABLE"], os.environ["LEDGER_ANCHORS_TABLE"]):
        for item in _db().query(TableName=table, KeyConditionExpression="#p = :p", ExpressionAttributeNames={
                "#p": "ledger"}, ExpressionAttributeValues={":p": {"S": chain}}, ConsistentRead=True)["Items"]:
            _db().delete_item(TableName=table, Key={"ledger": item["ledger"], "seq": item["seq"]})
    _db().delete_item(TableName=os.environ["ORDERS_TABLE"], Key={"order_id": {"S": ledger.checkpoint_id(chain)}})
    if listing:
        _db().update_item(TableName=os.environ["ORDERS_TABLE"],
                          Key={"order_id": {"S": ledger.chains_id(ledger.day_of(chain))}},
                          UpdateExpression="DELETE #n :c", ExpressionAttributeNames={"#n": "names"},
                          ExpressionAttributeValues={":c": {"SS": [chain]}})


def _found(result: dict) -> tuple:
    return result["ok"], result["first_bad_seq"], result["reason"], result.get("chain")


def test_appends_go_to_the_chain_of_their_day_and_order_each_with_its_own_seq_anchors_and_checkpoint(stack):
    a, b = _two_orders_apart()
    chain_a, chain_b = _refunds(a, 2), _refunds(b, 3)
    assert chain_a != chain_b and chain_a.startswith(f"refunds/{_today()}/s")
    assert [int(e.seq) for e in ledger.entries(chain_a)] == [1, 2]
    assert [int(e.seq) for e in ledger.entries(chain_b)] == [1, 2, 3]
    assert [int(a.seq) for a in LedgerAnchorModel.query(chain_b)] == [1, 2, 3]
    assert ledger.get(1, chain_a).prev_hash == ledger_chain.GENESIS == ledger.get(1, chain_b).prev_hash
    assert set(ledger.chains_on(_today())) == {chain_a, chain_b} and ledger.days() == [_today()]
    # The record names its entry by chain and seq; the checkpoint's MAC names its chain.
    refund = _db().get_item(TableName=os.environ["RETURNS_TABLE"],
                            Key={"return_id": {"S": f"R-{b}-2"}})["Item"]["refund"]["M"]
    assert (refund["ledger_chain"], refund["ledger_seq"]) == ({"S": chain_b}, {"N": "3"})
    assert ledger_audit.verify(None) == {"ok": True, "checked": 5, "first_bad_seq": None, "reason": None,
                                         "anchored_seq": 5}
    assert ledger_audit.verify([_today()])["ok"] is True


def test_a_checkpoint_copied_from_another_chain_is_a_bad_checkpoint(stack):
    a, b = _two_orders_apart()
    chain_a, chain_b = _refunds(a, 2), _refunds(b, 2)
    mark_a = _db().get_item(TableName=os.environ["ORDERS_TABLE"],
                            Key={"order_id": {"S": ledger.checkpoint_id(chain_a)}})["Item"]
    _db().put_item(TableName=os.environ["ORDERS_TABLE"],
                   Item={**mark_a, "order_id": {"S": ledger.checkpoint_id(chain_b)}, "ledger": {"S": chain_b}})
    # Same seq, another chain's hash: the MAC names chain a, so it is no checkpoint of chain b.
    assert _found(ledger_audit.verify(None)) == (False, None, "bad_checkpoint", chain_b)


def test_a_whole_chain_removed_is_caught_by_the_heads_anchor_and_by_the_job(stack):
    a, b = _two_orders_apart()
    _refunds(a, 2)
    chain_b = _refunds(b, 3)
    assert ledger_audit.run_verification()["ok"] is True
    assert ledger_audit.anchor_heads()["chains"] == 2
    _remove_chain(chain_b)
    # The live check no longer knows the chain (its listing went too); the job does, twice over:
    # the chain it verified is gone, and the heads anchor recorded it.
    assert ledger_audit.verify(None)["ok"] is True
    result = ledger_audit.run_verification()
    assert _found(result) == (False, 1, "missing_chain", chain_b)
    assert ledger_audit.latest() == result
    assert _found(ledger_audit.run_verification()) == (False, 1, "missing_chain", chain_b)   # found again


def test_a_chain_removed_before_the_job_verified_it_is_caught_by_the_heads_anchor(stack):
    a, b = _two_orders_apart()
    _refunds(a, 1)
    assert ledger_audit.run_verification()["ok"] is True
    chain_b = _refunds(b, 2)
    ledger_audit.anchor_heads()
    _remove_chain(chain_b)
    assert _found(ledger_audit.run_verification()) == (False, 1, "missing_chain", chain_b)


def test_a_chains_tail_dropped_with_its_anchors_and_checkpoint_is_caught_by_the_job(stack):
    a, _ = _two_orders_apart()
    chain = _refunds(a, 3)
    assert ledger_audit.run_verification()["ok"] is True
    for table in (os.environ["LEDGER_TABLE"], os.environ["LEDGER_ANCHORS_TABLE"]):
        _db().delete_item(TableName=table, Key={"ledger": {"S": chain}, "seq": {"N": "3"}})
    mark = ledger_chain.checkpoint(2, ledger.get(2, chain).hash, ledger_audit.ledger_key(), chain)
    # Even with a true checkpoint of the shorter head (as if the tamperer had kept an old copy)
    _db().put_item(TableName=os.environ["ORDERS_TABLE"], Item={
        "order_id": {"S": ledger.checkpoint_id(chain)}, "ledger": {"S": chain}, "head_seq": {"N": "2"},
        "head_hash": {"S": mark.hash}, "mac": {"S": mark.mac}})
    assert _found(ledger_audit.run_verification()) == (False, 3, "missing_chain", chain)


def test_an_entry_edited_in_one_chain_is_named_with_its_chain_by_every_check(stack):
    a, b = _two_orders_apart()
    _refunds(a, 2)
    chain_b = _refunds(b, 3)
    assert ledger_audit.run_verification()["ok"] is True
    item = _db().get_item(TableName=os.environ["LEDGER_TABLE"],
                          Key={"ledger": {"S": chain_b}, "seq": {"N": "2"}})["Item"]
    _db().put_item(TableName=os.environ["LEDGER_TABLE"], Item={**item, "amount": {"N": "1"}})
    assert _found(ledger_audit.verify(None)) == (False, 2, "hash_mismatch", chain_b)
    assert _found(ledger_audit.verify([_today()])) == (False, 2, "hash_mismatch", chain_b)
    assert _found(ledger_audit.run_verification()) == (False, 2, "hash_mismatch", chain_b)   # the sweep


def test_an_entry_added_past_a_chains_head_is_found_by_the_job(stack):
    a, _ = _two_orders_apart()
    chain = _refunds(a, 2)
    assert ledger_audit.run_verification()["ok"] is True
    last = ledger.get(2, chain)
    forged = LedgerEntryModel(chain, 3, **{k: getattr(last, k) for k in (
        "kind", "order_id", "currency", "method", "reference", "inspected_by", "issued_at", "issued_day")},
        entry_id="R-x:refund:1", return_id="R-x", amount=777, prev_hash=last.hash)
    ledger.seal(forged, b"a guessed key").save()
    assert _found(ledger_audit.run_verification()) == (False, 3, "hash_mismatch", chain)


def test_the_jobs_state_and_heads_records_are_keyed_and_an_old_state_put_back_is_named(stack):
    a, b = _two_orders_apart()
    _refunds(a, 1)
    assert ledger_audit.run_verification()["ok"] is True
    old = _db().get_item(TableName=os.environ["ORDERS_TABLE"], Key={"order_id": {"S": ledger_jobs.VERIFIED_ID}})["Item"]
    _refunds(b, 1)
    assert ledger_audit.run_verification()["ok"] is True
    _db().put_item(TableName=os.environ["ORDERS_TABLE"], Item=old)
    assert _found(ledger_audit.run_verification())[:3] == (False, None, "bad_verification_checkpoint")
    assert ledger_audit.run_verification()["ok"] is True   # started again from scratch, and all is there
    state = json.loads(old["state"]["S"])
    _db().put_item(TableName=os.environ["ORDERS_TABLE"], Item={**old, "state": {"S": json.dumps(
        {**state, "run": state["run"] + 3})}, "run": {"N": str(state["run"] + 3)}})
    assert _found(ledger_audit.run_verification())[:3] == (False, None, "bad_verification_checkpoint")
    ledger_audit.run_verification()
    written = ledger_audit.anchor_heads()
    forged = ledger_chain.heads_mac(written["seq"] + 1, written["at"], {}, "x", b"a guessed key")
    _db().put_item(TableName=os.environ["LEDGER_ANCHORS_TABLE"], Item={
        "ledger": {"S": ledger_jobs.HEADS}, "seq": {"N": str(written["seq"] + 1)}, "at": {"S": written["at"]},
        "prev_mac": {"S": "x"}, "heads": {"S": "{}"}, "mac": {"S": forged}})
    assert _found(ledger_audit.run_verification())[:3] == (False, None, "bad_heads")


def _legacy_keyed_entries(count: int, order_id: str) -> None:
    """A deployed stack's ledger before chains: keyed entries in the one chain "refunds", anchored,
    its checkpoint (MAC without a chain name) at CHECKPOINT_ID, records without `ledger_chain`."""
    key = ledger_audit.ledger_key()
    make_order(order_id, captured=100_000)
    prev_hash, total = ledger_chain.GENESIS, 0
    for seq in range(1, count + 1):
        ret = make_return(f"R-old-{seq}", order_id, 100 * seq)
        at = "2026-11-02T10:00:00.000Z"
        entry = ledger.seal(LedgerEntryModel(
            "refunds", seq, entry_id=f"R-old-{seq}:refund:1", kind="store_credit", return_id=ret.return_id,
            order_id=order_id, amount=100 * seq, currency="EUR", method="store_credit", reference=f"SC-{seq}",
            inspected_by="wh:bob", approved_by=None, issued_at=at, issued_day=at[:10], prev_hash=prev_hash), key)
        entry.save()
        LedgerAnchorModel("refunds", seq, hash=entry.hash).save()
        ret.update(actions=[type(ret).refund.set({"amount": 100 * seq, "method": "store_credit",
                                                  "status": "succeeded", "ledger_seq": seq, "issued_at": at,
                                                  "reference": f"SC-{seq}"})])
        prev_hash, total = entry.hash, total + 100 * seq
    mark = ledger_chain.checkpoint(count, prev_hash, key)   # the scheme before chains: no chain in the MAC
    ledger.LedgerCheckpointModel(ledger.CHECKPOINT_ID, ledger="refunds", head_seq=count, head_hash=mark.hash,
                                 mac=mark.mac).save()
    from returns_core.store.models import OrderModel
    OrderModel.get(order_id).update(actions=[OrderModel.refunded_total.set(total)])


def test_a_deployed_stacks_first_chain_still_verifies_as_one_more_closed_chain(stack):
    _legacy_keyed_entries(3, "O-legacy")
    assert ledger_audit.verify(None) == {"ok": True, "checked": 3, "first_bad_seq": None, "reason": None,
                                         "anchored_seq": 3}
    chain = _refunds("O-legacy", 1, new_order=False)   # the same order again: a new chain, the first closed
    assert chain != "refunds" and ledger.get(4) is None
    assert ledger_audit.verify(None)["checked"] == 4 and ledger_audit.verify(None)["ok"] is True
    assert ledger_audit.verify(["2026-11-02", _today()])["ok"] is True
    result = ledger_audit.run_verification()
    assert (result["ok"], result["checked"], result["verified_through"]) == (True, 4, {"refunds": 3, chain: 1})
    assert ledger_audit.anchor_heads()["chains"] == 2
    _db().delete_item(TableName=os.environ["LEDGER_TABLE"], Key={"ledger": {"S": "refunds"}, "seq": {"N": "3"}})
    _db().delete_item(TableName=os.environ["LEDGER_ANCHORS_TABLE"], Key={"ledger": {"S": "refunds"}, "seq": {"N": "3"}})
    assert _found(ledger_audit.verify(None)) == (False, 3, "missing_tail", "refunds")
    # The sweep (first in a run) meets the checkpoint; the job's own checkpoint would say missing_chain.
    assert _found(ledger_audit.run_verification()) == (False, 3, "missing_tail", "refunds")


def _reads_of_a_run() -> list[str]:
    calls: list[str] = []
    count = lambda model, **_: calls.append(model.name)  # noqa: E731
    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb.*", count)
    try:
        assert ledger_audit.run_verification()["ok"] is True
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", count)
    return calls


def test_the_jobs_reads_for_new_entries_do_not_grow_with_the_history(stack, monkeypatch):
    """History written straight to the tables on earlier days (cheap: bench/ledger_history.py), then the
    same batch of new refunds (a new order each time, all of one chain, already open and verified): a
    run's reads are the same with 40 and with 440 old entries."""
    from bench.ledger_history import write_history

    monkeypatch.setenv("LEDGER_VERIFY_SWEEP", "0")   # the sweep reads its own fixed budget: measured apart
    key = ledger_audit.ledger_key()
    same_shard = [f"O-batch-{n}" for n in range(500) if ledger.shard_of(f"O-batch-{n}") == 0][:3]
    _refunds(same_shard[0], 1)
    reads, runs = [], []
    for order_id, (history, day) in zip(same_shard[1:], ((40, "2026-11-03"), (400, "2026-11-04")), strict=True):
        write_history(history, day=day, key=key)
        ledger_audit.run_verification()
        _refunds(order_id, 3)
        calls = _reads_of_a_run()
        assert "Scan" not in calls
        reads.append(len(calls))
        runs.append(calls)
    assert reads[0] == reads[1], (reads, runs)


def test_the_sweep_re_verifies_old_entries_a_fixed_number_a_run(stack, monkeypatch):
    from bench.ledger_history import write_history

    monkeypatch.setenv("LEDGER_VERIFY_SWEEP", "50")
    heads = write_history(200, day="2026-11-03", key=ledger_audit.ledger_key())
    assert sum(heads.values()) == 200 and ledger_audit.verify(None) == {
        "ok": True, "checked": 200, "first_bad_seq": None, "reason": None, "anchored_seq": 200}
    chain = sorted(heads, key=lambda c: (len(c), c))[-1]
    item = _db().get_item(TableName=os.environ["LEDGER_TABLE"],
                          Key={"ledger": {"S": chain}, "seq": {"N": "2"}})["Item"]
    _db().put_item(TableName=os.environ["LEDGER_TABLE"], Item={**item, "amount": {"N": "1"}})
    results = [ledger_audit.run_verification() for _ in range(6)]
    assert all(r["checked"] <= 50 for r in results)
    assert any(_found(r) == (False, 2, "hash_mismatch", chain) for r in results), results


def test_the_ledger_jobs_are_scheduled_on_the_settle_function_which_runs_them(stack, load_handler):
    from chalice.local import LambdaContext

    from infra.local import schedules
    from infra.local.template import load

    def Context():
        return LambdaContext("SettleFunction", 512)

    found = {s.name: s for s in schedules.of_template(load()) if s.function == "SettleFunction"}
    assert found["LedgerHeadsAnchor"].event == {"ledger_anchor": {}} and found["LedgerHeadsAnchor"].every_seconds == 300
    assert found["LedgerVerification"].event == {"ledger_verify_run": {}}
    assert found["LedgerVerification"].every_seconds == 900
    a, _ = _two_orders_apart()
    _refunds(a, 2)
    settle = load_handler("settle")
    assert settle.handler({"ledger_anchor": {}}, Context())["chains"] == 1   # "refunds" has no anchor here
    result = settle.handler({"ledger_verify_run": {}}, Context())
    assert (result["ok"], result["checked"], result["run"]) == (True, 2, 1)
    assert settle.handler({"ledger_verify": {"days": None}}, Context())["run"] == 2   # the API's ask: a run now
