"""Mailbox delivery into ``state_dir/mailboxes/<address>/{tmp,new,cur}`` (standard Maildir).

A message is written to ``tmp/``, fsync'ed, then renamed into ``new/`` (the Maildir
protocol), so a reader never sees half a message.
"""
from __future__ import annotations

import itertools
import os
import socket
import time
import uuid
from pathlib import Path

from lab.core.errors import ConfigError

_COUNTER = itertools.count(1)


class Maildirs:
    """Every mailbox of the lab under ``state_dir/mailboxes``."""

    def __init__(self, state_dir: str | os.PathLike):
        self.root = Path(state_dir) / "mailboxes"
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, address: str) -> Path:
        """The Maildir of ``address`` (created with tmp/new/cur when missing).

        Raises:
            ConfigError: the address cannot be a directory name.
        """
        name = address.strip().lower()
        if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
            raise ConfigError(f"{address!r} is not a mailbox address the lab can store")
        box = self.root / name
        for sub in ("tmp", "new", "cur"):
            (box / sub).mkdir(parents=True, exist_ok=True)
        return box

    def deliver(self, address: str, data: bytes) -> Path:
        """Store ``data`` in the mailbox of ``address``; returns the file in ``new/``."""
        box = self.path(address)
        unique = f"{int(time.time())}.M{uuid.uuid4().hex[:12]}P{os.getpid()}Q{next(_COUNTER)}.{socket.gethostname()}"
        tmp, new = box / "tmp" / unique, box / "new" / unique
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.rename(tmp, new)
        return new

    def messages(self, address: str) -> list[bytes]:
        """Every message in ``new/`` and ``cur/`` of the mailbox, oldest first."""
        box = self.path(address)
        files = sorted([*(box / "new").iterdir(), *(box / "cur").iterdir()], key=lambda p: (p.stat().st_mtime_ns, p.name))
        return [p.read_bytes() for p in files]
