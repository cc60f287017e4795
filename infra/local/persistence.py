"""The local stack's state on disk (`.local/` in the checkout): it survives Ctrl-C, kill -9 and reboots.

moto keeps everything in memory and has no persistence of its own for the server, so the local
stack writes one snapshot file of what a day's work consists of:

- DynamoDB: every table's items (orders, returns with their timelines, the ledger, credits,
  idempotency records, ...), read under the lock that makes each DynamoDB request atomic
  (atomic.py), so a snapshot never holds half of a conditional write or of a transaction;
- S3: every object (the labels);
- SES and SNS: the sent emails and SMS (the outbox);
- the Stripe-compatible server's objects (payment intents, refunds), read on its own event loop.

What is captured first matters when a crash separates the parts: DynamoDB is read first, then the
rest, so a restored ledger never names a Stripe refund or a label that the snapshot lacks (the
other way round is the ordinary "paid, then crashed" case the settle step recovers from).

The snapshot is taken only after the emulator served a request, and only written when it differs
from the last one; it is written to a temporary file, fsynced and renamed over the previous one
(then the folder is fsynced), so a crash leaves either the old snapshot or the new one, never a
torn file. It is taken at most once a second, and never more often than keeps its cost under a
twentieth of one core: taking it pickles every table under the DynamoDB lock, which grows with the
data (~40 ms of CPU for 54 returns with their orders, timelines and credits), and once a second on
a bench's data that was 14 % of the stack's CPU under load, each time a pause of every DynamoDB
request.

Between two snapshots, the write-ahead journal (journal.py) keeps every write: each request the
emulator applies that changes kept state appends what it left behind (the items a DynamoDB write or
transaction touched as they are after it, the S3 objects a request put or deleted, the emails and
SMS sent, Stripe's objects after a Stripe write), and the emulator answers no request, Stripe
none either, before the journal is flushed to disk. So a write the API answered survives kill -9.
On start the snapshot is restored, then the journal's records after the snapshot's (it holds the
number of the last one it includes) are replayed in order; a record sets the state it names, so
replaying one the snapshot already holds is harmless. Each snapshot starts a new journal segment
and, once on disk, deletes the older ones. The journal keeps the order the paragraph above cares
about: a Stripe refund's record is on disk before Stripe answers, so before the ledger write that
names it is even made.

Why at the emulator and not at the API: the API's writes, the state machine's steps and the
functions' sends all reach state through the emulator (or Stripe), on many threads and processes;
moto is where a write becomes one, under the same DynamoDB lock (atomic.py) that orders them, so
the journal's order is the order the writes were applied in. Not journaled, because nothing kept
depends on them: Step Functions (executions and task-token answers are threads of this process;
what a workflow did is in DynamoDB, and on start the stack starts a fresh execution for every open
return, which the state machine routes by the return's status: resume.py) and Secrets Manager (the
template makes the secrets at every start; the token key is kept in its own file, `token-key`, so
tokens issued before a restart still verify). SNS messages to topics are not kept (the snapshot
never kept them); SMS are.
"""
from __future__ import annotations

import functools
import hashlib
import itertools
import os
import pickle
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import journal as journal_log

FORMAT = 1
SNAPSHOT_INTERVAL_SECONDS = 1.0
# The snapshot thread spends at most 1/SNAPSHOT_COST_FACTOR of a core: after a capture that took c
# seconds of CPU, the next waits max(interval, factor x c).
SNAPSHOT_COST_FACTOR = 20.0
SLOW_SNAPSHOT_NOTICE_SECONDS = 5.0


def next_snapshot_after(cpu_seconds: float, interval: float = SNAPSHOT_INTERVAL_SECONDS,
                        factor: float = SNAPSHOT_COST_FACTOR) -> float:
    """How long the snapshot thread waits after a capture that cost `cpu_seconds` of its CPU."""
    return max(interval, factor * cpu_seconds)


