"""The ports the tests give their servers (tests/ports.py): never from the kernel's ephemeral pool,
never the same one twice in a worker, never one a neighbouring worker can be given."""
from __future__ import annotations

import socket

import pytest

from tests import ports


def test_a_worker_never_gets_a_port_from_the_ephemeral_range_nor_the_same_one_twice():
    low, high = ports.ephemeral_range()
    given = [ports.free_port() for _ in range(60)]
    assert len(set(given)) == len(given)
    assert all(ports.LOWEST <= port < low for port in given), (low, high, given)


def test_the_port_given_is_free_to_bind_now():
    port = ports.free_port()
    with socket.socket() as server:
        server.bind((ports.HOST, port))


def test_a_port_something_holds_is_skipped():
    block = ports._Ports()
    # A port of the block that is free now (a random one may be held already: a server an earlier test
    # of this worker started, or one of the machine's), then the block turned back to it.
    held = block.take()
    block.position = block.block.index(held)
    with socket.socket() as holder:
        holder.bind((ports.HOST, held))
        holder.listen()
        assert block.take() != held


@pytest.mark.parametrize("low", [32768, 49152, 10000])
def test_the_blocks_of_the_workers_of_a_run_do_not_overlap(low):
    blocks = [set(ports.block_for(index, low)) for index in range(8)]
    assert all(not (a & b) for i, a in enumerate(blocks) for b in blocks[i + 1:])
    assert all(max(b) < low and min(b) >= ports.LOWEST for b in blocks)


def test_workers_are_numbered_as_xdist_names_them():
    assert [ports.worker_index(name) for name in ("gw0", "gw1", "gw12", "", "master")] == [0, 1, 12, 0, 0]


def test_the_range_is_read_from_proc_or_taken_as_linux_default(tmp_path):
    written = tmp_path / "ip_local_port_range"
    written.write_text("40000\t50000\n")
    assert ports.ephemeral_range(written) == (40000, 50000)
    assert ports.ephemeral_range(tmp_path / "absent") == ports.LINUX_DEFAULT
