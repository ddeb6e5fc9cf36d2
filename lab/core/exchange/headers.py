"""Dates and headers the Exchange receive side writes (fidelity §1.1 banner date, §7).

``Received:`` as Exchange writes it, the ``X-MS-Exchange-Organization-AuthAs`` /
``AuthSource`` pair, and the header firewall that strips ``X-MS-Exchange-Organization-*``
headers a sender may not set (M-RCV: ms-Exch-Accept-Headers-Organization).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from email.utils import format_datetime

from lab.core.catalogue import exchange as cat
from lab.core.fastpath import frozen_init
from lab.core.memo import Remembered

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ORG_HEADER_PREFIX = "x-ms-exchange-organization-"
AUTH_AS = "X-MS-Exchange-Organization-AuthAs"
AUTH_SOURCE = "X-MS-Exchange-Organization-AuthSource"
# Hybrid (CloudServicesMailEnabled): the organization headers cross premises under this prefix
# and are promoted back by a receive connector with TlsDomainCapabilities
# <domain>:AcceptCloudServicesMail (fidelity §7.2, P-NSC/P-NIC).
CROSS_PREMISES_PREFIX = "X-MS-Exchange-CrossPremises-"
CROSS_PREMISES_AUTH_AS = CROSS_PREMISES_PREFIX + "AuthAs"
FOLD_WIDTH = 78

# OpenSSL -> IANA names for the TLS 1.2 suites a lab peer can negotiate (TLS 1.3 names are IANA already).
_KX = {"ECDHE-RSA": "ECDHE_RSA", "ECDHE-ECDSA": "ECDHE_ECDSA", "DHE-RSA": "DHE_RSA", "": "RSA"}
_ENC = {"AES128-GCM": "AES_128_GCM", "AES256-GCM": "AES_256_GCM", "AES128": "AES_128_CBC",
        "AES256": "AES_256_CBC", "CHACHA20-POLY1305": "CHACHA20_POLY1305"}


def exchange_date(now: datetime) -> str:
    """``Fri, 5 Aug 2016 16:24:41 -0700``: the banner / Received date (day not zero-padded).

    A naive ``now`` is taken as UTC.
    """
    last = _LAST_DATE[0]
    if last[0] is now:  # datetimes are immutable; the lab hands out one per instant
        return last[1]
    text = _exchange_date(now)
    _LAST_DATE[0] = (now, text)
    return text


_LAST_DATE: list[tuple[object, str]] = [(None, "")]


def _exchange_date(now: datetime) -> str:
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    offset = now.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return (f"{_DAYS[now.weekday()]}, {now.day} {_MONTHS[now.month - 1]} {now.year} "
            f"{now.hour:02d}:{now.minute:02d}:{now.second:02d} {sign}{minutes // 60:02d}{minutes % 60:02d}")


def mail_date(when: datetime) -> str:
    """``email.utils.format_datetime(when)`` (a Date / Arrival-Date value), remembered per instant and
    UTC offset: equal aware datetimes with the same offset have the same wall time, so the same text
    (the lab hands out one datetime per instant; every scenario starts at the same one)."""
    return _mail_date(when, when.utcoffset())


@lru_cache(maxsize=256)
def _mail_date(when: datetime, offset: object) -> str:
    return format_datetime(when)


def tls_version_name(version: str) -> str:
    """``TLSv1.2`` -> ``TLS1_2`` (Received header form)."""
    return version.replace("TLSv", "TLS").replace(".", "_")


def iana_cipher(name: str) -> str:
    """OpenSSL cipher name -> IANA name, e.g. ``ECDHE-RSA-AES128-GCM-SHA256`` ->
    ``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256``; names already in IANA form pass through."""
    if name.startswith("TLS_"):
        return name
    for kx in sorted(_KX, key=len, reverse=True):
        prefix = kx + "-" if kx else ""
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix):]
        for enc in sorted(_ENC, key=len, reverse=True):
            if rest.startswith(enc):
                mac = rest[len(enc):].lstrip("-") or "SHA"
                return f"TLS_{_KX[kx]}_WITH_{_ENC[enc]}_{mac}"
    return name


@frozen_init
@dataclass(frozen=True)
class TlsFacts:
    """What the session knows about an established TLS layer."""

    version: str = "TLSv1.2"
    cipher: str = "ECDHE-RSA-AES128-GCM-SHA256"
    peer_names: tuple[str, ...] = ()
    peer_cert: object | None = None


def received_header(*, helo: str, client_ip: str, fqdn: str, server_ip: str, build: str, version: int,
                    tls: TlsFacts | None, frontend: bool, now: datetime) -> str:
    """The ``Received:`` header line (folded, CRLF-terminated) Exchange prepends (fidelity §7.1).

    Args:
        helo: the client's EHLO/HELO name.
        client_ip: the client's (virtual) address.
        fqdn: the receive connector's FQDN.
        server_ip: the server's (virtual) address the client connected to.
        build: the server build, e.g. ``15.1.2507.37``.
        version: the Exchange version (2013 writes ``(TLS)`` instead of version/cipher).
        tls: the TLS facts, or None for a plain session (no parenthesis).
        frontend: True for a Front End Transport connector (adds ``via Frontend Transport``).
        now: the arrival time.
    """
    return _received_header(helo, client_ip, fqdn, server_ip, build, version,
                            None if tls is None else (tls.version, tls.cipher), frontend, exchange_date(now))


# Received headers by everything they are written from (a pure function of these strings; a lab
# instant and a pair of hosts repeat for every message between them)
@lru_cache(maxsize=4096)
def _received_header(helo: str, client_ip: str, fqdn: str, server_ip: str, build: str, version: int,
                     tls: tuple[str, str] | None, frontend: bool, date: str) -> str:
    """:func:`received_header` of the TLS version and cipher (None: no TLS) and the date text."""
    if tls is None:
        tls_text = ""
    elif version <= 2013:
        tls_text = cat.HDR_RECEIVED_TLS_2013.text
    else:
        tls_text = cat.HDR_RECEIVED_TLS.format(version=tls_version_name(tls[0]), cipher=iana_cipher(tls[1]))
    body = cat.HDR_RECEIVED.format(helo=helo, client_ip=client_ip, fqdn=fqdn, server_ip=server_ip, tls=tls_text,
                                   build=build, via=cat.HDR_VIA_FRONTEND.text if frontend else "", date=date)
    return fold(f"Received: {body}")


def fold(line: str, width: int = FOLD_WIDTH) -> str:
    """Folds a header at spaces so no physical line exceeds ``width``; returns it with CRLFs."""
    out: list[str] = []
    current = ""
    for word in line.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and len(candidate) > width:
            out.append(current)
            current = " " + word
        else:
            current = candidate
    out.append(current)
    return "\r\n".join(out) + "\r\n"


def strip_organization_headers(content: bytes) -> bytes:
    """Removes ``X-MS-Exchange-Organization-*`` header fields (and their folded lines) from the
    header block; the body is untouched (header firewall, M-RCV)."""
    return strip_headers(content, ORG_HEADER_PREFIX)


def to_cross_premises(content: bytes) -> bytes:
    """``X-MS-Exchange-Organization-<X>`` -> ``X-MS-Exchange-CrossPremises-<X>`` (a hybrid send
    with CloudServicesMailEnabled); CrossPremises headers already present are replaced."""
    content = strip_headers(content, CROSS_PREMISES_PREFIX.lower())
    return _rename_prefix(content, ORG_HEADER_PREFIX, CROSS_PREMISES_PREFIX)


def promote_cross_premises(content: bytes) -> bytes:
    """``X-MS-Exchange-CrossPremises-<X>`` -> ``X-MS-Exchange-Organization-<X>`` (a receive
    connector with AcceptCloudServicesMail), replacing organization headers of the same name."""
    return _rename_prefix(content, CROSS_PREMISES_PREFIX.lower(), "X-MS-Exchange-Organization-")


def _rename_prefix(content: bytes, old: str, new: str) -> bytes:
    head, sep, body = content.partition(b"\r\n\r\n")
    if not sep:
        return content
    old_key, new_key, new_name = old.lower().encode(), new.lower().encode(), new.encode()
    if old_key not in head.lower():  # no line starts with it: nothing is renamed (as below)
        return content
    lines = head.split(b"\r\n")
    renamed = {line.split(b":", 1)[0][len(old):].lower() for line in lines if line.lower().startswith(old_key)}
    if not renamed:
        return content
    out: list[bytes] = []
    dropping = False
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                out.append(line)
            continue
        name = line.split(b":", 1)[0]
        lowered = name.lower()
        dropping = lowered.startswith(new_key) and lowered[len(new):] in renamed
        if dropping:
            continue
        if lowered.startswith(old_key):
            line = new_name + name[len(old):] + line[len(name):]
        out.append(line)
    return b"\r\n".join(out) + sep + body


def strip_headers(content: bytes, prefix: str) -> bytes:
    """Removes the header fields whose (lower-case) name starts with ``prefix``, folded lines included.

    Lines are those of ``bytes.splitlines`` (ended by CRLF, CR or LF); a field is its line and the
    folded lines (starting with a space or tab) after it.
    """
    wanted = _WANTED.get(prefix)  # prefix.lower().encode(), remembered per prefix
    if wanted is None:
        wanted = _wanted(prefix)
    block = _LAST_BLOCK[0]
    if block[0] is not content:
        block = _header_block(content)
    if block is not None:  # the bytes before the first CRLF CRLF (content.partition's head), lowered
        head, sep, body, lowered = block[2], b"\r\n\r\n", None, block[3]
    else:
        head, sep, body = content.partition(b"\r\n\r\n")
        if not sep:
            head, sep, body = content.partition(b"\n\n")
        lowered = head.lower()
    if lowered.find(wanted) < 0:  # no line starts with it: every line is kept (find: ``in`` costs more)
        if sep and head[-1:] not in (b"\r", b"\n") and type(content) is bytes:
            return content  # head + sep + body, unchanged
        return head.rstrip(b"\r\n") + sep + (content[block[1] + 4:] if body is None else body)
    if body is None:  # (the block's: the bytes after its CRLF CRLF)
        body = content[block[1] + 4:]
    field = _FIELD_PATTERNS[wanted]
    if field is None:  # a prefix that is not a plain name (starts with a blank, holds a line end)
        return _strip_lines(head, wanted) + sep + body
    # one pass over the lowered block (the same length as ``head``): cut the fields that start a line
    kept: list[bytes] = []
    start = 0
    for match in field.finditer(lowered):
        at = match.start()
        if at and lowered[at - 1] not in _CR_LF:  # inside a line, not at its start
            continue
        kept.append(head[start:at])
        start = match.end()
    kept.append(head[start:])
    return b"".join(kept).rstrip(b"\r\n") + sep + body


# prefix -> prefix.lower().encode() (filled by _wanted)
_WANTED: dict[str, bytes] = {}


def _wanted(prefix: str) -> bytes:
    if len(_WANTED) >= 256:
        _WANTED.clear()
    wanted = _WANTED[prefix] = prefix.lower().encode()
    return wanted


# The header block of the bytes object read last: (content, end, head, lowered, limit, ascii) with
# end = content.find(b"\r\n\r\n") (>= 0), head = content[:end], lowered = head.lower(), limit = where
# header_value's block ends in head (its first LF LF, else end) and ascii = head.isascii(). A bytes
# object is immutable and the entry holds it, so its identity names its text: one message's headers
# are read in turn by strip_headers, header_value and add_headers (a receive policy's build_message:
# the header firewall, the Message-ID, the new headers), each of which would find and lower them again.
_LAST_BLOCK: list[tuple] = [(None, 0, b"", b"", 0, True)]


def _header_block(content: bytes) -> tuple | None:
    """``content``'s entry (see _LAST_BLOCK), kept as the last one; None for content that is not a bytes
    object (a bytearray may change) or has no CRLF CRLF."""
    if type(content) is not bytes:
        return None
    end = content.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = content[:end]
    limit = head.find(b"\n\n")
    block = (content, end, head, head.lower(), end if limit < 0 else limit, head.isascii())
    _LAST_BLOCK[0] = block
    return block


_CR_LF = b"\r\n"


def _field_pattern(wanted: bytes) -> re.Pattern[bytes] | None:
    """A lowered field whose name starts with ``wanted``: its line (with its line end) and the folded
    lines after it; None for a prefix the line scan must handle."""
    if not wanted or wanted[:1] in (b" ", b"\t") or b"\r" in wanted or b"\n" in wanted:
        return None
    line = rb"[^\r\n]*(?:\r\n|\r|\n)?"
    return re.compile(re.escape(wanted) + line + rb"(?:[ \t]" + line + rb")*")


#: prefix -> :func:`_field_pattern` of it (remembered per prefix: a pure function of the bytes)
_FIELD_PATTERNS = Remembered(_field_pattern, limit=256)


def _strip_lines(head: bytes, wanted: bytes) -> bytes:
    """:func:`strip_headers`' header block, line by line (any prefix)."""
    kept: list[bytes] = []
    dropping = False
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        dropping = line.lower().startswith(wanted)
        if not dropping:
            kept.append(line)
    return b"".join(kept).rstrip(b"\r\n")