@dataclass(frozen=True)
class DataDir:
    """Where one checkout's local stack keeps its state (`.local/`, ignored by git)."""
    root: Path

    @property
    def snapshot(self) -> Path:
        return self.root / "state.pickle"

    @property
    def journal(self) -> Path:
        """The write-ahead journal's segments (journal.py)."""
        return self.root / "journal"

    @property
    def token_key(self) -> Path:
        return self.root / "token-key"

    @property
    def ledger_key(self) -> Path:
        return self.root / "ledger-key"

    @property
    def lock(self) -> Path:
        return self.root / "run.lock"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def run_state(self, aws_port: int) -> Path:
        """What a running stack tells other tools (removed on every exit; the lock says if it is live)."""
        return self.root / f"stack-{aws_port}.json"

    def wipe(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)


class StateUnreadable(Exception):
    pass


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Either the old content or the new one survives a crash, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def kept_key(path: Path, generate: Callable[[], str]) -> str:
    """The key kept in `path` from before, or a new one (`generate`) kept from now on."""
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    key = generate()
    write_atomically(path, key.encode())
    return key


def token_key(data: DataDir, generate: Callable[[], str]) -> str:
    """The key that signs tokens: the one kept from before, or a new one kept from now on."""
    return kept_key(data.token_key, generate)


def ledger_key(data: DataDir, generate: Callable[[], str]) -> str:
    """The key that seals the refund ledger's entries: kept like the token key."""
    return kept_key(data.ledger_key, generate)


# -- capturing and restoring moto's backends ------------------------------------------------------

def _dynamodb_items(account: str, region: str, journal: journal_log.Journal | None) -> tuple[bytes, int]:
    """{table name: its items}, pickled under the DynamoDB lock: one consistent instant; and the
    number of the journal's last record, which that instant includes (every DynamoDB write appends
    its record under the same lock)."""
    from moto.dynamodb.models import dynamodb_backends

    from . import atomic

    backend = dynamodb_backends[account][region]
    with atomic.lock():
        # A new segment from here: once this snapshot is on disk, the ones before it can go.
        included = journal.rotate() if journal is not None else 0
        return pickle.dumps({name: table.items for name, table in backend.tables.items()},
                            protocol=pickle.HIGHEST_PROTOCOL), included


def _s3_objects(account: str) -> dict:
    from moto.s3.models import s3_backends

    out: dict[str, list[tuple[str, bytes, dict]]] = {}
    for name, bucket in list(s3_backends[account]["global"].buckets.items()):
        out[name] = [(key.name, key.value, dict(key.metadata)) for key in list(bucket.keys.values())]
    return out


def _messages(account: str, region: str) -> dict:
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    ses = ses_backends[account][region]
    return {"ses": list(ses.sent_messages), "ses_count": ses.sent_message_count,
            "sms": dict(sns_backends[account][region].sms_messages)}


def capture(account: str, region: str, stripe_state: Callable[[], bytes] | None,
            journal: journal_log.Journal | None = None) -> bytes:
    """The whole snapshot as bytes, DynamoDB first (see the module's docstring).

    The S3 objects, messages and Stripe objects are read after the DynamoDB instant, so they hold
    at least every record up to `journal` (applied before it) and perhaps some after: replaying
    those again sets what they already hold."""
    tables, included = _dynamodb_items(account, region, journal)
    state = {"format": FORMAT, "journal": included, "dynamodb": tables, "s3": _s3_objects(account),
             "messages": _messages(account, region),
             "stripe": stripe_state() if stripe_state else None}
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def load(data: DataDir) -> dict | None:
    """The last snapshot, or None on a first start."""
    if not data.snapshot.exists():
        return None
    try:
        state = pickle.loads(data.snapshot.read_bytes())
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ValueError(f"format {state.get('format') if isinstance(state, dict) else '?'}, expected {FORMAT}")
        state["dynamodb"] = pickle.loads(state["dynamodb"])
        state.setdefault("journal", 0)   # a snapshot from before the journal
    except Exception as exc:  # noqa: BLE001 - any unreadable snapshot is reported the same way
        raise StateUnreadable(f"{data.snapshot} cannot be read ({type(exc).__name__}: {exc})") from None
    return state


