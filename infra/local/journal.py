"""The local stack's write-ahead journal: a write the emulator answered is on disk first.

The snapshot (persistence.py) is taken at most once a second, so on its own a kill -9 lost the
writes of the last second, writes the API had already answered 201 or 200 for. The journal closes
that gap: every request the emulator applies that changes kept state appends one record here, and
no answer leaves the emulator before every record appended so far is flushed (fsync). The API
answers its client only after its own calls to the emulator were answered, so whatever it
acknowledged is on disk.

A record holds the state a request left behind, not the request: the items it wrote as they are
after it (None for a deleted one), the objects, the messages. Replaying such a record sets what it
names, so replaying one the snapshot already holds changes nothing (idempotent), and nothing
depends on moto generating the same ids or timestamps a second time. Records are numbered; the
snapshot records the number of the last one it holds, and a start replays the ones after it, in
order.

On disk: a folder of segments, each named by the number of its first record. A record is its
length, the CRC-32 of its body and the body (a pickle of (number, kind, data)). A kill -9 or a power
cut can leave the last record of a segment half written: reading stops at the first record whose
length or checksum does not hold, and goes on with the next segment (a later run's). A segment is
started when a snapshot is taken; once that snapshot is on disk, the segments before it are
deleted.

Flushing is a group commit: a request that must wait for the disk waits for the one fsync in
flight, or starts one that covers every record appended so far, so N concurrent requests cost
about one fsync, not N.

The fsync lets the GIL go (os.fdatasync), so the requests that arrive meanwhile run and append,
and the next fsync covers them all: 0.4-0.6 fsyncs per write with 8 concurrent writers (bench/
journal_cost.py). Keeping the GIL through the fsync (libc's through ctypes.PyDLL) was tried: one
writer alone waits less for the GIL to come back after the fsync, but concurrent writers then get
no batching at all (1 fsync per write) and lower throughput.
"""
from __future__ import annotations

import os
import pickle
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_HEADER = struct.Struct("<II")    # body length, CRC-32 of the body
SUFFIX = ".journal"


# fdatasync: the data and the size, not the times, which is all a reader needs (macOS has fsync only)
_write, _sync = os.write, getattr(os, "fdatasync", os.fsync)


class Unreadable(Exception):
    pass


@dataclass(frozen=True)
class Record:
    number: int
    kind: str
    data: Any


def _segment_name(first: int) -> str:
    return f"{first:020d}{SUFFIX}"


