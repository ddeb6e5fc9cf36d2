"""The durable queue under ``state_dir/queue/`` and the message tracking log ``state_dir/tracking.jsonl``.

A message accepted with 250 must survive a restart (DESIGN.md, state dir). For each message
the spool keeps ``<InternalId>.eml`` (the bytes) and ``<InternalId>.json`` (envelope and
progress: recipients done, delay DSN sent). Both are written to temporary files and fsync'ed,
renamed (the ``.json`` after the ``.eml``), then the directory is fsync'ed once; a ``.json``
without its ``.eml`` (a crash between the renames, before the 250) is discarded at load, so
a message is in the spool exactly when both are. The driver
writes it BEFORE the 250 reply (the transport's ``Persist`` command comes first).

A record is anything with ``internal_id``, ``data`` and ``meta()`` whose type has
``from_meta(meta, data)``: the transport's :class:`QueuedMessage`, EOP's
:class:`lab.core.eop.service.SpooledItem` (``load(SpooledItem)``).
"""
from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol

from lab.core.exchange.queue_records import QueuedMessage, TrackingEvent
from lab.core.trace import Step, Trace


class SpoolRecord(Protocol):
    internal_id: int
    data: bytes

    def meta(self) -> dict[str, Any]: ...


class _RecordType(Protocol):
    @staticmethod
    def from_meta(meta: Mapping[str, Any], data: bytes) -> Any: ...


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)  # open(path, "wb")
_APPEND = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)  # open(path, "a")