def restore(state: dict, account: str, region: str) -> dict[str, int]:
    """Put a snapshot back into the freshly deployed stack (before anything serves).

    Tables and buckets are those template.yaml just created: data of a table the template no
    longer has is left out. Returns what was restored, by kind, for the console."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    counts = {"items": 0, "objects": 0, "messages": 0}
    tables = dynamodb_backends[account][region].tables
    for name, items in state["dynamodb"].items():
        table = tables.get(name)
        if table is None:
            continue
        table.items = items
        counts["items"] += sum(len(v) for v in items.values()) if table.has_range_key else len(items)
    s3 = s3_backends[account]["global"]
    for bucket, objects in state["s3"].items():
        if bucket not in s3.buckets:
            continue
        for key_name, value, metadata in objects:
            key = s3.put_object(bucket, key_name, value, disable_notification=True)
            key.set_metadata(dict(metadata))
            counts["objects"] += 1
    ses = ses_backends[account][region]
    ses.sent_messages.extend(state["messages"]["ses"])
    ses.sent_message_count += state["messages"]["ses_count"]
    sns_backends[account][region].sms_messages.update(state["messages"]["sms"])
    counts["messages"] = len(state["messages"]["ses"]) + len(state["messages"]["sms"])
    return counts


# -- the journal: what each request left behind (see the module's docstring) -------------------------

_journal: journal_log.Journal | None = None       # set while the stack records
_hooked: dict[tuple[type, str], Callable] = {}
_dynamodb_write = threading.local()   # .keys: the items the outermost DynamoDB write on this thread touches
_request = threading.local()          # .objects: the S3 objects the request on this thread put or deleted
_messages_lock = threading.Lock()     # a send and its record are one step: the record holds exactly its messages


def _argument(args: tuple, kwargs: dict, index: int, name: str) -> Any:
    return kwargs[name] if name in kwargs else args[index]


def _item_key(backend: Any, args: tuple, kwargs: dict, attrs_name: str) -> tuple | None:
    """(table, hash key, range key) a put/update/delete names; None when it names none (the request
    fails its validation then, and writes nothing)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        table = backend.tables.get(_argument(args, kwargs, 0, "table_name"))
        attrs = _argument(args, kwargs, 1, attrs_name)
        if table is None:
            return None
        return (table.name, DynamoType(attrs[table.hash_key_attr]),
                DynamoType(attrs[table.range_key_attr]) if table.has_range_key else None)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


def _item_now(backend: Any, name: str, hash_key: Any, range_key: Any) -> Any:
    table = backend.tables.get(name)
    if table is None:
        return None
    if range_key is None:
        return table.items.get(hash_key)
    by_range = table.items.get(hash_key)
    return by_range.get(range_key) if by_range else None


def _journaled_dynamodb(fn: Callable, attrs_name: str | None) -> Callable:
    """A DynamoDB write that appends the items it touched, as they are after it, under the DynamoDB
    lock. A transaction's own puts, updates and deletes go through the same methods: only the
    outermost call appends, once it is over (after a cancelled transaction's rollback, so the
    record holds the items as they were: harmless)."""
    from . import atomic

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        journal = _journal
        if journal is None:
            return fn(self, *args, **kwargs)
        with atomic.lock():
            outermost = getattr(_dynamodb_write, "keys", None) is None
            if outermost:
                _dynamodb_write.keys = {}
            try:
                key = _item_key(self, args, kwargs, attrs_name) if attrs_name else None
                if key is not None:
                    _dynamodb_write.keys[key] = None
                return fn(self, *args, **kwargs)
            finally:
                if outermost:
                    touched, _dynamodb_write.keys = list(_dynamodb_write.keys), None
                    if touched:
                        journal.append("dynamodb", lambda: (self.account_id, self.region_name, [
                            (name, h, r, _item_now(self, name, h, r)) for name, h, r in touched]))
    return wrapper


def _journaled_s3(fn: Callable) -> Callable:
    """An S3 put or delete notes the object; the request appends it once it is over (request_done):
    moto's handler sets the object's metadata after the backend's put."""
    @functools.wraps(fn)
    def wrapper(self, bucket_name, key_name, *args, **kwargs):
        if _journal is not None:
            if getattr(_request, "objects", None) is None:
                _request.objects = {}
            _request.objects[(self.account_id, bucket_name, key_name)] = None
        return fn(self, bucket_name, key_name, *args, **kwargs)
    return wrapper


