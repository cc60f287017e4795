"""The ledger's two scheduled jobs, both in the Settle function (the holder of the ledger key).

The heads anchor (`anchor_heads`, every few minutes): a keyed record of every open chain's head
(chain -> (seq, hash)), put once in the anchor table under `#heads` (append-only, like the
anchors), each record's MAC chained to the one before. A chain removed whole (its entries, its
anchors, its checkpoint and its day's listing) is still named by the heads it was anchored in.

The verification job (`run_verification`, on its schedule and when finance asks for the check
without a range): incremental from its own keyed checkpoints (per chain, the (seq, hash) it has
verified, MAC'd with the rest of its state in one item beside the orders, VERIFIED_ID):
1. the heads records written since its last run (MAC, order, and each chain's anchor at the
   recorded seq still holding the recorded hash);
2. each chain of the open days (today, yesterday), of the heads records and of its state, from
   its verified checkpoint up to the head (at most `batch` new entries a run), then the chain's tail
   against its anchored head and keyed checkpoint (store/ledger.py);
3. a rolling sweep that re-verifies a fixed number of already verified entries a run, chain after
   chain, so an edit of an old entry is found within (history / sweep) runs;
4. the orders and records of every entry checked in the run.
Its reads are bounded by the new entries, the open chains and the sweep: never by the history. Each
run's result is put in the anchor table under `#verifications` (seq: the run), which
`GET /finance/ledger/verify` answers from; the run number guards the state against an old copy put back.
"""
from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from .. import aws, config
from ..rules import clock, ledger_chain
from ..rules.ledger_chain import BAD_HEADS, BAD_VERIFICATION, GENESIS, MISSING_CHAIN, Anchor, Link, Verdict
from . import ledger
from .models import LedgerAnchorModel, OrderModel

HEADS = "#heads"                 # the anchor table's partition of the heads anchors
VERIFICATIONS = "#verifications"  # and of the verification job's results
VERIFIED_ID = "#refund-ledger-verified/kept-by-the-settle-function/not-an-order/the-verification-job-state"
assert len(VERIFIED_ID) > 64
DEFAULT_BATCH = 5000    # new entries verified per run, over every chain (the rest: the next run)
DEFAULT_SWEEP = 200     # already verified entries re-verified per run
HEADS_PER_RUN = 100     # heads records read per run (one every 5 minutes: 8 hours' worth)


def _open_days(today: str) -> list[str]:
    """Today and yesterday: a day's chains take appends until its last second, so yesterday's
    heads are anchored again after midnight, once they can no longer grow."""
    return [(date.fromisoformat(today) - timedelta(days=1)).isoformat(), today]


def _put(table: str, item: dict, condition: str | None, values: dict | None = None,
         names: dict | None = None) -> bool:
    from botocore.exceptions import ClientError

    request: dict[str, Any] = {"TableName": table, "Item": item}
    if condition:
        request["ConditionExpression"] = condition
    if values:
        request["ExpressionAttributeValues"] = values
    if names:
        request["ExpressionAttributeNames"] = names
    try:
        aws.client("dynamodb").put_item(**request)
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False   # another run took this place first: its record stands
        raise


def _newest(partition: str) -> dict | None:
    for item in ledger._query(LedgerAnchorModel.Meta.table_name, "#p = :p", {":p": {"S": partition}},
                              names={"#p": "ledger"}, newest_first=True, limit=1):
        return item
    return None


def _text(item: dict, name: str) -> str | None:
    value = item.get(name)
    text = value.get("S") if isinstance(value, dict) else None
    return text if isinstance(text, str) else None


# -- the heads anchor ----------------------------------------------------------------------------

def _heads_of(item: dict) -> dict[str, tuple[int, str]] | None:
    try:
        heads = json.loads(_text(item, "heads") or "")
        return {chain: (int(seq), str(head_hash)) for chain, (seq, head_hash) in heads.items()}
    except (AttributeError, TypeError, ValueError):
        return None


