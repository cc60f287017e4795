"""The local stack's write-ahead journal (infra/local/journal.py) and what it records and replays
(persistence.py), issue 28 item 7: torn tails are skipped, records come back in the order they were
appended, and replaying after a snapshot gives the state the stack had, however many of the records
the snapshot already holds.

The recording runs on moto's real backends (mock_aws): the same methods the local stack's emulator
serves its requests with.
"""
from __future__ import annotations

import os
import threading

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from infra.local import journal, persistence

REGION = "eu-west-1"
TABLE, BUCKET, SENDER = "returns", "labels", "returns@example.com"


def test_records_come_back_whole_and_in_order_across_segments(tmp_path):
    log = journal.Journal(tmp_path, after=0)
    for i in range(5):
        log.append("n", lambda i=i: i)
        if i == 2:
            assert log.rotate() == 3
    log.wait_durable()
    log.close()
    assert len(journal.segments(tmp_path)) == 2
    assert [(r.number, r.data) for r in journal.read(tmp_path)] == [(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)]
    assert [r.number for r in journal.read(tmp_path, after=3)] == [4, 5]


@pytest.mark.parametrize("cut", [1, 5, 8, 9, 20])
def test_a_torn_last_record_is_skipped_and_the_next_run_goes_on_after_it(tmp_path, cut):
    """kill -9 (or a power cut) mid-append leaves part of the last record: header or body cut
    anywhere. Reading stops there; the next run numbers on from the last whole record, in a segment
    of its own, and both runs' whole records are read."""
    log = journal.Journal(tmp_path, after=0)
    for i in range(3):
        log.append("n", lambda i=i: f"value-{i}")
    log.close()
    segment, = journal.segments(tmp_path)
    size = segment.stat().st_size
    os.truncate(segment, size - cut)
    assert [r.data for r in journal.read(tmp_path)] == ["value-0", "value-1"]
    assert journal.last_number(tmp_path) == 2

    after_crash = journal.Journal(tmp_path, after=journal.last_number(tmp_path))
    after_crash.append("n", lambda: "value-2 again")
    after_crash.close()
    assert [(r.number, r.data) for r in journal.read(tmp_path)] == [
        (1, "value-0"), (2, "value-1"), (3, "value-2 again")]


def test_a_damaged_record_ends_its_segment_not_the_start(tmp_path):
    log = journal.Journal(tmp_path, after=0)
    log.append("n", lambda: "kept")
    log.append("n", lambda: "damaged")
    log.close()
    segment, = journal.segments(tmp_path)
    blob = bytearray(segment.read_bytes())
    blob[-1] ^= 0xFF                       # a flipped bit in the last body: its checksum fails
    segment.write_bytes(bytes(blob) + b"\x00" * 7)    # and garbage after it
    assert [r.data for r in journal.read(tmp_path)] == ["kept"]


def test_a_crashed_runs_empty_segment_is_taken_over(tmp_path):
    """A run that died before its first record leaves an empty segment named for the next number."""
    journal.Journal(tmp_path, after=4)._fd   # noqa: B018 - opened, never closed: as kill -9 leaves it
    log = journal.Journal(tmp_path, after=4)
    log.append("n", lambda: "five")
    log.close()
    assert [(r.number, r.data) for r in journal.read(tmp_path)] == [(5, "five")]


def test_concurrent_appends_share_fsyncs_and_keep_their_order(tmp_path):
    """Group commit: each appender waits until its record is on disk; none is lost or reordered."""
    log = journal.Journal(tmp_path, after=0)
    done: list[int] = []

    def writer(who: int) -> None:
        for i in range(50):
            number = log.append("n", lambda i=i: (who, i))
            log.wait_durable()
            assert log._durable >= number
        done.append(who)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    log.close()
    assert sorted(done) == list(range(8))
    records = list(journal.read(tmp_path))
    assert [r.number for r in records] == list(range(1, 401))
    for who in range(8):
        assert [r.data[1] for r in records if r.data[0] == who] == list(range(50))
    assert 1 <= log.syncs <= log.appends == 400


def test_dropping_segments_keeps_the_current_one(tmp_path):
    log = journal.Journal(tmp_path, after=0)
    log.append("n", lambda: 1)
    log.rotate()
    log.append("n", lambda: 2)
    log.drop_before_current()
    log.close()
    assert [r.data for r in journal.read(tmp_path)] == [2]


