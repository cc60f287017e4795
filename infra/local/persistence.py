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
request. A kill -9 loses at most the requests since the last
snapshot: one second on a small data set, 20 x the capture's CPU time on a large one (the
console says the interval when it passes 5 s).

Not kept: Step Functions executions (they are threads of this process). On start the stack
starts a fresh execution for every open return, which the state machine routes by the return's
status (resume.py); the token key is kept in its own file (`token-key`) so tokens issued before a
restart still verify, and the ledger key in `ledger-key`, so the entries sealed before a restart
still verify (a new key would make every one of them a `hash_mismatch`).
"""
from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

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

def _dynamodb_items(account: str, region: str) -> dict:
    """{table name: its items}, pickled under the DynamoDB lock: one consistent instant."""
    from moto.dynamodb.models import dynamodb_backends

    from . import atomic

    backend = dynamodb_backends[account][region]
    with atomic.lock():
        return pickle.dumps({name: table.items for name, table in backend.tables.items()},
                            protocol=pickle.HIGHEST_PROTOCOL)


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


def capture(account: str, region: str, stripe_state: Callable[[], bytes] | None) -> bytes:
    """The whole snapshot as bytes, DynamoDB first (see the module's docstring)."""
    tables = _dynamodb_items(account, region)
    state = {"format": FORMAT, "dynamodb": tables, "s3": _s3_objects(account),
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


class Snapshotter:
    """Writes the snapshot at most once per interval, when the emulator has served something."""

    def __init__(self, data: DataDir, take: Callable[[], bytes], interval: float = SNAPSHOT_INTERVAL_SECONDS,
                 on_error: Callable[[str], None] = print, cpu_clock: Callable[[], float] = time.thread_time) -> None:
        self.data, self.take, self.interval, self.on_error = data, take, interval, on_error
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
            if digest == self._digest:
                return False
            write_atomically(self.data.snapshot, blob)
            self._digest = digest
            return True

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
                              f"(a kill -9 loses up to that much; Ctrl-C loses nothing; `make reset` wipes it)")
            self._stopping.wait(self.last_wait)

    def stop(self) -> None:
        """Stop the loop and write what the last requests changed."""
        self._stopping.set()
        self._changed.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.save()