def organization_headers(*, authenticated: bool, auth_source: str) -> str:
    """``X-MS-Exchange-Organization-AuthAs`` / ``AuthSource`` lines (CRLF-terminated)."""
    auth_as = cat.HDR_AUTH_AS_INTERNAL.text if authenticated else cat.HDR_AUTH_AS_ANONYMOUS.text
    return f"{AUTH_AS}: {auth_as}\r\n{AUTH_SOURCE}: {auth_source}\r\n"


def header_value(content: bytes, name: str) -> str | None:
    """The (unfolded) value of the first header ``name`` in ``content``, or None.

    Lines are those of ``str.splitlines`` (which also ends a line at \\x0b, \\x0c, \\x1c-\\x1e and,
    past ASCII, \\x85, \\u2028, \\u2029); a folded line (starting with a space or tab) continues
    the value, joined with one space.
    """
    key = _KEYS.get(name)  # _ascii_key(name.lower() + ":"), remembered per name
    if key is None:
        key = _name_key(name)
    block = _LAST_BLOCK[0]
    if block[0] is not content:
        block = _header_block(content)
    if block is None:
        end = content.find(b"\r\n\r\n")  # split(..., 1)[0] without copying the body
        raw = content[:end] if end >= 0 else content
        end = raw.find(b"\n\n")
        if end >= 0:
            raw = raw[:end]
        if key is False or not raw.isascii():
            return _header_value_lines(raw, name.lower() + ":")
        lowered = raw.lower()
        limit = len(raw)
    else:  # the block before the first CRLF CRLF, up to its first LF LF (``limit``)
        raw, lowered, limit = block[2], block[3], block[4]
        if key is False or not block[5]:  # (a block of non-ASCII bytes: perhaps not before limit, as exact)
            return _header_value_lines(raw[:limit], name.lower() + ":")
    # an ASCII block: find the first line that starts with the name, without splitting the block
    at = lowered.find(key, 0, limit)
    while at > 0 and lowered[at - 1] not in _ASCII_LINE_ENDS:  # inside a line, not at its start
        at = lowered.find(key, at + 1, limit)
    if at < 0:
        return None
    # the rest of the line, and whether a folded line follows it (a blank after its line end)
    line = _VALUE_LINE.match(raw, at + len(key), limit)
    value = raw[at + len(key):line.end(1)].decode("ascii").strip()
    if line.group(2) is None:  # no folded line after it (most headers): the loop's first test
        return value
    raw = raw[:limit]
    stop = line.end(1)
    while stop < len(raw):  # folded lines
        stop += 2 if raw[stop:stop + 2] == b"\r\n" else 1  # past the line end
        if raw[stop:stop + 1] not in (b" ", b"\t"):
            return value
        line_end = _ASCII_LINE_END.search(raw, stop)
        start, stop = stop, line_end.start() if line_end else len(raw)
        value += " " + raw[start:stop].decode("ascii").strip()
    return value


