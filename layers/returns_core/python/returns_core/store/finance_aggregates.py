"""Finance's day aggregates table: counts per day, a marker per counted return and ledger entry, and the
roll-up's place in its sources (usecases/finance_rollup.py writes; views/finance.py reads).

Items, by key (pk, sk):
- (`returns#<day>`, `day`): the day's return counts (rules/finance_counts.py) and `ordered`, the units
  ordered in the orders those returns belong to;
- (`returns#<day>`, `order#<order_id>`): how many returns of that order the day counts, and the
  order's units (`ordered` is added to the day when the first comes and taken off when the last goes);
- (`return#<return_id>`, `counted`): what the return is counted as now (day, order, counts), versioned;
- (`ledger#<day>`, `day`): the day's ledger totals by currency and kind;
- (`ledger#<day>`, `order#<order_id>`): what the day's entries took from that order's capture, by kind;
- (`entry#<entry_id>`, `counted`): the entry is in its day's counts;
- (`rollup`, `returns` | `ledger`): where the roll-up goes on from.

Every count moves in one transaction with its marker, conditioned on the marker as it was read: a pass
that runs twice, or two passes that race, count a return or an entry once.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import aws, config
from ..rules.errors import DomainError

DAY = "day"
COUNTED = "counted"
ROLLUP = "rollup"


class Moved(Exception):
    """The marker or an order row changed since it was read (another pass counted meanwhile): read again."""


def _table() -> str:
    return config.setting("FINANCE_AGGREGATES_TABLE")


def _client() -> Any:
    return aws.client("dynamodb")


def returns_day(day: str) -> str:
    return f"returns#{day}"


def ledger_day(day: str) -> str:
    return f"ledger#{day}"


def _n(value: Mapping[str, str]) -> int:
    return int(value["N"])


def _numbers(item: Mapping[str, Any]) -> dict[str, int]:
    return {name: _n(value) for name, value in item.items() if "N" in value}


def _get(pk: str, sk: str) -> dict[str, Any] | None:
    got = _client().get_item(TableName=_table(), Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True)
    return got.get("Item")


# -- reads (the API) -------------------------------------------------------------------------------

def days(partition: str, day_list: list[str]) -> dict[str, dict[str, int]]:
    """The day items of `partition` ("returns" or "ledger") for these days: one BatchGetItem per 100 days."""
    keys = [{"pk": {"S": f"{partition}#{day}"}, "sk": {"S": DAY}} for day in day_list]
    found: dict[str, dict[str, int]] = {}
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {_table(): {"Keys": keys[start:start + 100]}}
        while request:
            got = _client().batch_get_item(RequestItems=request)
            for item in got["Responses"].get(_table(), []):
                found[item["pk"]["S"].split("#", 1)[1]] = _numbers(item)
            request = got.get("UnprocessedKeys") or {}
    return found


def order_rows(partition: str, day: str, start: dict | None, limit: int) -> tuple[list[dict], dict | None]:
    """Up to `limit` order rows of that day, by order id, from `start`; and where to go on from."""
    args: dict[str, Any] = {
        "TableName": _table(), "Limit": limit,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :order)",
        "ExpressionAttributeValues": {":pk": {"S": f"{partition}#{day}"}, ":order": {"S": "order#"}}}
    if start:
        # The key came back through a client's cursor: only the order it names is taken from it.
        sk = (start.get("sk") or {}).get("S") if isinstance(start.get("sk"), dict) else None
        if not isinstance(sk, str) or not sk.startswith("order#"):
            raise DomainError("the cursor is not one this range gave out", field="cursor", code="invalid_request")
        args["ExclusiveStartKey"] = {"pk": {"S": f"{partition}#{day}"}, "sk": {"S": sk}}
    got = _client().query(**args)
    rows = [{"order_id": item["sk"]["S"].split("#", 1)[1], "currency": item.get("currency", {}).get("S"),
             **_numbers(item)} for item in got.get("Items", [])]
    return rows, got.get("LastEvaluatedKey")


# -- the roll-up's reads ---------------------------------------------------------------------------

@dataclass
class Counted:
    """What a return is counted as (its marker), or nothing yet (version 0)."""
    day: str | None = None
    order_id: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    since: str = ""      # the status_since it was counted at: an older read of the return never moves it back
    version: int = 0


def counted_return(return_id: str) -> Counted:
    item = _get(f"return#{return_id}", COUNTED)
    if item is None:
        return Counted()
    return Counted(item["day"]["S"], item["order_id"]["S"],
                   {k: _n(v) for k, v in item["counts"]["M"].items()}, item["since"]["S"], _n(item["version"]))


def day_counts(partition: str, day: str) -> dict[str, int]:
    item = _get(f"{partition}#{day}", DAY)
    return _numbers(item) if item else {}


def order_row(partition: str, day: str, order_id: str) -> dict[str, int]:
    item = _get(f"{partition}#{day}", f"order#{order_id}")
    return _numbers(item) if item else {}


def entry_counted(entry_id: str) -> bool:
    return _get(f"entry#{entry_id}", COUNTED) is not None


def rollup_state(name: str) -> dict[str, str]:
    item = _get(ROLLUP, name)
    return {k: v["S"] for k, v in (item or {}).items() if "S" in v and k not in ("pk", "sk")}


def save_rollup_state(name: str, state: Mapping[str, str]) -> None:
    """Each pass's place, by part: overwritten (a place only moves forward, and a pass that lost a race
    only means the next pass reads a little more again)."""
    pairs = list(state.items())
    for start in range(0, len(pairs), 50):   # an update expression is at most 4 KB
        chunk = pairs[start:start + 50]
        names = {f"#a{i}": k for i, (k, _) in enumerate(chunk)}
        values = {f":v{i}": {"S": v} for i, (_, v) in enumerate(chunk)}
        _client().update_item(TableName=_table(), Key={"pk": {"S": ROLLUP}, "sk": {"S": name}},
                              UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(chunk))),
                              ExpressionAttributeNames=names, ExpressionAttributeValues=values)


# -- the roll-up's writes --------------------------------------------------------------------------

def _add(pk: str, sk: str, counts: Mapping[str, int], *, sets: Mapping[str, str] | None = None,
         condition: tuple[str, dict, dict] | None = None) -> dict:
    names = {f"#a{i}": k for i, k in enumerate(counts)}
    values: dict[str, Any] = {f":a{i}": {"N": str(n)} for i, n in enumerate(counts.values())}
    expression = "ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(counts)))
    if sets:
        names.update({f"#s{i}": k for i, k in enumerate(sets)})
        values.update({f":s{i}": {"S": v} for i, v in enumerate(sets.values())})
        expression += " SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets)))
    update: dict[str, Any] = {"TableName": _table(), "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                              "UpdateExpression": expression, "ExpressionAttributeNames": names,
                              "ExpressionAttributeValues": values}
    if condition:
        text, more_names, more_values = condition
        update["ConditionExpression"] = text
        names.update(more_names)
        values.update(more_values)
    return {"Update": update}


def _transact(items: list[dict]) -> None:
    from botocore.exceptions import ClientError

    try:
        _client().transact_write_items(TransactItems=items)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "TransactionCanceledException":
            raise Moved() from exc
        raise


@dataclass
class OrderRowChange:
    """A return joining (+1) or leaving (-1) an order's row of a day: `seen` is the row's count as read,
    `units` the order's units (read from the order when the row starts)."""
    day: str
    order_id: str
    change: int
    seen: int
    units: int


