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
from email.utils import format_datetime
from typing import Sequence

from lab.core.catalogue import Reply
from lab.core.catalogue import exchange_queue as C

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


def _plain_subject(data: bytes) -> str | None:
    """``subject_of`` for the common header block, without the email parser; None when the block
    holds anything the parser might treat otherwise (bare CR/LF, non-ASCII, folded or encoded
    Subject, a line that is no header, a ``From `` line, no empty line ending the block)."""
    end = data.find(b"\r\n\r\n")
    if end <= 0:
        return None
    block = data[:end]
    if b"\n" in block.replace(b"\r\n", b"") or b"\r" in block.replace(b"\r\n", b"") or not block.isascii():
        return None
    subject = None
    for i, line in enumerate(block.split(b"\r\n")):
        if line[:1] in (b" ", b"\t"):
            if i == 0 or (subject is not None and subject[1]):
                return None  # a block opening with a continuation, or a folded Subject
            continue
        match = _PLAIN_FIELD.match(line)
        if match is None:
            return None
        if subject is not None:
            subject = (subject[0], False)
        if subject is None and match.end() == 8 and line[:8].lower() == b"subject:":
            value = line[8:].lstrip(b" \t")
            if b"=?" in value or not _PLAIN_VALUE.fullmatch(value):
                return None
            subject = (value.decode("ascii"), True)
    return "" if subject is None else subject[0]


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
    headers = original_headers(original)
    subject = str(headers.get("Subject", "") or "")
    subject_template = C.NDR_SUBJECT_FAILED if kind == FAILED else C.NDR_SUBJECT_DELAYED

    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = f'"{C.NDR_FROM_DISPLAY_NAME}" <{postmaster}>'
    msg["To"] = sender
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["Subject"] = subject_template.format(subject=subject)
    if headers.get("Message-ID"):
        msg["In-Reply-To"] = str(headers["Message-ID"])
        msg["References"] = str(headers["Message-ID"])
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-MS-Exchange-Message-Is-Ndr"] = ""

    headline = C.NDR_HEADLINE_FAILED if kind == FAILED else C.NDR_HEADLINE_DELAYED
    lines = [str(headline), ""]
    lines += [r.address for r in recipients]
    if kind == DELAYED:
        lines += ["", str(C.NDR_DELAYED_BODY)]
    lines += ["", "", str(C.NDR_DIAGNOSTIC_HEADING), "", C.NDR_GENERATING_SERVER.format(server=server_fqdn), ""]
    for rcpt in recipients:
        lines += [rcpt.address, diagnostic_line(rcpt), ""]
    lines += [str(C.NDR_ORIGINAL_HEADERS), ""]
    original_block = original.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("utf-8", "replace")
    text = "\r\n".join(lines) + "\r\n" + original_block.replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n"

    blocks = [[("Reporting-MTA", f"dns;{server_fqdn}")]]
    if arrival is not None:
        blocks[0].append(("Arrival-Date", format_datetime(arrival)))
    for rcpt in recipients:
        block = [("Original-Recipient", f"rfc822;{rcpt.address}"), ("Final-Recipient", f"rfc822;{rcpt.address}"),
                 ("Action", kind), ("Status", rcpt.reply.enhanced or (C.DSN_STATUS_FAILED if kind == FAILED else C.DSN_STATUS_DELAYED)),
                 ("Diagnostic-Code", f"smtp;{rcpt.reply.line()}")]
        if rcpt.remote:
            block.append(("Remote-MTA", f"dns;{rcpt.remote.partition(' (')[0]}"))
        blocks.append(block)

    msg.set_content(text, subtype="plain", charset="utf-8", cte="8bit")
    msg.make_mixed()
    msg.replace_header("Content-Type", "multipart/report")
    msg.set_param("report-type", "delivery-status")
    msg.set_boundary("----=_DSN_" + hashlib.sha1(message_id.encode("utf-8")).hexdigest()[:24])
    status_part = EmailMessage(policy=policy.SMTP)
    status_part["Content-Type"] = "message/delivery-status"
    status_part.set_payload([_fields(block) for block in blocks])
    msg.attach(status_part)
    headers_part = EmailMessage(policy=policy.SMTP)
    headers_part["Content-Type"] = "text/rfc822-headers"
    headers_part.set_payload(original_block.replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n")
    msg.attach(headers_part)
    return msg.as_bytes(policy=policy.SMTP)
