"""Ports for the servers the tests start: below the kernel's ephemeral range, a block per xdist worker.

A port picked with bind(("127.0.0.1", 0)) and released goes back to the pool the kernel draws from
for every other bind(0) and every outgoing connection on the machine, and a server started with it
binds it seconds later (the local stack binds its API port only after deploying). Under a full run
something else can hold it by then, and the stack exits 1 on a busy port. The kernel never hands
out a port below its ephemeral range on its own, so a port taken from there stays free until the
server that was given it binds it: each worker of a run draws from its own block, each port once
before any comes round again, and skips one that something on the machine already holds.
"""
from __future__ import annotations

import os
import random
import socket
from pathlib import Path

HOST = "127.0.0.1"
BLOCK = 400                 # ports per pytest worker: a full run's busiest worker uses a few dozen
LOWEST = 1024               # below: privileged
LINUX_DEFAULT = (32768, 60999)


def ephemeral_range(proc_file: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> tuple[int, int]:
    try:
        low, high = (int(part) for part in proc_file.read_text().split())
        return low, high
    except (OSError, ValueError):
        return LINUX_DEFAULT   # no /proc (macOS: 49152-65535, above this default's low end too)


def worker_index(name: str | None = None) -> int:
    """pytest-xdist's worker number ("gw3" -> 3); 0 outside xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "") if name is None else name
    digits = name[2:] if name.startswith("gw") else ""
    return int(digits) if digits.isdigit() else 0


def block_for(index: int, ephemeral_low: int) -> range:
    """Worker `index`'s ports: the index-th block of BLOCK ports counting down from the ephemeral range."""
    top = ephemeral_low - index * BLOCK
    if top - BLOCK < LOWEST:
        raise RuntimeError(f"no block of {BLOCK} ports below {ephemeral_low} for pytest worker {index}")
    return range(top - BLOCK, top)


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
            return True
        except OSError:
            return False


class _Ports:
    def __init__(self) -> None:
        self.block = block_for(worker_index(), ephemeral_range()[0])
        # A random start: two runs on one machine (a developer's and CI's) rarely walk the same ports.
        self.position = random.randrange(len(self.block))

    def take(self) -> int:
        for _ in range(len(self.block)):
            port = self.block[self.position]
            self.position = (self.position + 1) % len(self.block)
            if _bindable(port):
                return port
        raise RuntimeError(f"every port in {self.block.start}-{self.block.stop - 1} is in use")


_ports: _Ports | None = None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now and that nothing else in this run will be given."""
    global _ports
    if _ports is None:
        _ports = _Ports()
    return _ports.take()