def move_return(return_id: str, was: Counted, now: Counted, day_changes: Mapping[str, Mapping[str, int]],
                order_changes: Iterable[OrderRowChange]) -> None:
    """One transaction: the return's marker from `was` to `now` (only if it still reads `was`), each day's
    counts changed by `day_changes` (day -> attribute -> +/-n), each order row by its change (only if it
    still holds what was read), the day's `ordered` units with an order's first return or last."""
    ordered: dict[str, int] = {}
    items: list[dict] = []
    for row in order_changes:
        after = row.seen + row.change
        if row.seen == 0 and after > 0:
            ordered[row.day] = ordered.get(row.day, 0) + row.units
        elif row.seen > 0 and after == 0:
            ordered[row.day] = ordered.get(row.day, 0) - row.units
        condition = ("attribute_not_exists(#n) OR #n = :seen" if row.seen == 0 else "#n = :seen",
                     {"#n": "returns"}, {":seen": {"N": str(row.seen)}})
        update = _add(returns_day(row.day), f"order#{row.order_id}", {"returns": row.change}, condition=condition)
        update["Update"]["UpdateExpression"] += " SET units = :units"
        update["Update"]["ExpressionAttributeValues"][":units"] = {"N": str(row.units)}
        items.append(update)
    for day in sorted(set(day_changes) | set(ordered)):
        counts = {name: n for name, n in {**day_changes.get(day, {}),
                                          **({"ordered": ordered[day]} if ordered.get(day) else {})}.items()}
        counts = {name: n for name, n in counts.items() if n}
        if counts:
            items.append(_add(returns_day(day), DAY, counts))
    marker: dict[str, Any] = {
        "pk": {"S": f"return#{return_id}"}, "sk": {"S": COUNTED}, "day": {"S": now.day},
        "order_id": {"S": now.order_id}, "counts": {"M": {k: {"N": str(v)} for k, v in now.counts.items()}},
        "since": {"S": now.since},
        "version": {"N": str(was.version + 1)}}
    put: dict[str, Any] = {"TableName": _table(), "Item": marker}
    if was.version:
        put.update(ConditionExpression="version = :v", ExpressionAttributeValues={":v": {"N": str(was.version)}})
    else:
        put.update(ConditionExpression="attribute_not_exists(pk)")
    items.append({"Put": put})
    _transact(items)


def count_entry(entry_id: str, day: str, order_id: str, currency: str, counts: Mapping[str, int],
                by_kind: Mapping[str, int]) -> bool:
    """One transaction: the entry's marker (only if absent), its day's totals, its order's row of the day.
    False when the entry was counted already."""
    marker = {"Put": {"TableName": _table(), "Item": {"pk": {"S": f"entry#{entry_id}"}, "sk": {"S": COUNTED},
                                                      "day": {"S": day}},
                      "ConditionExpression": "attribute_not_exists(pk)"}}
    try:
        _transact([marker, _add(ledger_day(day), DAY, counts),
                   _add(ledger_day(day), f"order#{order_id}", by_kind, sets={"currency": currency})])
    except Moved:
        if entry_counted(entry_id):
            return False
        raise
    return True