def _objects_now(touched: list[tuple[str, str, str]]) -> list[tuple]:
    from moto.s3.models import s3_backends

    out = []
    for account, bucket_name, key_name in touched:
        bucket = s3_backends[account]["global"].buckets.get(bucket_name)
        key = bucket.keys.get(key_name) if bucket is not None else None
        out.append((account, bucket_name, key_name, None if key is None else (key.value, dict(key.metadata))))
    return out


def _journaled_sends(kind: str, mark: Callable, new_since: Callable) -> Callable:
    """A backend's send (SES's emails, SNS's SMS) journaled as what it added to the backend's record of
    sent messages: `mark(backend)` before the call, `new_since(backend, mark)` after it, which is the
    journal entry's payload, or None when nothing was sent."""
    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(self, *args, **kwargs):
            journal = _journal
            if journal is None:
                return fn(self, *args, **kwargs)
            with _messages_lock:
                before = mark(self)
                try:
                    return fn(self, *args, **kwargs)
                finally:
                    sent = new_since(self, before)
                    if sent is not None:
                        journal.append(kind, lambda: (self.account_id, self.region_name, *sent))
        return wrapper
    return wrap


def _new_emails(backend, before: tuple[int, int]) -> tuple | None:
    sent, recipients = backend.sent_messages[before[0]:], backend.sent_message_count - before[1]
    return (sent, recipients) if sent or recipients else None


def _new_sms(backend, before: int) -> tuple | None:
    new = len(backend.sms_messages) - before
    # the newest, in the order they were sent
    return (list(itertools.islice(reversed(backend.sms_messages.items()), new))[::-1],) if new > 0 else None


_journaled_email = _journaled_sends("ses", lambda b: (len(b.sent_messages), b.sent_message_count), _new_emails)
_journaled_sms = _journaled_sends("sms", lambda b: len(b.sms_messages), _new_sms)


def _journal_targets() -> list[tuple[type, str, Callable]]:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.s3.models import S3Backend
    from moto.ses.models import SESBackend
    from moto.sns.models import SNSBackend

    return [(DynamoDBBackend, "put_item", lambda fn: _journaled_dynamodb(fn, "item_attrs")),
            (DynamoDBBackend, "update_item", lambda fn: _journaled_dynamodb(fn, "key")),
            (DynamoDBBackend, "delete_item", lambda fn: _journaled_dynamodb(fn, "key")),
            (DynamoDBBackend, "transact_write_items", lambda fn: _journaled_dynamodb(fn, None)),
            # PartiQL writes (execute_statement) are not journaled: nothing of ours uses them.
            (S3Backend, "put_object", _journaled_s3),
            (S3Backend, "delete_object", _journaled_s3),   # delete_objects and copy_object come through these
            *((SESBackend, name, _journaled_email) for name in
              ("send_email", "send_templated_email", "send_bulk_templated_email", "send_raw_email")),
            (SNSBackend, "publish", _journaled_sms)]


def record_into(journal: journal_log.Journal) -> None:
    """From now on every write the emulator applies appends to `journal` (idempotent)."""
    global _journal
    if not _hooked:
        for owner, name, wrap in _journal_targets():
            _hooked[(owner, name)] = vars(owner)[name]
            setattr(owner, name, wrap(vars(owner)[name]))
    _journal = journal


def stop_recording() -> None:
    global _journal
    _journal = None
    for (owner, name), value in _hooked.items():
        setattr(owner, name, value)
    _hooked.clear()


def request_done() -> None:
    """Called by the emulator once a request was applied, before it answers: the request's S3
    objects are appended, then the journal is flushed up to its last record. Every request waits,
    reads too: a read that saw a write not yet flushed must not be answered before that write is."""
    journal = _journal
    touched = getattr(_request, "objects", None)
    _request.objects = None
    if journal is None:
        return
    if touched:
        journal.append("s3", lambda: _objects_now(list(touched)))
    journal.wait_durable()


