"""DSNs and NDRs as Exchange writes them: RFC 3464 multipart reports (pure, stdlib ``email`` only).

:func:`build_dsn` returns the bytes of a ``multipart/report; report-type=delivery-status``
message with three parts: the human-readable text (Exchange's headline, the recipients, the
"Diagnostic information for administrators" block with ``Remote Server returned '<reply>'``),
the machine-readable ``message/delivery-status``, and the original's headers
(``text/rfc822-headers``). The texts come from :mod:`lab.core.catalogue.exchange_queue`.

A DSN is sent from the null reverse path (``MAIL FROM:<>``) so it can never bounce again.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from typing import Sequence

from lab.core.catalogue import Reply
from lab.core.catalogue import exchange_queue as C
from lab.core.exchange.headers import mail_date

FAILED = "failed"
DELAYED = "delayed"
KINDS = (FAILED, DELAYED)


@dataclass(frozen=True)
class DsnRecipient:
    """One recipient a DSN reports on.

    Attributes:
        address: the original recipient.
        reply: the reply that failed (or delayed) it.
        remote: ``host (ip)`` of the remote server that gave the reply, or None.
    """

    address: str
    reply: Reply
    remote: str | None = None


def original_headers(data: bytes) -> EmailMessage:
    """The header block of a message (lenient: a message without headers gives an empty block)."""
    return BytesHeaderParser(policy=policy.default).parsebytes(data)  # type: ignore[return-value]


# a header line the email parser takes as it is: a name of printable ASCII but ":", a colon
_PLAIN_FIELD = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")
# a Subject value the parser returns unchanged: printable ASCII and spaces, no encoded word
_PLAIN_VALUE = re.compile(rb"[\x20-\x7e]*")
# a line (after a CRLF) that is neither a continuation nor such a field
_NOT_A_FIELD = re.compile(rb"\r\n(?![ \t]|[\x21-\x39\x3b-\x7e]+:)")


def _plain_subject(data: bytes) -> str | None:
    """``subject_of`` for the common header block, without the email parser; None when the block
    holds anything the parser might treat otherwise (bare CR/LF, non-ASCII, folded or encoded
    Subject, a line that is no header, a ``From `` line, no empty line ending the block).

    The block is checked without a walk over its lines (tests/unit/test_dsn_compose.py holds
    this to the line-by-line reading it replaces)."""
    end = data.find(b"\r\n\r\n")
    if end <= 0:
        return None
    block = data[:end]
    crlf = block.count(b"\r\n")
    if block.count(b"\r") != crlf or block.count(b"\n") != crlf or not block.isascii():
        return None
    if _PLAIN_FIELD.match(block) is None or _NOT_A_FIELD.search(block) is not None:
        return None
    lowered = block.lower()
    start = 0 if lowered.startswith(b"subject:") else lowered.find(b"\r\nsubject:") + 2
    if start == 1:
        return ""  # no Subject field
    stop = block.find(b"\r\n", start)
    if stop < 0:
        stop = len(block)
    elif block[stop + 2:stop + 3] in (b" ", b"\t"):
        return None  # a folded Subject
    value = block[start + 8:stop].lstrip(b" \t")
    if b"=?" in value or not _PLAIN_VALUE.fullmatch(value):
        return None
    return value.decode("ascii")


@lru_cache(maxsize=1024)
def subject_of(data: bytes) -> str:
    """The Subject of a message, or ``""``.

    Remembered per message content: every tracking event of a message asks again, and parsing
    the header block each time was the transport's hottest path (bytes cache their hash). A
    plain header block (:func:`_plain_subject`) is read without the email parser."""
    plain = _plain_subject(data)
    if plain is not None:
        return plain
    return str(original_headers(data).get("Subject", "") or "")


def diagnostic_line(rcpt: DsnRecipient) -> str:
    """``Remote Server returned '<reply>'`` or ``Remote Server at host (ip) returned '<reply>'``."""
    if rcpt.remote and " (" in rcpt.remote:
        host, _, ip = rcpt.remote.partition(" (")
        return C.NDR_REMOTE_SERVER_AT_RETURNED.format(host=host, ip=ip.rstrip(")"), reply=rcpt.reply.line())
    return C.NDR_REMOTE_SERVER_RETURNED.format(reply=rcpt.reply.line())


def _fields(pairs: list[tuple[str, str]]) -> EmailMessage:
    block = EmailMessage(policy=policy.SMTP)
    for name, value in pairs:
        block[name] = value
    return block


def build_dsn(kind: str, original: bytes, sender: str, recipients: Sequence[DsnRecipient], server_fqdn: str,
              postmaster: str, date: datetime, message_id: str, arrival: datetime | None = None) -> bytes:
    """Generate a delay DSN or an NDR for ``original``.

    Args:
        kind: :data:`FAILED` (NDR) or :data:`DELAYED` (delay DSN).
        original: the original message bytes.
        sender: the original envelope sender (the DSN goes to it).
        recipients: the recipients reported on.
        server_fqdn: the generating server (Reporting-MTA, "Generating server:").
        postmaster: the DSN's From address.
        date: the DSN's Date (lab time as a datetime).
        message_id: the DSN's Message-ID (with angle brackets).
        arrival: when the original arrived (Arrival-Date), if known.

    Returns:
        The DSN as bytes with CRLF line endings.

    Raises:
        ValueError: unknown kind or no recipients.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown DSN kind {kind!r}; expected one of {KINDS}")
    if not recipients:
        raise ValueError("a DSN needs at least one recipient")
    plain = _compose_plain(kind, original, sender, recipients, server_fqdn, postmaster, date, message_id, arrival)
    if plain is not None:
        return plain
    return _build_with_email(kind, original, sender, recipients, server_fqdn, postmaster, date, message_id, arrival)


