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

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol

from lab.core.exchange.queue_records import QueuedMessage, TrackingEvent


class SpoolRecord(Protocol):
    internal_id: int
    data: bytes

    def meta(self) -> dict[str, Any]: ...


class _RecordType(Protocol):
    @staticmethod
    def from_meta(meta: Mapping[str, Any], data: bytes) -> Any: ...


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and fsync it; returns the temporary file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
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

    def _paths(self, internal_id: int) -> tuple[Path, Path]:
        return self.path / f"{internal_id}.eml", self.path / f"{internal_id}.json"

    def write(self, record: SpoolRecord) -> None:
        """Spool an accepted message (bytes first, then the envelope that makes it count)."""
        eml, meta = self._paths(record.internal_id)
        eml_tmp = _write_synced(eml, record.data)
        meta_tmp = _write_synced(meta, json.dumps(record.meta(), sort_keys=True).encode("utf-8"))
        os.replace(eml_tmp, eml)
        os.replace(meta_tmp, meta)  # one directory fsync makes both names durable, before the 250
        _fsync_dir(self.path)

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
        eml, meta = self._paths(internal_id)
        for path in (meta, eml):
            path.unlink(missing_ok=True)
        _fsync_dir(self.path)

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


class TrackingLog:
    """``state_dir/tracking.jsonl``: one JSON object per message tracking event, appended."""

    def __init__(self, state_dir: str | os.PathLike, epoch: datetime | None = None):
        self.path = Path(state_dir) / "tracking.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.epoch = epoch

    def append(self, event: TrackingEvent) -> None:
        """Append one event (flushed; the log is for reading, not for recovery)."""
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(event.to_dict(self.epoch), sort_keys=True) + "\n")

    def read(self) -> list[dict]:
        """Every event so far."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text("utf-8").splitlines() if line.strip()]