def replay(data: DataDir, after: int, stripe_load: Callable[[bytes], int] | None = None) -> dict[str, int]:
    """Apply the journal's records numbered above `after` (the snapshot's), in order; before
    anything serves and before record_into(). What was replayed, by kind, and the last number."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    counts = {"records": 0, "last": after, "stripe": 0}
    stripe_blob = None
    try:
        records = list(journal_log.read(data.journal, after))
    except journal_log.Unreadable as exc:
        raise StateUnreadable(f"the journal cannot be read: {exc}") from None
    for record in records:
        counts["records"] += 1
        counts["last"] = record.number
        if record.kind == "dynamodb":
            account, region, images = record.data
            tables = dynamodb_backends[account][region].tables
            for name, hash_key, range_key, item in images:
                table = tables.get(name)
                if table is None:          # a table the template no longer has, as in restore()
                    continue
                if range_key is None:
                    if item is None:
                        table.items.pop(hash_key, None)
                    else:
                        table.items[hash_key] = item
                elif item is None:
                    table.items.get(hash_key, {}).pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = item
        elif record.kind == "s3":
            for account, bucket_name, key_name, image in record.data:
                s3 = s3_backends[account]["global"]
                if bucket_name not in s3.buckets:
                    continue
                if image is None:
                    s3.delete_object(bucket_name, key_name)
                else:
                    key = s3.put_object(bucket_name, key_name, image[0], disable_notification=True)
                    key.set_metadata(dict(image[1]))
        elif record.kind == "ses":
            account, region, sent, recipients = record.data
            ses = ses_backends[account][region]
            kept = {getattr(m, "id", None) for m in ses.sent_messages}
            new = [m for m in sent if getattr(m, "id", None) not in kept]
            if new or not sent:
                ses.sent_messages.extend(new)
                ses.sent_message_count += recipients
        elif record.kind == "sms":
            account, region, sent = record.data
            sns_backends[account][region].sms_messages.update(sent)
        elif record.kind == "stripe":
            stripe_blob = record.data   # each record holds all of Stripe's objects: the last one is the state
    if stripe_blob is not None and stripe_load is not None:
        counts["stripe"] = stripe_load(stripe_blob)
    return counts


class Snapshotter:
    """Writes the snapshot at most once per interval, when the emulator has served something."""

    def __init__(self, data: DataDir, take: Callable[[], bytes], interval: float = SNAPSHOT_INTERVAL_SECONDS,
                 on_error: Callable[[str], None] = print, cpu_clock: Callable[[], float] = time.thread_time,
                 saved: Callable[[], None] | None = None) -> None:
        """`saved`: called once the snapshot on disk holds what `take` returned (the journal drops
        the segments it covers)."""
        self.data, self.take, self.interval, self.on_error = data, take, interval, on_error
        self.saved = saved
        self.cpu_clock = cpu_clock   # this thread's CPU time: the capture's cost, not its wait for the GIL
        self.last_wait = interval
        self._noticed_slow = False
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._digest: bytes | None = None
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="snapshot", daemon=True)

    def changed(self) -> None:
        self._changed.set()

    def start(self) -> None:
        self._thread.start()

    def save(self) -> bool:
        """Write the snapshot now if it differs from the last one written; True when written."""
        with self._write_lock:
            blob = self.take()
            digest = hashlib.sha256(blob).digest()
            written = digest != self._digest
            if written:
                write_atomically(self.data.snapshot, blob)
                self._digest = digest
            if self.saved is not None:
                self.saved()
            return written

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._changed.wait()
            if self._stopping.is_set():
                return
            self._changed.clear()
            started = self.cpu_clock()
            try:
                self.save()
            except Exception as exc:  # noqa: BLE001 - the next change tries again; the stack goes on
                self.on_error(f"the state could not be saved to {self.data.snapshot}: {type(exc).__name__}: {exc}")
            self.last_wait = next_snapshot_after(self.cpu_clock() - started, self.interval)
            if self.last_wait > SLOW_SNAPSHOT_NOTICE_SECONDS and not self._noticed_slow:
                self._noticed_slow = True
                self.on_error(f"the local data has grown: it is saved every {self.last_wait:.0f} s "
                              f"(the journal keeps every write between; `make reset` wipes it)")
            self._stopping.wait(self.last_wait)

    def stop(self) -> None:
        """Stop the loop and write what the last requests changed."""
        self._stopping.set()
        self._changed.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.save()