def anchor_heads(key: bytes, today: str | None = None) -> dict:
    """Put the next heads anchor: every chain of the open days (and the first chain) with its
    anchored head, MAC'd with the previous record's MAC. Returns {"seq", "chains"}."""
    today = today or clock.iso()[:10]
    previous = _newest(HEADS)
    seq = int(previous["seq"]["N"]) + 1 if previous else 1
    prev_mac = (_text(previous, "mac") or "") if previous else GENESIS
    heads: dict[str, tuple[int, str]] = {}
    for chain in [ledger.LEDGER] + [c for day in _open_days(today) for c in ledger.chains_on(day)]:
        anchored = ledger._anchored_head(chain)
        if anchored is not None:
            heads[chain] = (anchored.seq, anchored.hash)
    at = clock.iso()
    mac = ledger_chain.heads_mac(seq, at, heads, prev_mac, key)
    item = {"ledger": {"S": HEADS}, "seq": {"N": str(seq)}, "at": {"S": at}, "prev_mac": {"S": prev_mac},
            "heads": {"S": json.dumps({c: [s, h] for c, (s, h) in sorted(heads.items())}, separators=(",", ":"))},
            "mac": {"S": mac}}
    written = _put(LedgerAnchorModel.Meta.table_name, item, "attribute_not_exists(seq)")
    return {"seq": seq if written else None, "chains": len(heads), "at": at}


# -- the verification job's state -----------------------------------------------------------------

def _fresh_state() -> dict:
    return {"run": 0, "heads_seq": 0, "heads_mac": GENESIS, "chains": {}, "sweep": None}


def _read_state(key: bytes, last_run: int) -> tuple[dict, Verdict | None]:
    """The job's state, checked: its MAC, and its run against the newest result (an old state put
    back is behind it). A run writes its state, then its result: a state one run ahead of the newest
    result is a run whose result is still being written (or was never). A state that fails is named,
    and the run starts again from scratch."""
    item = aws.client("dynamodb").get_item(TableName=OrderModel.Meta.table_name, ConsistentRead=True,
                                           Key={"order_id": {"S": VERIFIED_ID}}).get("Item")
    if item is None:
        if last_run == 0:
            return _fresh_state(), None
        return _fresh_state(), Verdict(False, 0, None, BAD_VERIFICATION)
    try:
        state = json.loads(item["state"]["S"])
        mac = item["mac"]["S"]
        ok = hmac.compare_digest(ledger_chain.verified_mac(state, key).encode(), mac.encode())
    except (KeyError, TypeError, ValueError):
        ok, state = False, None
    if not ok or not isinstance(state, dict) or int(state.get("run", -1)) not in (last_run, last_run + 1):
        return _fresh_state(), Verdict(False, 0, None, BAD_VERIFICATION)
    return state, None


def _write_state(state: dict, key: bytes, previous_run: int | None) -> bool:
    """Put the state of run `state["run"]` over the one of `previous_run` (None: whatever is there, a
    state that failed its check): False when another run got there first (this run then records nothing)."""
    item = {"order_id": {"S": VERIFIED_ID}, "run": {"N": str(state["run"])},
            "state": {"S": json.dumps(state, sort_keys=True, separators=(",", ":"))},
            "mac": {"S": ledger_chain.verified_mac(state, key)}}
    if previous_run is None:
        return _put(OrderModel.Meta.table_name, item, None)
    return _put(OrderModel.Meta.table_name, item, "attribute_not_exists(order_id) OR #r = :r",
                {":r": {"N": str(previous_run)}}, {"#r": "run"})


# -- the verification job -----------------------------------------------------------------------

def _settings() -> tuple[int, int]:
    return (max(1, config.int_setting("LEDGER_VERIFY_BATCH", DEFAULT_BATCH)),
            max(0, config.int_setting("LEDGER_VERIFY_SWEEP", DEFAULT_SWEEP)))