def _subject_line(kind: str, subject: str) -> str:
    return (C.NDR_SUBJECT_FAILED if kind == FAILED else C.NDR_SUBJECT_DELAYED).format(subject=subject)


def _report_text(kind: str, recipients: Sequence[DsnRecipient], server_fqdn: str, original_block: str) -> str:
    """The human-readable part: headline, recipients, diagnostics, the original's headers."""
    headline = C.NDR_HEADLINE_FAILED if kind == FAILED else C.NDR_HEADLINE_DELAYED
    lines = [str(headline), ""]
    lines += [r.address for r in recipients]
    if kind == DELAYED:
        lines += ["", str(C.NDR_DELAYED_BODY)]
    lines += ["", "", str(C.NDR_DIAGNOSTIC_HEADING), "", C.NDR_GENERATING_SERVER.format(server=server_fqdn), ""]
    for rcpt in recipients:
        lines += [rcpt.address, diagnostic_line(rcpt), ""]
    lines += [str(C.NDR_ORIGINAL_HEADERS), ""]
    return "\r\n".join(lines) + "\r\n" + _crlf(original_block) + "\r\n"


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _status_blocks(kind: str, recipients: Sequence[DsnRecipient], server_fqdn: str,
                   arrival: datetime | None) -> list[list[tuple[str, str]]]:
    """The ``message/delivery-status`` fields: the per-message block, then one per recipient."""
    blocks = [[("Reporting-MTA", f"dns;{server_fqdn}")]]
    if arrival is not None:
        blocks[0].append(("Arrival-Date", mail_date(arrival)))
    for rcpt in recipients:
        block = [("Original-Recipient", f"rfc822;{rcpt.address}"), ("Final-Recipient", f"rfc822;{rcpt.address}"),
                 ("Action", kind), ("Status", rcpt.reply.enhanced or (C.DSN_STATUS_FAILED if kind == FAILED else C.DSN_STATUS_DELAYED)),
                 ("Diagnostic-Code", f"smtp;{rcpt.reply.line()}")]
        if rcpt.remote:
            block.append(("Remote-MTA", f"dns;{rcpt.remote.partition(' (')[0]}"))
        blocks.append(block)
    return blocks


def _boundary(message_id: str) -> str:
    return "----=_DSN_" + hashlib.sha1(message_id.encode("utf-8")).hexdigest()[:24]


def _original_block(original: bytes) -> str:
    return original.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("utf-8", "replace")


def _build_with_email(kind: str, original: bytes, sender: str, recipients: Sequence[DsnRecipient],
                      server_fqdn: str, postmaster: str, date: datetime, message_id: str,
                      arrival: datetime | None) -> bytes:
    """:func:`build_dsn` composed with the ``email`` package: the reference, and the path for any
    input :func:`_compose_plain` does not take."""
    headers = original_headers(original)
    subject = str(headers.get("Subject", "") or "")

    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = f'"{C.NDR_FROM_DISPLAY_NAME}" <{postmaster}>'
    msg["To"] = sender
    msg["Date"] = mail_date(date)
    msg["Message-ID"] = message_id
    msg["Subject"] = _subject_line(kind, subject)
    if headers.get("Message-ID"):
        msg["In-Reply-To"] = str(headers["Message-ID"])
        msg["References"] = str(headers["Message-ID"])
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-MS-Exchange-Message-Is-Ndr"] = ""

    original_block = _original_block(original)
    msg.set_content(_report_text(kind, recipients, server_fqdn, original_block), subtype="plain", charset="utf-8",
                    cte="8bit")
    msg.make_mixed()
    msg.replace_header("Content-Type", "multipart/report")
    msg.set_param("report-type", "delivery-status")
    msg.set_boundary(_boundary(message_id))
    status_part = EmailMessage(policy=policy.SMTP)
    status_part["Content-Type"] = "message/delivery-status"
    status_part.set_payload([_fields(block) for block in _status_blocks(kind, recipients, server_fqdn, arrival)])
    msg.attach(status_part)
    headers_part = EmailMessage(policy=policy.SMTP)
    headers_part["Content-Type"] = "text/rfc822-headers"
    headers_part.set_payload(_crlf(original_block) + "\r\n")
    msg.attach(headers_part)
    return msg.as_bytes(policy=policy.SMTP)