# What ends a line of ASCII text for str.splitlines (\r\n counts once)
_ASCII_LINE_ENDS = b"\r\n\x0b\x0c\x1c\x1d\x1e"
_ASCII_LINE_END = re.compile(rb"[\r\n\x0b\x0c\x1c-\x1e]")


# The rest of a line (group 1), its line end (as above) and a blank after it if there is one (group 2:
# a folded line comes next)
_VALUE_LINE = re.compile(rb"([^\r\n\x0b\x0c\x1c-\x1e]*)(?:\r\n|[\r\n\x0b\x0c\x1c-\x1e])?([ \t])?")
# header name -> _ascii_key of its lower-case form and colon, False for None (filled by _name_key)
_KEYS: dict[str, bytes | bool] = {}


def _name_key(name: str) -> bytes | bool:
    key = _ascii_key(name.lower() + ":")
    if len(_KEYS) >= 256:
        _KEYS.clear()
    _KEYS[name] = False if key is None else key
    return _KEYS[name]


@lru_cache(maxsize=256)
def _ascii_key(wanted: str) -> bytes | None:
    """``wanted`` as bytes when the ASCII scan can look for it (ASCII, no line end inside), else
    None (remembered per text: a pure function of it)."""
    if not wanted.isascii() or _ASCII_LINE_END.search(wanted.encode()):
        return None
    return wanted.encode()