def _check_heads_records(state: dict, key: bytes) -> tuple[Verdict | None, dict[str, tuple[int, str]]]:
    """The heads anchors written since the last run: each MAC'd under the key, following the one
    before; per chain the last recorded head, whose anchor must still hold the recorded hash."""
    values = {":p": {"S": HEADS}, ":lo": {"N": str(int(state["heads_seq"]) + 1)}}
    records = list(ledger._query(LedgerAnchorModel.Meta.table_name, "#p = :p AND #s >= :lo", values,
                                 names={"#p": "ledger", "#s": "seq"}, limit=HEADS_PER_RUN))
    recorded: dict[str, tuple[int, str]] = {}
    expected_seq, prev_mac = int(state["heads_seq"]) + 1, state["heads_mac"]
    for item in records:
        seq, heads, at, mac = ledger._seq_of(item), _heads_of(item), _text(item, "at"), _text(item, "mac")
        if (seq != expected_seq or heads is None or at is None or mac is None or _text(item, "prev_mac") != prev_mac
                or not hmac.compare_digest(
                    ledger_chain.heads_mac(int(seq), at, heads, prev_mac, key).encode(), mac.encode())):
            return Verdict(False, 0, None, BAD_HEADS), recorded
        for chain, head in heads.items():
            if head[0] >= recorded.get(chain, (0, ""))[0]:
                recorded[chain] = head
        state["heads_seq"], state["heads_mac"] = int(seq), mac
        expected_seq, prev_mac = expected_seq + 1, mac
    for chain, (seq, head_hash) in sorted(recorded.items()):
        now = ledger._anchor_at(chain, seq)
        if now is None or now.hash != head_hash:
            anchored = ledger._anchored_head(chain)
            return ledger_chain.check_heads({chain: (seq, head_hash)}, {chain: anchored if now is None else now}) \
                or Verdict(False, 0, seq, MISSING_CHAIN, chain=chain), recorded
    return None, recorded


def _verify_from(chain: str, verified: tuple[int, str] | None, key: bytes, budget: int
                 ) -> tuple[Verdict, list[Link], tuple[int, str] | None, bool]:
    """A chain from its verified checkpoint: up to `budget` new entries, then (once at the head) its
    tail. Returns the verdict, the entries checked, the new checkpoint and whether it reached the head."""
    seq, head_hash = verified or (0, GENESIS)
    anchored = ledger._anchored_head(chain)
    if seq > 0:
        still = ledger._anchor_at(chain, seq)
        if still is None or still.hash != head_hash:
            # What the job verified is no longer there: the chain, or its tail, was removed.
            return Verdict(False, 0, (anchored.seq if anchored else 0) + 1, MISSING_CHAIN, chain=chain), [], \
                verified, False
    head = anchored.seq if anchored else 0
    if head <= seq:
        verdict, _, _ = ledger.verify_chain(chain, key, ledger.TAIL_ONLY)
        return verdict, [], verified, True
    if budget <= 0:
        return Verdict(True, 0), [], verified, False   # the next run goes on from here
    hi = min(head, seq + budget)
    if hi == head:
        verdict, links, _ = ledger.verify_chain(chain, key, (seq + 1, hi))
    else:
        verdict, links = ledger._verify_span(chain, seq + 1, hi, key, ledger._keyed_from(chain))
    verdict = ledger._named(verdict, chain)
    if not verdict.ok:
        return verdict, [], verified, False
    last = links[-1] if links else None
    return verdict, links, ((last.seq, last.hash) if last else verified), hi == head


def _chains_from(start: str | None) -> Iterator[str]:
    """The ledger's chains in order (the first, then by day and shard) from `start`, read lazily: a
    GetItem for the days, one per day reached."""
    if start is None or start == ledger.LEDGER:
        yield ledger.LEDGER
        first_day = None
    else:
        first_day = ledger.day_of(start)
    for day in ledger.days():
        if first_day is not None and day < first_day:
            continue
        for chain in ledger.chains_on(day):
            if day == first_day and (len(chain), chain) < (len(start or ""), start or ""):
                continue
            yield chain


def _sweep(state: dict, key: bytes, budget: int) -> tuple[Verdict | None, list[Link]]:
    """Re-verify up to `budget` already verified entries from the sweep's cursor, chain after chain in
    the ledger's order; from the start again (the next run) once past the last chain."""
    if budget <= 0:
        return None, []
    start, after = state.get("sweep") or (None, 0)
    checked: list[Link] = []
    cursor = None
    for chain in _chains_from(start):
        if budget <= 0:
            cursor = [chain, after]
            break
        anchored = ledger._anchored_head(chain)
        newest = ledger._raw_entries(chain, newest_first=True, limit=1)
        last_seq = max(anchored.seq if anchored else 0, int(ledger._seq_of(newest[0])) if newest else 0)
        hi = min(last_seq, after + budget)
        if hi >= last_seq:   # to the chain's end: its tail too
            verdict, links, _ = ledger.verify_chain(chain, key, (after + 1, hi) if hi > after else ledger.TAIL_ONLY)
        else:
            verdict, links = ledger._verify_span(chain, after + 1, hi, key, ledger._keyed_from(chain))
        if not verdict.ok:
            state["sweep"] = None   # from the start again: the finding stays named until it is mended
            return ledger._named(verdict, chain), checked
        checked.extend(links)
        budget -= max(1, hi - after)
        if hi < last_seq:
            cursor = [chain, hi]
            break
        after = 0
    state["sweep"] = cursor
    return None, checked


