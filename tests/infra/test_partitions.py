"""infra/local/partitions.py: a Query reads its partition, and answers exactly what moto answers.

Every query shape our stores use (a table's partition, an index's partition with and without a
range condition, pages, descending order, filters, hash-only tables, KEYS_ONLY and ALL indexes) is
asked twice of the same data: with moto's own `Table.query` and with the partition view. The
answers must be equal, page by page."""
from __future__ import annotations

import boto3
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from moto import mock_aws

from infra.local import partitions

REGION = "us-east-1"

rows = st.lists(st.tuples(st.sampled_from(["r1", "r2", "r3", "r4"]),          # partition (e.g. a return)
                          st.integers(min_value=0, max_value=30),              # seq
                          st.sampled_from(["CODE-A", "CODE-B", None]),         # an index key, often absent
                          st.sampled_from(["open", "closed"]),
                          st.integers(min_value=0, max_value=5)),
                min_size=0, max_size=30)


def _tables(client) -> None:
    client.create_table(
        TableName="ranged", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "seq", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in
                              (("pk", "S"), ("seq", "N"), ("code", "S"), ("status", "S"), ("at", "N"))],
        GlobalSecondaryIndexes=[
            {"IndexName": "by_code", "KeySchema": [{"AttributeName": "code", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
            {"IndexName": "by_status", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                                                     {"AttributeName": "at", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}}])
    client.create_table(
        TableName="plain", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "code", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_code", "KeySchema": [{"AttributeName": "code", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])


def _queries() -> list[dict]:
    asked = []
    for pk in ("r1", "r2", "nobody"):
        asked += [
            {"TableName": "ranged", "KeyConditionExpression": "pk = :p",
             "ExpressionAttributeValues": {":p": {"S": pk}}},
            {"TableName": "ranged", "KeyConditionExpression": "pk = :p AND seq > :s", "ScanIndexForward": False,
             "ExpressionAttributeValues": {":p": {"S": pk}, ":s": {"N": "10"}}, "Limit": 3},
            {"TableName": "ranged", "KeyConditionExpression": "pk = :p", "FilterExpression": "#s = :o",
             "ExpressionAttributeNames": {"#s": "status"}, "Limit": 4,
             "ExpressionAttributeValues": {":p": {"S": pk}, ":o": {"S": "open"}}},
            {"TableName": "plain", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": pk}}},
        ]
    for code in ("CODE-A", "CODE-B", "CODE-Z"):
        asked += [
            {"TableName": "ranged", "IndexName": "by_code", "KeyConditionExpression": "code = :c",
             "ExpressionAttributeValues": {":c": {"S": code}}, "Limit": 2},
            {"TableName": "plain", "IndexName": "by_code", "KeyConditionExpression": "code = :c",
             "ExpressionAttributeValues": {":c": {"S": code}}},
        ]
    for status in ("open", "closed"):
        asked.append({"TableName": "ranged", "IndexName": "by_status", "ScanIndexForward": False, "Limit": 5,
                      "KeyConditionExpression": "#s = :s AND #a BETWEEN :lo AND :hi",
                      "ExpressionAttributeNames": {"#s": "status", "#a": "at"},
                      "ExpressionAttributeValues": {":s": {"S": status}, ":lo": {"N": "1"}, ":hi": {"N": "4"}}})
    return asked


def _all_pages(client, query: dict) -> list[dict]:
    pages, start = [], None
    while True:
        page = client.query(**query, **({"ExclusiveStartKey": start} if start else {}))
        pages.append({"Items": page["Items"], "Count": page["Count"], "ScannedCount": page.get("ScannedCount"),
                      "LastEvaluatedKey": page.get("LastEvaluatedKey")})
        start = page.get("LastEvaluatedKey")
        if not start or len(pages) > 50:
            return pages


# slow: generated tables, each queried both ways
@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_a_query_on_the_partition_view_answers_what_moto_answers(data):
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        _tables(client)
        for pk, seq, code, status, at in data:
            item = {"pk": {"S": pk}, "seq": {"N": str(seq)}, "status": {"S": status}, "at": {"N": str(at)}}
            if code:
                item["code"] = {"S": code}
            client.put_item(TableName="ranged", Item=item)
            client.put_item(TableName="plain",
                            Item={"pk": {"S": f"{pk}-{seq}"}, **({"code": {"S": code}} if code else {})})
        queries = _queries()
        moto_answers = [_all_pages(client, q) for q in queries]
        partitions.install()
        try:
            assert [_all_pages(client, q) for q in queries] == moto_answers
        finally:
            partitions.uninstall()


def test_a_query_reads_only_its_partition():
    """The mechanism itself: moto's query sees the partition's items, not the table's."""
    from moto.dynamodb.models.table import Table

    seen: list[int] = []
    all_items = Table.all_items

    def counting(self):
        items = all_items(self)
        seen.append(len(items))
        return items

    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        _tables(client)
        for n in range(60):
            client.put_item(TableName="ranged", Item={"pk": {"S": f"r{n % 20}"}, "seq": {"N": str(n)},
                                                      "status": {"S": "open"}, "at": {"N": "1"}})
        partitions.install()
        Table.all_items = counting
        try:
            got = client.query(TableName="ranged", KeyConditionExpression="pk = :p",
                               ExpressionAttributeValues={":p": {"S": "r3"}})
        finally:
            Table.all_items = all_items
            partitions.uninstall()
    assert [int(i["seq"]["N"]) for i in got["Items"]] == [3, 23, 43]
    assert seen == [3]
