"""A scenario's topology is loaded once per file content: the file's status stands for its text only
when it vouches for it (settled), and any edit, even one keeping the size and the mtime, is seen."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from lab.scenario import play
from lab.scenario.model import Scenario

TOPOLOGY = Path(__file__).resolve().parents[2] / "topology.yaml"


def _scenario(tmp_path: Path) -> Scenario:
    return Scenario(name="t", title="t", article="", summary="", file=str(tmp_path / "01-t.yaml"), shell="ex01",
                    topology="world.yaml")


def _write(path: Path, start: str, keep_times: os.stat_result | None = None) -> None:
    text = TOPOLOGY.read_text(encoding="utf-8").replace('start: "2026-11-23T09:00:00+00:00"', f'start: "{start}"')
    path.write_text(text, encoding="utf-8")
    if keep_times is not None:  # an edit that hides in the old size and modification time
        os.utime(path, ns=(keep_times.st_atime_ns, keep_times.st_mtime_ns))


def _start(topology) -> str:
    return topology.settings.clock_start.isoformat()


@pytest.mark.parametrize("settled", [True, False])
def test_every_edit_is_seen_and_an_unchanged_file_is_not_loaded_again(tmp_path, monkeypatch, settled):
    if settled:  # the status vouches for the text at once (as for a file older than two seconds)
        monkeypatch.setattr(play, "_SETTLED", -1e9)
    scenario = _scenario(tmp_path)
    world = tmp_path / "world.yaml"
    _write(world, "2026-11-23T09:00:00+00:00")
    first = play.topology_of(scenario)
    assert _start(first) == "2026-11-23T09:00:00+00:00"
    assert play.topology_of(scenario) is first  # unchanged: the same model (status or text)
    before = os.stat(world)
    _write(world, "2026-11-23T10:00:00+00:00", keep_times=before)  # same size, same mtime
    assert os.stat(world).st_size == before.st_size and os.stat(world).st_mtime_ns == before.st_mtime_ns
    edited = play.topology_of(scenario)
    assert _start(edited) == "2026-11-23T10:00:00+00:00"
    assert play.topology_of(scenario) is edited
    world.unlink()
    _write(tmp_path / "other.yaml", "2026-11-23T11:00:00+00:00")
    os.replace(tmp_path / "other.yaml", world)  # a new file in its place
    assert _start(play.topology_of(scenario)) == "2026-11-23T11:00:00+00:00"


def test_a_status_vouches_only_for_a_settled_file(tmp_path):
    world = tmp_path / "world.yaml"
    _write(world, "2026-11-23T09:00:00+00:00")
    status = play._status(world)
    st = os.stat(world)
    assert status == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    changed = max(st.st_mtime_ns, st.st_ctime_ns) / 1e9
    assert not play._vouches(status, changed + 1.0)  # changed a second ago: racy, read the text
    assert play._vouches(status, changed + play._SETTLED + 0.5)
    assert play._status(tmp_path / "missing.yaml") is None and not play._vouches(None, changed + 100)


def test_a_missing_file_still_fails_in_its_own_words(tmp_path):
    from lab.core.errors import LabError
    with pytest.raises(LabError):
        play.topology_of(_scenario(tmp_path))