def segments(folder: Path) -> list[Path]:
    """The journal's segments, oldest first."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIX) and p.name[:-len(SUFFIX)].isdigit())


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def encode(number: int, kind: str, data: Any) -> bytes:
    body = pickle.dumps((number, kind, data), protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body), zlib.crc32(body)) + body


def read_segment(path: Path) -> Iterator[Record]:
    """The whole records of one segment, in order; a torn or damaged tail ends it. Unreadable: a
    whole record that does not load."""
    blob = path.read_bytes()
    at = 0
    while at + _HEADER.size <= len(blob):
        length, crc = _HEADER.unpack_from(blob, at)
        body = blob[at + _HEADER.size:at + _HEADER.size + length]
        if len(body) < length or zlib.crc32(body) != crc:
            return
        try:
            number, kind, data = pickle.loads(body)
        except Exception as exc:  # noqa: BLE001 - whatever the unpickling raised
            # Whole (its checksum holds) yet unreadable: written by another moto or localstripe than
            # this one, not torn. Skipping it would lose an acknowledged write without a word.
            raise Unreadable(f"{path}: record at byte {at} cannot be read ({type(exc).__name__}: {exc})") from None
        yield Record(number, kind, data)
        at += _HEADER.size + length


def read(folder: Path, after: int = 0) -> Iterator[Record]:
    """Every whole record numbered above `after`, in the order they were appended."""
    last = after
    for path in segments(folder):
        for record in read_segment(path):
            # Numbers only grow; one that does not belongs to a tail already read (cannot happen with
            # the segments this module writes, and must not be applied twice if it did).
            if record.number > last:
                last = record.number
                yield record


def last_number(folder: Path) -> int:
    """The number of the last whole record (0 when there is none)."""
    last = 0
    for record in read(folder):
        last = record.number
    return last


class Journal:
    """Appends records to the current segment and flushes them, many requests per fsync."""

    def __init__(self, folder: Path, after: int) -> None:
        """Records are numbered from `after` + 1: above everything the folder or the snapshot holds."""
        self.folder = folder
        if not folder.exists():
            folder.mkdir(parents=True)
            _fsync_folder(folder.parent)   # the folder's name, as each segment's (_open)
        self._lock = threading.Lock()
        self._flushed = threading.Condition(self._lock)
        self._appended = self._durable = after
        self._syncing = False
        self._closed = False
        self._fd, self._segment = self._open(after + 1)
        self._segment_first = after + 1
        self.appends = self.syncs = 0   # what it cost: records written, fsyncs done

    def _open(self, first: int) -> tuple[int, Path]:
        path = self.folder / _segment_name(first)
        # A segment of this name can only be a crashed run's that holds no whole record (its first
        # would be numbered `first`, and numbering starts above every whole record): emptied.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)
        _fsync_folder(self.folder)     # the new name survives a power cut, as its records will
        return fd, path

    @property
    def last(self) -> int:
        """The number of the last record appended."""
        return self._appended

    @property
    def behind(self) -> bool:
        """Whether some record appended is not on disk yet (a read that may have seen it waits)."""
        return self._durable < self._appended

    def append(self, kind: str, data: Callable[[], Any]) -> int:
        """Write one record; its number. `data` is called under the journal's lock, so the state it
        reads and the record's place in the journal are one step: of two records about one thing, the
        later always holds the later state. Not flushed yet: see wait_durable()."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the journal is closed")
            number = self._appended + 1
            record = encode(number, kind, data())
            written = 0
            while written < len(record):
                done = _write(self._fd, record[written:])
                if done == 0:    # a full disk: the request must fail, not be answered
                    raise OSError(f"journal: {written} of {len(record)} bytes written to {self._segment}")
                written += done
            self._appended = number
            self.appends += 1
            return number

    def wait_durable(self) -> None:
        """Return once every record appended before this call is on disk (group commit)."""
        with self._lock:
            target = self._appended
            while self._durable < target:
                if self._syncing:
                    self._flushed.wait()
                    continue
                self._syncing = True
                upto, fd = self._appended, self._fd
                self._lock.release()
                synced = False
                try:
                    _sync(fd)
                    synced = True
                finally:
                    self._lock.acquire()
                    self._syncing = False
                    if synced:
                        self._durable = max(self._durable, upto)
                        self.syncs += 1
                    self._flushed.notify_all()

    def rotate(self) -> int:
        """Start a new segment (the snapshot being taken holds everything appended so far); the
        number of the last record appended. The caller holds whatever keeps new records out while
        the snapshot reads the state (the DynamoDB lock)."""
        with self._lock:
            while self._syncing:          # never close the file under an fsync in flight
                self._flushed.wait()
            if self._appended >= self._segment_first:      # an empty segment is kept as it is
                _sync(self._fd)
                self._durable = self._appended
                os.close(self._fd)
                self._fd, self._segment = self._open(self._appended + 1)
                self._segment_first = self._appended + 1
            return self._appended

    def drop_before_current(self) -> None:
        """Delete the segments before the current one: a snapshot on disk holds all they hold."""
        with self._lock:
            current = self._segment
        for path in segments(self.folder):
            if path.name < current.name:
                path.unlink(missing_ok=True)

    def close(self) -> None:
        self.wait_durable()
        with self._lock:
            while self._syncing:
                self._flushed.wait()
            if not self._closed:
                self._closed = True
                os.close(self._fd)