# -- what the stack records, and its replay --------------------------------------------------------

def _deploy() -> None:
    """What template.yaml makes at every start, before the snapshot and the journal are restored."""
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}])
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)


def _state() -> dict:
    """Everything kept, read as plain values."""
    from moto.sns.models import sns_backends

    ddb, s3 = boto3.client("dynamodb", region_name=REGION), boto3.client("s3", region_name=REGION)
    items = sorted(ddb.scan(TableName=TABLE)["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
    objects = {o["Key"]: (s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read(),
                          s3.head_object(Bucket=BUCKET, Key=o["Key"])["Metadata"])
               for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    sent = boto3.client("ses", region_name=REGION).get_send_quota()["SentLast24Hours"]
    return {"items": items, "objects": objects, "sent": sent,
            "sms": dict(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages)}


def _writes(part: int) -> None:
    """A day's kinds of writes: puts, an update, a delete, a transaction, a cancelled one, a batch,
    a label put with metadata and one deleted, an email, an SMS."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    key = {"pk": {"S": f"ret-{part}"}, "sk": {"S": "return"}}
    ddb.put_item(TableName=TABLE, Item={**key, "status": {"S": "requested"}})
    ddb.update_item(TableName=TABLE, Key=key, UpdateExpression="SET #s = :s",
                    ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "received"}})
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": f"ret-{part}"}, "sk": {"S": "gone"}})
    ddb.delete_item(TableName=TABLE, Key={"pk": {"S": f"ret-{part}"}, "sk": {"S": "gone"}})
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": TABLE, "Key": key, "UpdateExpression": "SET #s = :s",
                    "ConditionExpression": "#s = :was", "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":s": {"S": "inspected"}, ":was": {"S": "received"}}}},
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"ret-{part}"}, "sk": {"S": "ledger#1"},
                                              "amount": {"N": "2499"}}}}])
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"ret-{part}"}, "sk": {"S": "ledger#2"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": key, "ConditionExpression": "attribute_not_exists(pk)"}}])
    ddb.batch_write_item(RequestItems={TABLE: [
        {"PutRequest": {"Item": {"pk": {"S": f"order-{part}"}, "sk": {"S": f"line#{n}"}}}} for n in range(3)]})
    s3.put_object(Bucket=BUCKET, Key=f"labels/{part}.pdf", Body=b"%PDF " + bytes([part]),
                  Metadata={"return": str(part)})
    s3.put_object(Bucket=BUCKET, Key=f"photos/{part}.jpg", Body=b"jpeg")
    s3.delete_object(Bucket=BUCKET, Key=f"photos/{part}.jpg")
    persistence.request_done()   # as the emulator does after each request: the S3 objects are recorded then
    boto3.client("ses", region_name=REGION).send_email(
        Source=SENDER, Destination={"ToAddresses": ["ana@example.com"]},
        Message={"Subject": {"Data": "label"}, "Body": {"Text": {"Data": f"return {part}"}}})
    boto3.client("sns", region_name=REGION).publish(PhoneNumber="+33600000000", Message=f"return {part}")


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    yield
    persistence.stop_recording()


def _run_and_crash(data: persistence.DataDir) -> tuple[dict, int]:
    """A run that records into the journal, takes a snapshot half-way and is then killed: the
    state it had (as its clients saw it) and the number of the snapshot's last record."""
    with mock_aws():
        _deploy()
        log = journal.Journal(data.journal, after=0)
        persistence.record_into(log)
        _writes(1)
        snapshots = persistence.Snapshotter(
            data, lambda: persistence.capture(DEFAULT_ACCOUNT_ID, REGION, None, log), saved=log.drop_before_current)
        assert snapshots.save()
        _writes(2)
        persistence.request_done()
        seen = _state()
        persistence.stop_recording()   # the kill: no last snapshot, the journal file left as it is
        included = persistence.load(data)["journal"]
    return seen, included


def _start_again(data: persistence.DataDir, after: int | None = None) -> tuple[dict, dict]:
    with mock_aws():
        _deploy()
        kept = persistence.load(data)
        persistence.restore(kept, DEFAULT_ACCOUNT_ID, REGION)
        replayed = persistence.replay(data, kept["journal"] if after is None else after)
        return _state(), replayed


def test_replay_after_the_snapshot_gives_the_state_every_client_saw(tmp_path, aws):
    data = persistence.DataDir(tmp_path)
    seen, included = _run_and_crash(data)
    assert included > 0 and seen["items"] and seen["objects"] and seen["sent"] == 2 and len(seen["sms"]) == 2
    assert len(journal.segments(data.journal)) == 1, "the snapshot on disk dropped the segments it holds"
    after, replayed = _start_again(data)
    assert replayed["records"] > 0
    assert after == seen


def test_replaying_records_the_snapshot_already_holds_changes_nothing(tmp_path, aws):
    """Idempotent with respect to the snapshot: the whole journal (kept here, as a crash between the
    snapshot's write and the segments' deletion would leave it), replayed over the snapshot, twice."""
    data = persistence.DataDir(tmp_path)
    with mock_aws():
        _deploy()
        log = journal.Journal(data.journal, after=0)
        persistence.record_into(log)
        _writes(1)
        persistence.write_atomically(data.snapshot, persistence.capture(DEFAULT_ACCOUNT_ID, REGION, None, log))
        _writes(2)
        persistence.request_done()
        seen = _state()
        persistence.stop_recording()
    assert next(journal.read(data.journal)).number == 1    # nothing dropped: all replayed again
    once, _ = _start_again(data, after=0)
    assert once == seen
    with mock_aws():
        _deploy()
        persistence.restore(persistence.load(data), DEFAULT_ACCOUNT_ID, REGION)
        persistence.replay(data, 0)
        persistence.replay(data, 0)
        assert _state() == seen


STRIPE_RUN = """
import sys
from pathlib import Path
from infra.local.journal import Journal
from infra.local.stripe_server import StripeServer
from tests.payments_support import create_captured_payment_intent

journal = Journal(Path(sys.argv[1]), after=0)
stripe = StripeServer(int(sys.argv[2]))
stripe.start(changed=lambda: None, journal=journal)
print(create_captured_payment_intent(stripe.url, 4200, "EUR"))
stripe.stop()
"""


def test_a_stripe_write_is_journaled_before_it_is_answered_with_the_objects_it_refers_to(tmp_path):
    """localstripe's objects refer to one another (a payment intent to its charge): a record holds
    them all, so they come back as one graph, as the snapshot brings them back. Its own process:
    localstripe's app can be set up once per interpreter."""
    import pickle
    import subprocess
    import sys
    from pathlib import Path

    from tests.ports import free_port

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", STRIPE_RUN, str(tmp_path / "journal"), str(free_port())],
                          cwd=root, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    payment_intent = done.stdout.strip().splitlines()[-1]
    records = [r for r in journal.read(tmp_path / "journal") if r.kind == "stripe"]
    assert records, "the payment was answered without a record"
    loaded: list[dict] = []
    replayed = persistence.replay(persistence.DataDir(tmp_path),
                                  0, stripe_load=lambda blob: loaded.append(pickle.loads(blob)) or 1)
    assert replayed["stripe"] == 1 and len(loaded) == 1    # the last record is Stripe's state
    store = loaded[0]
    intent = store[f"payment_intent:{payment_intent}"]
    assert intent.amount == 4200
    assert store[f"charge:{intent.latest_charge.id}"] is intent.latest_charge


def test_a_whole_record_that_does_not_load_stops_the_start_with_one_line(tmp_path):
    """Its checksum holds, so it is not torn: it was written by another moto (a pickled class that is
    gone). Skipped, it would lose an acknowledged write silently; the start says so instead."""
    import zlib

    data = persistence.DataDir(tmp_path)
    log = journal.Journal(data.journal, after=0)
    log.append("n", lambda: "fine")
    log.close()
    body = b"\x80\x04cnomodule\nGone\n)\x81."   # a pickle of an instance of a class that does not import
    segment, = journal.segments(data.journal)
    with open(segment, "ab") as f:
        f.write(journal._HEADER.pack(len(body), zlib.crc32(body)) + body)
    with pytest.raises(persistence.StateUnreadable, match="journal cannot be read"):
        persistence.replay(data, 0)
