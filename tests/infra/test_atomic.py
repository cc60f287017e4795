"""infra/local/atomic.py: moto's DynamoDB with per-request atomicity and cheap transaction rollbacks.

The rollback copy keeps untouched items as they are and copies only the items a transaction
names; a cancelled transaction must still leave every item it touched as it was."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local import atomic

REGION = "us-east-1"


@pytest.fixture
def dynamodb():
    atomic.install()
    try:
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            client.create_table(TableName="plain", BillingMode="PAY_PER_REQUEST",
                                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
            client.create_table(TableName="ranged", BillingMode="PAY_PER_REQUEST",
                                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                           {"AttributeName": "seq", "KeyType": "RANGE"}],
                                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                      {"AttributeName": "seq", "AttributeType": "N"}])
            for pk in ("a", "b", "c"):
                client.put_item(TableName="plain", Item={"pk": {"S": pk}, "n": {"N": "1"}})
            for seq in ("1", "2"):
                client.put_item(TableName="ranged", Item={"pk": {"S": "ledger"}, "seq": {"N": seq}})
            yield client
    finally:
        atomic.uninstall()


def _backend_item(table: str, pk: str, seq: str | None = None):
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    t = dynamodb_backends["123456789012"][REGION].get_table(table)
    return t.get_item(DynamoType({"S": pk}), DynamoType({"N": seq}) if seq else None)


def _n(client, pk: str) -> str:
    return client.get_item(TableName="plain", Key={"pk": {"S": pk}}, ConsistentRead=True)["Item"]["n"]["N"]


def test_a_cancelled_transaction_leaves_what_it_touched_and_keeps_the_rest_as_is(dynamodb):
    untouched = _backend_item("plain", "c")
    untouched_entry = _backend_item("ranged", "ledger", "1")
    with pytest.raises(ClientError) as err:
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "plain", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"Put": {"TableName": "ranged", "Item": {"pk": {"S": "ledger"}, "seq": {"N": "3"}}}},
            {"ConditionCheck": {"TableName": "plain", "Key": {"pk": {"S": "b"}},
                                "ConditionExpression": "attribute_not_exists(pk)"}}])
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _n(dynamodb, "a") == "1" and _n(dynamodb, "b") == "1"
    assert _backend_item("ranged", "ledger", "3") is None
    # what the transaction did not name was kept, not copied (moto alone deep-copies whole tables)
    assert _backend_item("plain", "c") is untouched
    assert _backend_item("ranged", "ledger", "1") is untouched_entry
    from moto.dynamodb.models.table import Table
    assert "__deepcopy__" not in vars(Table)


def test_a_transaction_that_passes_writes_everything(dynamodb):
    dynamodb.transact_write_items(TransactItems=[
        {"Update": {"TableName": "plain", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET n = :two",
                    "ConditionExpression": "n = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":two": {"N": "2"}}}},
        {"Put": {"TableName": "ranged", "Item": {"pk": {"S": "ledger"}, "seq": {"N": "3"}},
                 "ConditionExpression": "attribute_not_exists(seq)"}}])
    assert _n(dynamodb, "a") == "2"
    assert _backend_item("ranged", "ledger", "3") is not None


# slow: readers race writers until the odds are spent
@pytest.mark.slow
def test_reads_never_see_an_item_half_written(dynamodb):
    """moto answers a read by serialising the stored item, the object a racing update changes in
    place ("dictionary changed size during iteration" without the lock around the whole request)."""
    import threading

    dynamodb.update_item(TableName="plain", Key={"pk": {"S": "a"}}, UpdateExpression="SET m = :m",
                         ExpressionAttributeValues={":m": {"M": {f"k{i}": {"S": "x" * 20} for i in range(500)}}})
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            _churn()
        except BaseException as exc:  # noqa: BLE001 - the failure under test
            errors.append(exc)

    def _churn() -> None:
        n = 0
        while not stop.is_set():   # the map changes size in place: a key in, a key out
            n += 1
            action = "SET m.#k = :v" if n % 2 else "REMOVE m.#k"
            dynamodb.update_item(TableName="plain", Key={"pk": {"S": "a"}}, UpdateExpression=action,
                                 ExpressionAttributeNames={"#k": f"extra{n // 2}"},
                                 **({"ExpressionAttributeValues": {":v": {"N": str(n)}}} if n % 2 else {}))

    def read() -> None:
        try:
            for _ in range(20):
                dynamodb.get_item(TableName="plain", Key={"pk": {"S": "a"}})
        except BaseException as exc:  # noqa: BLE001 - the failure under test
            errors.append(exc)

    writer = threading.Thread(target=write)
    readers = [threading.Thread(target=read) for _ in range(3)]
    writer.start()
    for t in readers:
        t.start()
    for t in readers:
        t.join(60)
    stop.set()
    writer.join(60)
    assert errors == []
