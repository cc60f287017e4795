"""A ledger's history written cheaply: entries sealed under the ledger key, their anchors, each
chain's keyed checkpoint and listing, and for each entry the order and the return whose records agree
with it (so a check that reads them finds nothing wrong), put straight into moto's DynamoDB backend
(no HTTP round trip, no per-item size check), for the ledger verification bench
(bench/ledger_verification.py) and tests/workflow/test_ledger_chains.py.

Only inside moto (in-process): it writes through moto's own backend, never to AWS."""
from __future__ import annotations

import os

from returns_core.rules import ledger_chain
from returns_core.store import ledger

ACCOUNT, REGION = "123456789012", "us-east-1"


def _backend():
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][REGION]


def _writer(table):
    """Puts an item into a moto table as its PutItem stores it, without PutItem's checks (key types, the
    400 KB item size, summed again at each attribute: the cost of a put). Items written here are small."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    def put(attrs: dict) -> None:
        hash_key = DynamoType(attrs[table.hash_key_attr])
        item = Item.__new__(Item)
        item.hash_key = hash_key
        item.range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
        item.attrs = LimitedSizeDict({name: DynamoType(value) for name, value in attrs.items()})
        if item.range_key is not None:
            table.items[hash_key][item.range_key] = item
        else:
            table.items[hash_key] = item
    return put


def _order_ids_by_shard(count: int, prefix: str) -> list[list[str]]:
    """`count` order ids, dealt to their shard (the chain they append to)."""
    shards: list[list[str]] = [[] for _ in range(ledger.shard_count())]
    for n in range(count):
        order_id = f"{prefix}-{n}"
        shards[ledger.shard_of(order_id)].append(order_id)
    return shards


def partition_queries() -> None:
    """moto answers a Query on a table's own key by sorting every item of the table and keeping the
    partition's (DynamoDB reads the partition only): with a million entries each Query takes seconds.
    From here on (this process), such a Query starts from the partition's items. What is answered, and
    how many requests are made, is unchanged; index Queries are left as moto runs them."""
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "partition_first", False):
        return
    original = Table.query

    def query(self, hash_key, *args, **kwargs):
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name is not None or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: sorted(partition, key=lambda item: item.range_key)
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    query.partition_first = True
    Table.query = query


def write_history(entries: int, day: str, key: bytes, amount: int = 100, money: bool = True) -> dict[str, int]:
    """`entries` refunds issued on `day` (a day before yesterday: closed), spread over the day's chains by
    the order's shard as appends spread them; with `money`, an order and a return each whose total and
    record agree with the entry (what the sweep's check of the money reads). Returns chain -> head."""
    backend = _backend()
    tables = {name: os.environ[env] for name, env in (("ledger", "LEDGER_TABLE"), ("anchors", "LEDGER_ANCHORS_TABLE"),
                                                      ("orders", "ORDERS_TABLE"), ("returns", "RETURNS_TABLE"))}
    put = {name: _writer(backend.get_table(table)) for name, table in tables.items()}
    at = f"{day}T12:00:00.000Z"
    heads: dict[str, int] = {}
    for order_ids in _order_ids_by_shard(entries, f"H{day.replace('-', '')}"):
        if not order_ids:
            continue
        chain = ledger.chain_for(order_ids[0], day)
        prev_hash = ledger_chain.GENESIS
        for seq, order_id in enumerate(order_ids, start=1):
            return_id = f"R{order_id}"
            item = {"ledger": {"S": chain}, "seq": {"N": str(seq)}, "entry_id": {"S": f"{return_id}:refund:1"},
                    "kind": {"S": "store_credit"}, "return_id": {"S": return_id}, "order_id": {"S": order_id},
                    "amount": {"N": str(amount)}, "currency": {"S": "EUR"}, "method": {"S": "store_credit"},
                    "reference": {"S": f"SC-{order_id}"}, "issued_at": {"S": at}, "issued_day": {"S": day},
                    "prev_hash": {"S": prev_hash}, "hash_scheme": {"N": "2"}}
            item["hash"] = {"S": ledger_chain.keyed_hash(item, key)}
            put["ledger"](item)
            put["anchors"]({"ledger": {"S": chain}, "seq": {"N": str(seq)}, "hash": item["hash"]})
            prev_hash = item["hash"]["S"]
            if not money:
                continue
            put["orders"]({"order_id": {"S": order_id}, "currency": {"S": "EUR"}, "refunded_total": {"N": str(amount)},
                           "payment": {"M": {"provider": {"S": "manual"}, "reference": {"S": "offline"},
                                             "captured_amount": {"N": str(amount)}}}})
            put["returns"]({"return_id": {"S": return_id}, "order_id": {"S": order_id}, "created_at": {"S": at},
                            "refund": {"M": {
                "amount": {"N": str(amount)}, "method": {"S": "store_credit"}, "status": {"S": "succeeded"},
                "ledger_seq": {"N": str(seq)}, "ledger_chain": {"S": chain}, "issued_at": {"S": at}}}})
        mark = ledger_chain.checkpoint(len(order_ids), prev_hash, key, chain)
        put["orders"]({"order_id": {"S": ledger.checkpoint_id(chain)}, "ledger": {"S": chain},
                       "head_seq": {"N": str(mark.seq)}, "head_hash": {"S": mark.hash}, "mac": {"S": mark.mac}})
        heads[chain] = len(order_ids)
    _add_names(put["orders"], ledger.DAYS_ID, {day})
    _add_names(put["orders"], ledger.chains_id(day), set(heads))
    return heads


def _add_names(put, item_id: str, names: set[str]) -> None:
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[ACCOUNT][REGION].get_table(os.environ["ORDERS_TABLE"])
    current = table.get_item(*_key(item_id))
    held = set(current.to_json()["Attributes"].get("names", {}).get("SS", [])) if current else set()
    put({"order_id": {"S": item_id}, "names": {"SS": sorted(held | names)}})


def _key(item_id: str):
    from moto.dynamodb.models.dynamo_type import DynamoType

    return DynamoType({"S": item_id}), None
