"""Finance's day aggregates catch up with the returns and the ledger: one pass, on a schedule.

The HandleTimeout function's `FinanceRollup` schedule (`{"finance_rollup": {}}`, every 5 minutes) runs
it on AWS; the local stack runs the same schedule (infra/local/schedules.py). A scheduled pass rather
than a DynamoDB stream: the local stack runs schedules as EventBridge does, while moto delivers a
stream's records by invoking the function inside the writer's own request, with no batching, retry or
on-failure destination, and numbers a shard's records afresh once delivered (so they cannot make a
count idempotent): a stream would be code that only ever ran on AWS.

What changed since the last pass is found through the indexes the other pages read:
- returns by status (`by_status`), from where the last pass stopped for each status, less LAG_SECONDS
  (a write's status_since is taken before it lands, and an index follows its table by a moment);
- the ledger chain by chain (store/ledger.py lists each day's chains), past the last sequence number
  counted in each: the chains of the day before the newest one followed and after, and the first
  chain, closed (all days back to LEDGER_BACKFILL_DAYS on the first pass).
Everything read again is no harm: each return and entry moves its counts in one transaction with its
marker (store/finance_aggregates.py), so a pass that runs twice, is cut short, or races another counts
each once. A return whose status changed leaves its old day's counts and joins the new one's.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from ..rules import clock, finance_counts, refund_timing, statuses
from ..rules.ledger_chain import from_capture
from ..store import finance_aggregates as aggregates, ledger, returns
from ..store.finance_aggregates import Counted, OrderRowChange
from ..store.models import LedgerEntryModel, OrderModel, ReturnModel

LAG_SECONDS = 300
LEDGER_BACKFILL_DAYS = 400
LEDGER_PLACE = "ledger_chains"
# A pass stops here and says so (`complete: false`); the next goes on from where it stopped. The
# HandleTimeout function's timeout is 30 s.
BUDGET_SECONDS = 20.0
_ATTEMPTS = 5
_PAGE = 100


def run(now: datetime | None = None, budget_seconds: float = BUDGET_SECONDS) -> dict:
    """One pass; what it counted, by count."""
    now = now or clock.now()
    deadline = time.monotonic() + budget_seconds
    done = {"returns": 0, "entries": 0, "complete": True}
    if not _returns(now, deadline, done) or not _ledger(now, deadline, done):
        done["complete"] = False
    return done


# -- returns -----------------------------------------------------------------------------------------

def _returns(now: datetime, deadline: float, done: dict) -> bool:
    place = aggregates.rollup_state("returns")
    reached = dict(place)
    try:
        for status in statuses.ALL:
            since = place.get(status)
            if since:
                start = clock.iso(clock.parse(since) - timedelta(seconds=LAG_SECONDS))
                hits = ReturnModel.by_status.query(status, ReturnModel.status_since >= start)
            else:
                hits = ReturnModel.by_status.query(status)
            for page in _pages(hits):
                for ret in ReturnModel.load_many(page):
                    if time.monotonic() > deadline:
                        return False
                    done["returns"] += count_return(ret)
                reached[status] = max([reached.get(status, ""), *(h.status_since for h in page)])
    finally:
        aggregates.save_rollup_state("returns", {k: v for k, v in reached.items() if v != place.get(k)})
    return True


def _pages(hits) -> Iterator[list]:
    page: list = []
    for hit in hits:
        page.append(hit)
        if len(page) == _PAGE:
            yield page
            page = []
    if page:
        yield page


def count_return(ret: ReturnModel) -> int:
    """Move the return's counts to where it stands now; 1 if they moved, 0 if they were right already."""
    for _ in range(_ATTEMPTS):
        was = aggregates.counted_return(ret.return_id)
        if was.since > ret.status_since:
            return 0   # read before its last change, which is counted already
        day = ret.status_since[:10]
        items = list(ret.items or [])
        duration, paid = _refund_facts(ret)
        counts = finance_counts.return_counts(ret.status, items, duration, _sku_attributes(day, items, was), paid)
        now = Counted(day, ret.order_id, counts, ret.status_since)
        if (was.day, was.order_id, was.counts) == (now.day, now.order_id, now.counts):
            return 0
        changes: dict[str, dict[str, int]] = {}
        if was.day:
            finance_counts.add(changes.setdefault(was.day, {}), was.counts, -1)
        finance_counts.add(changes.setdefault(day, {}), counts)
        try:
            aggregates.move_return(ret.return_id, was, now, changes, _order_rows(was, now))
            return 1
        except aggregates.Moved:
            ret = ReturnModel.get(ret.return_id, consistent_read=True)
    raise aggregates.Moved(f"return {ret.return_id}: its counts changed under every attempt")