def _header_value_lines(raw: bytes, wanted: str) -> str | None:
    """:func:`header_value` over the decoded block's ``splitlines`` (any block, any name)."""
    if raw.isascii() and wanted.isascii() and wanted.encode() not in raw.lower():
        return None  # no line can start with it
    value: str | None = None
    for line in raw.decode("utf-8", "replace").splitlines():
        if value is not None:
            if line[:1] in (" ", "\t"):
                value += " " + line.strip()
                continue
            return value
        if line.lower().startswith(wanted):
            value = line[len(wanted):].strip()
    return value


_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")


def add_headers(content: bytes, top: str, bottom: str) -> bytes:
    """Puts ``top`` before the first header and ``bottom`` after the last one (both CRLF-ended).

    Content without a header block (no ``Name:`` first line) gets one made of the new headers.
    """
    block = _LAST_BLOCK[0]
    if block[0] is content:  # its first CRLF CRLF is known: head + CRLF, bottom, CRLF + body
        end = block[1] + 2
        return top.encode() + content[:end] + bottom.encode() + content[end:]
    head, sep, body = content.partition(b"\r\n\r\n")
    if sep:
        return top.encode() + head + b"\r\n" + bottom.encode() + b"\r\n" + body
    if content.startswith(b"\r\n"):
        return top.encode() + bottom.encode() + content
    if _HEADER_LINE.match(content):
        return top.encode() + content.rstrip(b"\r\n") + b"\r\n" + bottom.encode() + b"\r\n"
    return top.encode() + bottom.encode() + b"\r\n" + content