def _fsync_dir(path: str | os.PathLike) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _write_fd(path: str | os.PathLike, flags: int, data: bytes, sync: bool) -> None:
    """open + write + (fsync) + close on the file descriptor: no buffered file object per write."""
    fd = os.open(path, flags, 0o666)
    try:
        _write_all(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: str | os.PathLike, data: bytes) -> str:
    """Write ``data`` to a temporary file beside ``path`` and fsync it; returns the temporary file."""
    head, name = os.path.split(os.fspath(path))
    tmp = os.path.join(head, f".{name}.tmp")
    _write_fd(tmp, _CREATE, data, sync=True)
    return tmp


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` durably: temp file, fsync, rename, fsync of the directory."""
    os.replace(_write_synced(path, data), path)
    _fsync_dir(path.parent)


class Spool:
    """The queue directory of one server (``state_dir/queue/<server>/`` when ``server`` is given)."""

    def __init__(self, state_dir: str | os.PathLike, server: str | None = None):
        base = Path(state_dir) / "queue"
        self.path = base / server.lower() if server else base
        self.path.mkdir(parents=True, exist_ok=True)
        self._dir = os.fspath(self.path)

    def _paths(self, internal_id: int) -> tuple[Path, Path]:
        return self.path / f"{internal_id}.eml", self.path / f"{internal_id}.json"

    def _names(self, internal_id: int) -> tuple[str, str]:
        """``_paths`` as plain strings (the per-message hot path: no pathlib objects)."""
        base = os.path.join(self._dir, str(internal_id))
        return base + ".eml", base + ".json"

    def write(self, record: SpoolRecord) -> None:
        """Spool an accepted message (bytes first, then the envelope that makes it count)."""
        eml, meta = self._names(record.internal_id)
        eml_tmp = _write_synced(eml, record.data)
        meta_tmp = _write_synced(meta, json.dumps(record.meta(), sort_keys=True).encode("utf-8"))
        os.replace(eml_tmp, eml)
        os.replace(meta_tmp, meta)  # one directory fsync makes both names durable, before the 250
        _fsync_dir(self._dir)

    def checkpoint(self, internal_id: int, done: Iterable[str], delay_dsn_sent: bool) -> None:
        """Record progress (recipients finished, delay DSN sent) of a spooled message."""
        _, meta_path = self._paths(internal_id)
        if not meta_path.exists():
            return
        meta = json.loads(meta_path.read_text("utf-8"))
        meta["done"], meta["delay_dsn_sent"] = list(done), bool(delay_dsn_sent)
        atomic_write(meta_path, json.dumps(meta, sort_keys=True).encode("utf-8"))

    def rewrite(self, record: SpoolRecord) -> None:
        """Replace the envelope of a spooled record (its progress changed; the bytes stay)."""
        _, meta_path = self._paths(record.internal_id)
        if meta_path.exists():
            atomic_write(meta_path, json.dumps(record.meta(), sort_keys=True).encode("utf-8"))

    def remove(self, internal_id: int) -> None:
        """Forget a finished message (envelope first, so a crash leaves no half message in the queue)."""
        eml, meta = self._names(internal_id)
        for path in (meta, eml):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        _fsync_dir(self._dir)

    def load(self, kind: _RecordType = QueuedMessage) -> list[Any]:
        """Every spooled record (of ``kind``), oldest InternalId first; leftovers of interrupted writes are removed."""
        records = []
        for meta_path in sorted(self.path.glob("*.json"), key=lambda p: int(p.stem)):
            eml = meta_path.with_suffix(".eml")
            if not eml.exists():
                meta_path.unlink()
                continue
            records.append(kind.from_meta(json.loads(meta_path.read_text("utf-8")), eml.read_bytes()))
        for stray in self.path.glob("*.eml"):
            if not stray.with_suffix(".json").exists():
                stray.unlink()
        for tmp in self.path.glob(".*.tmp"):
            tmp.unlink()
        return records

    def ids(self) -> list[int]:
        """InternalIds currently spooled."""
        return sorted(int(p.stem) for p in self.path.glob("*.json"))


_ENCODE = json.JSONEncoder(sort_keys=True).encode  # json.dumps(value, sort_keys=True)
_NO_TRACE = Trace("")
_STEPS_KEPT = 8192  # encoded steps remembered (a bound; steps of messages long gone are dropped)


class TrackingLog:
    """``state_dir/tracking.jsonl``: one JSON object per message tracking event, appended.

    Each line is ``json.dumps(event.to_dict(epoch), sort_keys=True)``, byte for byte. An event
    carries its message's whole trace so far, so a message retried for two lab days writes a
    trace that grows by a few steps per event: the steps' JSON is remembered (a :class:`Step` is
    frozen), and a line costs the JSON of its new steps plus joining the old ones.
    """

    def __init__(self, state_dir: str | os.PathLike, epoch: datetime | None = None):
        self.path = Path(state_dir) / "tracking.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.epoch = epoch
        self._steps: dict[tuple, str] = {}

    def append(self, event: TrackingEvent) -> None:
        """Append one event (flushed; the log is for reading, not for recovery)."""
        _write_fd(self.path, _APPEND, (self.line(event) + "\n").encode("utf-8"), sync=False)

    def line(self, event: TrackingEvent) -> str:
        """The event's line: ``json.dumps(event.to_dict(self.epoch), sort_keys=True)``."""
        data = dataclasses.replace(event, trace=_NO_TRACE).to_dict(self.epoch)
        del data["Trace"]
        if not data or max(data) >= "Trace":  # "Trace" would not be the last key: say it plainly
            return json.dumps(event.to_dict(self.epoch), sort_keys=True)
        return f'{_ENCODE(data)[:-1]}, "Trace": {self._trace(event.trace)}}}'

    def _trace(self, trace: Trace) -> str:
        hops = ", ".join(f'{{"node": {_ENCODE(h.node)}, "steps": [{", ".join(map(self._step, h.steps))}]}}'
                         for h in trace.hops)
        return (f'{{"disposition": {_ENCODE(trace.disposition)}, "hops": [{hops}], '
                f'"message_id": {_ENCODE(trace.message_id)}}}')

    def _step(self, step: Step) -> str:
        key = (step.rule, step.detail, step.reply, type(step.at), step.at)  # 1 == 1.0, but "1" != "1.0"
        text = self._steps.get(key)
        if text is None:
            if len(self._steps) >= _STEPS_KEPT:
                self._steps.clear()
            text = self._steps[key] = _ENCODE(step.to_dict())
        return text

    def read(self) -> list[dict]:
        """Every event so far."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text("utf-8").splitlines() if line.strip()]