def latest_result() -> dict | None:
    """The newest run's result (one Query), or None before the first run."""
    item = _newest(VERIFICATIONS)
    if item is None:
        return None
    try:
        return json.loads(_text(item, "result") or "")
    except ValueError:
        return None


def run_verification(key: bytes, today: str | None = None) -> dict:
    """One run of the verification job (see the module's docstring); its result, also recorded."""
    today = today or clock.iso()[:10]
    batch, sweep_budget = _settings()
    newest = _newest(VERIFICATIONS)
    last_run = int(ledger._seq_of(newest)) if newest else 0
    state, finding = _read_state(key, last_run)
    held_run = None if finding is not None else int(state["run"])
    last_run = max(last_run, held_run or 0)
    before = json.loads(json.dumps(state))   # what the state was: kept when this run finds something
    chains_state: dict[str, list] = dict(state["chains"])
    checked: dict[tuple[str, int], Link] = {}

    def fail(verdict: Verdict) -> None:
        nonlocal finding
        if finding is None:
            finding = verdict

    swept_verdict, swept = _sweep(state, key, sweep_budget)
    if swept_verdict is not None:
        fail(swept_verdict)
    checked.update({ledger_chain.where_of(link): link for link in swept})
    heads_verdict, recorded = _check_heads_records(state, key)
    if heads_verdict is not None:
        fail(heads_verdict)
    working = dict.fromkeys([ledger.LEDGER, *sorted(chains_state), *sorted(recorded),
                             *(c for day in _open_days(today) for c in ledger.chains_on(day))])
    budget = batch
    for chain in working:
        held = chains_state.get(chain)
        verdict, links, verified, at_head = _verify_from(chain, (int(held[0]), held[1]) if held else None, key, budget)
        if not verdict.ok:
            fail(verdict)
            continue
        budget -= len(links)
        checked.update({ledger_chain.where_of(link): link for link in links})
        day = ledger.day_of(chain)
        if at_head and day is not None and day < _open_days(today)[0] and chain not in recorded:
            chains_state.pop(chain, None)   # a closed day's chain, verified to its end: out of the working set
        elif verified is not None:
            chains_state[chain] = [verified[0], verified[1]]
    if finding is None:
        money = ledger._check_money(list(checked.values()), ledger.legacy_last_seq())
        if money is not None:
            fail(money)
    verdict = finding or Verdict(True, len(checked))
    at = clock.iso()
    anchored = {c: ledger._anchored_head(c) for c in ([verdict.chain] if verdict.chain else [])}
    run = last_run + 1
    result = ledger._answer(Verdict(verdict.ok, len(checked), verdict.first_bad_seq, verdict.reason,
                                    verdict.order_id, verdict.record, verdict.chain),
                            _anchored_seq(verdict, anchored, chains_state))
    result.update({"at": at, "run": run, "chains": len(working),
                   "verified_through": {c: s for c, (s, _) in sorted(chains_state.items())}})
    if verdict.ok:
        state["chains"] = chains_state
    else:   # nothing this run read counts as verified: the next run reads it again (and finds it again)
        state = {**before, "sweep": None}
    state["run"] = run
    # The state first, on the run it was read at: of two runs at once, one writes. Then the result.
    if not _write_state(state, key, held_run) or not _put(
            LedgerAnchorModel.Meta.table_name, {"ledger": {"S": VERIFICATIONS}, "seq": {"N": str(run)},
                                                "at": {"S": at}, "result": {"S": json.dumps(result, sort_keys=True)}},
            "attribute_not_exists(seq)"):
        return {**result, "run": None}   # another run recorded first: this answer stands alone
    return result


def _anchored_seq(verdict: Verdict, anchored: dict[str, Anchor | None], chains_state: dict[str, list]) -> int | None:
    if verdict.chain is not None:
        head = anchored.get(verdict.chain)
        return head.seq if head else None
    heads = [int(s) for s, _ in chains_state.values()]
    return sum(heads) if heads else None