def _order_rows(was: Counted, now: Counted) -> list[OrderRowChange]:
    if (was.day, was.order_id) == (now.day, now.order_id):
        return []
    rows = []
    if was.day and was.order_id:
        row = aggregates.order_row("returns", was.day, was.order_id)
        rows.append(OrderRowChange(was.day, was.order_id, -1, row.get("returns", 0), row.get("units", 0)))
    assert now.day and now.order_id
    row = aggregates.order_row("returns", now.day, now.order_id)
    units = row["units"] if "units" in row else _ordered_units(now.order_id)
    rows.append(OrderRowChange(now.day, now.order_id, 1, row.get("returns", 0), units))
    return rows


def _ordered_units(order_id: str) -> int:
    try:
        order = OrderModel.get(order_id)
    except OrderModel.DoesNotExist:
        return 0
    return sum(int(line.get("qty") or 0) for line in order.lines or [])


def _sku_attributes(day: str, items: list[dict], was: Counted) -> dict[str, str]:
    """Each SKU's attribute: its own while the day names fewer than MAX_SKUS_PER_DAY, else OTHER_SKUS."""
    skus = {str(item.get("sku")) for item in items}
    mine = {sku: finance_counts.SKU + sku for sku in skus
            if was.day == day and finance_counts.SKU + sku in was.counts}
    if len(mine) == len(skus):
        return mine
    known = aggregates.day_counts("returns", day)
    named = sum(1 for name in known if name.startswith(finance_counts.SKU))
    for sku in sorted(skus - set(mine)):
        if finance_counts.SKU + sku in known or named < finance_counts.MAX_SKUS_PER_DAY:
            mine[sku] = finance_counts.SKU + sku
            named += finance_counts.SKU + sku not in known
        else:
            mine[sku] = finance_counts.OTHER_SKUS
    return mine


def _refund_facts(ret: ReturnModel) -> tuple[float | None, finance_counts.EarlyRefund | None]:
    """For a paid return (only its timeline is read): seconds from the carrier's drop-off to the refund,
    and how early it was paid (rules/refund_timing.py's timeline entries; the time saved runs from the
    refund to the inspection, once there is one)."""
    issued_at = (ret.refund or {}).get("issued_at")
    if not issued_at:
        return None, None
    first: dict[str, dict] = {}
    for entry in returns.timeline_of(ret):
        first.setdefault(str(entry.get("type")), entry)
    times = {kind: e.get("at") for kind, e in first.items()}
    duration = None
    if times.get("carrier.dropped_off") and times.get("refund.issued"):
        duration = (clock.parse(times["refund.issued"]) - clock.parse(times["carrier.dropped_off"])).total_seconds()
    early = first.get(refund_timing.PAID_EARLY_EVENT)
    if early is None:
        return duration, finance_counts.EarlyRefund()
    inspected_at = (ret.inspection or {}).get("at")
    return duration, finance_counts.EarlyRefund(
        paid_early=True, trigger=(early.get("detail") or {}).get("on"),
        saved_seconds=(clock.parse(inspected_at) - clock.parse(issued_at)).total_seconds() if inspected_at else None,
        below_refund=refund_timing.BELOW_REFUND_EVENT in first)


# -- the ledger --------------------------------------------------------------------------------------

def _ledger(now: datetime, deadline: float, done: dict) -> bool:
    """Each chain of the ledger (store/ledger.py: one per issue day and shard, and the first chain,
    closed) from past the last sequence number this roll-up counted in it. A chain's entries commit in
    sequence order (an append takes the next number only once the one before is anchored), so a
    consistent read sees a prefix of it and the place is simply the last number read."""
    place = aggregates.rollup_state(LEDGER_PLACE)   # chain -> the last sequence number counted in it
    today = now.date()
    followed = [ledger.day_of(chain) for chain in place if ledger.day_of(chain)]
    first = (date.fromisoformat(max(followed)) - timedelta(days=1) if followed
             else today - timedelta(days=LEDGER_BACKFILL_DAYS)).isoformat()
    chains = [ledger.LEDGER] + [chain for day in ledger.days() if day >= first for chain in ledger.chains_on(day)]
    reached: dict[str, str] = {}
    try:
        for chain in chains:
            last = int(place.get(chain, "0"))
            for entry in LedgerEntryModel.query(chain, LedgerEntryModel.seq > last, consistent_read=True,
                                                limit=None):
                if time.monotonic() > deadline:
                    return False
                done["entries"] += count_entry(entry)
                reached[chain] = str(int(entry.seq))
    finally:
        aggregates.save_rollup_state(LEDGER_PLACE, reached)
    return True


def count_entry(entry: LedgerEntryModel) -> int:
    taken = from_capture(entry)
    counts = finance_counts.entry_counts(entry.kind, entry.currency, int(entry.amount), taken)
    by_kind = {"in_range": taken, f"kind:{entry.kind}": taken}
    return int(aggregates.count_entry(entry.entry_id, entry.issued_day, entry.order_id, entry.currency,
                                      counts, by_kind))
