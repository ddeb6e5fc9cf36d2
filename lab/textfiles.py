"""Reading the text files users hand the lab (.ps1 scripts, collector JSON) in any Windows encoding.

Windows PowerShell 5.1 writes UTF-16 LE (``>``, ``Out-File``) and editors write UTF-8 with or
without a BOM; :func:`decode` takes all of them, :func:`read_text` also reads the file.
"""
from __future__ import annotations

from pathlib import Path

from lab.core.catalogue import lab as L
from lab.core.errors import ConfigError, Place


def decode(raw: bytes, place: Place) -> str:
    """UTF-16 (BOM, or BOM-less LE as Windows writes it) or UTF-8 (BOM dropped).

    Raises:
        ConfigError: the bytes are neither, naming ``place``.
    """
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16")
        if len(raw) >= 2 and raw[1:2] == b"\x00":
            return raw.decode("utf-16-le")
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(L.TEXT_FILE_NOT_TEXT.format(reason=exc.reason), place) from None


def read_text(path: str | Path) -> str:
    """The text of ``path``, decoded by :func:`decode`.

    Raises:
        ConfigError: the file cannot be read or is not UTF-8/UTF-16 text, naming the file.
    """
    place = Place(file=str(path))
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(L.TEXT_FILE_UNREADABLE.format(reason=exc.strerror or exc), place) from None
    return decode(raw, place)
