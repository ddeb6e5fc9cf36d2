"""MemoryHost's file store is made when a console first reads or writes a file: a file written
is read back (in memory, or under files_dir), a missing one is FileNotFoundError, and a host that
never touches a file never makes the store."""
from __future__ import annotations

from pathlib import Path

import pytest

from lab.console.host import Session
from lab.console.memory_host import MemoryHost
from lab.core.world import World
from lab.memory import MemoryLab, Trust
from lab.topology.load import load_topology

TOPOLOGY = Path(__file__).resolve().parents[2] / "topology.yaml"


@pytest.fixture(scope="module")
def lab() -> MemoryLab:
    topology = load_topology(TOPOLOGY)
    return MemoryLab(World.from_topology(topology, {}), Trust(), topology.settings.clock_start)


def test_files_in_memory(lab):
    host = MemoryHost(lab, None, Session(server="ex01"))
    assert "_files" not in host.__dict__
    with pytest.raises(FileNotFoundError):
        host.read_file("c:\\certs\\missing.cer")
    host.write_file("c:\\certs\\a.cer", b"one")
    assert host.read_file("c:\\certs\\a.cer") == b"one"
    other = MemoryHost(lab, None, Session(server="ex01"))  # each console its own store, as before
    with pytest.raises(FileNotFoundError):
        other.read_file("c:\\certs\\a.cer")


def test_files_under_a_directory(lab, tmp_path):
    host = MemoryHost(lab, None, Session(server="ex01"), files_dir=tmp_path)
    host.write_file("req.txt", b"two")
    assert host.read_file("req.txt") == b"two"
    assert any(p.read_bytes() == b"two" for p in tmp_path.rglob("*") if p.is_file())