# --- the same bytes without building EmailMessage objects -------------------------------------------------
#
# Composing a DSN through ``email`` (parse the original, build three parts, generate) costs
# milliseconds, and a bounce makes one. :func:`_compose_plain` writes the identical bytes for the
# common input -- an ASCII original whose header block :func:`_plain_subject` reads, plain texts --
# and returns None for anything else, which then goes through :func:`_build_with_email`.
# Each header line is still folded by ``email`` itself (:func:`_header`: the header object
# ``msg[name] = value`` stores, folded as the generator folds it); the lines recur (postmaster,
# sender, date, replies, recipients), so the foldings are remembered per (name, value): a pure
# function of two strings. tests/unit/test_dsn_compose.py holds both paths to the same bytes.

# a value ``email`` writes back as it is when the line fits: printable ASCII words, single spaces
_PLAIN_TEXT = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
# a Message-ID / In-Reply-To / References value written back as it is
_PLAIN_MSG_ID = re.compile(r"<[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*@[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*>")
# a To address written back as it is: a dot-atom local part and a domain name
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_MAX_LINE = 78  # policy.SMTP.max_line_length
_NL = "\r\n"


@lru_cache(maxsize=4096)
def _header(name: str, value: str) -> str:
    """``name: value`` as ``email`` writes the header ``msg[name] = value`` (folded, CRLF-ended)."""
    return policy.SMTP.header_factory(name, value).fold(policy=policy.SMTP)


def _unique_header(name: str, value: str, plain: re.Pattern[str]) -> str:
    """:func:`_header` for a value that varies (a Message-ID, a subject, the sender): written directly when it is
    plain and fits on one line, else folded by ``email`` (not remembered)."""
    if len(name) + 2 + len(value) <= _MAX_LINE and plain.fullmatch(value) and "=?" not in value:
        return f"{name}: {value}{_NL}"
    return policy.SMTP.header_factory(name, value).fold(policy=policy.SMTP)


def _plain_message_id(original: bytes) -> str | None:
    """The original's first Message-ID when its header block is plain (``""``: it has none); None
    when ``email`` might read it otherwise (folded, or not a plain ``<id@domain>``)."""
    lines = original[:original.find(b"\r\n\r\n")].split(b"\r\n")
    for i, line in enumerate(lines):
        if line[:11].lower() == b"message-id:":
            if i + 1 < len(lines) and lines[i + 1][:1] in (b" ", b"\t"):
                return None
            value = line[11:].lstrip(b" \t").decode("ascii")
            return value if _PLAIN_MSG_ID.fullmatch(value) else None
    return ""


def _compose_plain(kind: str, original: bytes, sender: str, recipients: Sequence[DsnRecipient], server_fqdn: str,
                   postmaster: str, date: datetime, message_id: str, arrival: datetime | None) -> bytes | None:
    """:func:`_build_with_email`'s bytes for a plain input, else None (see the comment above)."""
    subject = _plain_subject(original)  # None unless the header block is ASCII, CRLF, unfolded Subject
    if subject is None:
        return None
    replied_to = _plain_message_id(original)
    if replied_to is None:
        return None
    if any(len(v.splitlines()) > 1 for v in (sender, postmaster, message_id, server_fqdn,
                                             *(r.address for r in recipients), *(r.reply.line() for r in recipients),
                                             *(r.remote or "" for r in recipients))):
        return None  # ``msg[name] = value`` refuses a value of several lines: the email path raises it
    original_block = _original_block(original)
    text = _report_text(kind, recipients, server_fqdn, original_block)
    if not text.isascii() or "\r" in text.replace(_NL, "") or "\n" in text.replace(_NL, ""):
        return None  # email would re-encode it (non-ASCII) or split it at other line ends
    blocks = _status_blocks(kind, recipients, server_fqdn, arrival)
    boundary = _boundary(message_id)
    out = [_header("From", f'"{C.NDR_FROM_DISPLAY_NAME}" <{postmaster}>'), _unique_header("To", sender, _PLAIN_ADDRESS),
           _header("Date", mail_date(date)), _unique_header("Message-ID", message_id, _PLAIN_MSG_ID),
           _unique_header("Subject", _subject_line(kind, subject), _PLAIN_TEXT)]
    if replied_to:
        out += [_unique_header("In-Reply-To", replied_to, _PLAIN_MSG_ID),
                _unique_header("References", replied_to, _PLAIN_MSG_ID)]
    out += [_header("Auto-Submitted", "auto-replied"), _header("X-MS-Exchange-Message-Is-Ndr", ""),
            "MIME-Version: 1.0", _NL,
            f'Content-Type: multipart/report; report-type="delivery-status";{_NL} boundary="{boundary}"{_NL}', _NL,
            f"--{boundary}{_NL}",
            f'Content-Type: text/plain; charset="utf-8"{_NL}Content-Transfer-Encoding: 8bit{_NL}{_NL}', text,
            f"{_NL}--{boundary}{_NL}", f"Content-Type: message/delivery-status{_NL}{_NL}",
            _NL.join("".join(_header(name, value) for name, value in block) for block in blocks),
            f"{_NL}--{boundary}{_NL}", f"Content-Type: text/rfc822-headers{_NL}{_NL}", _crlf(original_block), _NL,
            f"{_NL}--{boundary}--{_NL}"]
    return "".join(out).encode("ascii")
