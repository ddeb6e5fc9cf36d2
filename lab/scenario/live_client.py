"""The scenario runner's SMTP client on the live lab: a whole submission, with its transcript.

It connects from a lab host's own loopback address (the network model decides where it lands
and what the server sees after NAT), speaks ESMTP line by line and records every line both
ways, so a report can show exactly what the server said. STARTTLS is judged as a Windows
client judges it (trusted root, current, the name it dialled). These coroutines run on the
lab's loop.
"""
from __future__ import annotations

import asyncio
import base64
import re
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any, Sequence

from lab.adapters.tls import client_context, failure_reason, peer_facts
from lab.console import live_net
from lab.core.exchange.headers import mail_date
from lab.core.tls import tls_verdict
from lab.scenario.driver import SendOutcome, SendSpec

if TYPE_CHECKING:
    from lab.runtime import Lab


class Wire:
    """One client connection that records ``C:``/``S:`` lines."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, transcript: list[str]):
        self.reader, self.writer, self.transcript = reader, writer, transcript

    async def reply(self) -> tuple[str, ...]:
        lines: list[str] = []
        while True:
            try:
                async with asyncio.timeout(live_net.NET_TIMEOUT):  # per line, in this task (no task per line)
                    raw = await self.reader.readline()
            except (asyncio.TimeoutError, OSError):
                raw = b""
            if not raw:
                if not lines:
                    self.transcript.append("*: connection closed by the server")
                return tuple(lines)
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(line)
            self.transcript.append(f"S: {line}")
            if len(line) < 4 or line[3] != "-":
                return tuple(lines)

    async def command(self, line: str, shown: str | None = None) -> tuple[str, ...]:
        self.transcript.append(f"C: {shown if shown is not None else line}")
        self.writer.write(line.encode("utf-8") + b"\r\n")
        try:
            await self.writer.drain()
        except OSError:
            return ()
        return await self.reply()

    async def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass


def _code(reply: Sequence[str]) -> int:
    return int(reply[-1][:3]) if reply and reply[-1][:3].isdigit() else 0


def _text(reply: Sequence[str]) -> str:
    return "\n".join(line[:3] + " " + line[4:] if len(line) > 3 else line for line in reply)


def _certificate(lab: "Lab", name: str | None) -> Any:
    if not name:
        return None
    if lab.pki is not None and name in lab.pki.certificates:
        return lab.pki.certificates[name]
    return live_net.client_certificate(lab, name)


def build_message(lab: "Lab", spec: SendSpec) -> tuple[bytes, str]:
    """The message ``spec`` describes (``\n`` line ends, as ``EmailMessage.as_bytes``) and its Message-ID."""
    date = mail_date(lab.clock.now_datetime())
    message_id = make_msgid(domain=spec.mail_from.rpartition("@")[2] or "lab.local")
    return render_message(spec, date, message_id)


def render_message(spec: SendSpec, date: str, message_id: str) -> tuple[bytes, str]:
    """``spec`` as ``email.message.EmailMessage`` writes it (From, To, Subject, Date, Message-ID,
    ``set_content``), byte for byte.

    A plain message (dot-atom addresses, a printable ASCII subject, short ASCII lines: every
    scenario's) is written directly, as the email library would write it; anything else goes
    through the email library itself. ``tests/unit/test_scenario_message.py`` holds the two
    ways to the same bytes.
    """
    fast = _render_plain(spec, date, message_id)
    return fast if fast is not None else _render_with_email(spec, date, message_id)


def _render_with_email(spec: SendSpec, date: str, message_id: str) -> tuple[bytes, str]:
    msg = EmailMessage()
    msg["From"] = spec.mail_from
    msg["To"] = ", ".join(spec.to)
    msg["Subject"] = spec.subject
    msg["Date"] = date
    msg["Message-ID"] = message_id
    msg.set_content(spec.body or spec.subject)
    return msg.as_bytes(), str(msg["Message-ID"])


_DOT_ATOM_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z")
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9_+\-.,:;!?'/@#&*]+(?: [A-Za-z0-9_+\-.,:;!?'/@#&*]+)*\Z")
_DATE = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                   r"\d{4} \d\d:\d\d:\d\d [+-]\d{4}\Z")
_MESSAGE_ID = re.compile(r"<[0-9.]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>\Z")
_MAX_LINE = 78  # the email policy's max_line_length: longer header lines fold, longer body lines change the CTE
_PLAIN_TAIL = b'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: 7bit\nMIME-Version: 1.0\n\n'


def _render_plain(spec: SendSpec, date: str, message_id: str) -> tuple[bytes, str] | None:
    """The plain case of :func:`render_message` without the email library; None outside it."""
    if not spec.to or not all(map(_DOT_ATOM_ADDRESS.match, (spec.mail_from, *spec.to))):
        return None
    if not _PLAIN_TEXT.match(spec.subject) or not _DATE.match(date) or not _MESSAGE_ID.match(message_id):
        return None
    headers = (f"From: {spec.mail_from}", "To: " + ", ".join(spec.to), f"Subject: {spec.subject}", f"Date: {date}",
               f"Message-ID: {message_id}")
    if max(map(len, headers)) > _MAX_LINE:  # (the longest line: what any line's length test finds)
        return None
    try:
        lines = (spec.body or spec.subject).encode("ascii").splitlines()
    except UnicodeEncodeError:
        return None
    if lines and max(map(len, lines)) > _MAX_LINE:
        return None
    head = "\n".join(headers).encode("ascii")
    return head + b"\n" + _PLAIN_TAIL + b"\n".join(lines) + b"\n", message_id


async def _starttls(lab: "Lab", wire: Wire, source: str, server: str, cert: Any, verify: bool) -> str:
    """STARTTLS on ``wire``; returns "" or the failure in words."""
    reply = await wire.command("STARTTLS")
    if _code(reply) != 220:
        return ""
    try:
        await wire.writer.start_tls(client_context(cert), server_hostname=None if live_net._is_address(server)
                                    else server)
    except (OSError, asyncio.TimeoutError) as exc:
        return f"TLS negotiation failed: {failure_reason(exc)}"
    facts, der = peer_facts(wire.writer.get_extra_info("ssl_object"))
    if facts is None or der is None:
        return "TLS: the server presented no certificate"
    expected = None if live_net._is_address(server) else server
    assert lab.pki is not None
    verdict = tls_verdict(facts, lab.pki.verify(der, live_net.trust_store(lab, source)), lab.clock.now_datetime(),
                          "DomainValidation" if expected else "CertificateValidation", expected)
    wire.transcript.append(f"*: TLS established; server certificate CN={facts.subject_cn}, issuer {facts.issuer}")
    if not verdict.ok and verify:
        return f"TLS: {verdict.failure}: {verdict.detail}"
    return ""


async def submit(lab: "Lab", spec: SendSpec, source: str) -> SendOutcome:
    """Submit ``spec`` from lab host ``source``; the server's every line is in the transcript."""
    transcript: list[str] = []
    try:
        ip, (loop_ip, loop_port, src) = await live_net.dial(lab, source, spec.server, spec.port)
        async with asyncio.timeout(live_net.NET_TIMEOUT):
            reader, writer = await asyncio.open_connection(loop_ip, loop_port, local_addr=(src, 0))
    except live_net.ConnectFailed as exc:
        transcript.append(f"*: cannot connect to {spec.server}:{spec.port}: {exc.reason}")
        return SendOutcome(False, "", tuple(transcript), failure=exc.reason)
    except (OSError, asyncio.TimeoutError) as exc:
        transcript.append(f"*: cannot connect to {spec.server}:{spec.port}: {type(exc).__name__}")
        return SendOutcome(False, "", tuple(transcript), failure=type(exc).__name__)
    transcript.append(f"*: connected from {source} to {ip}:{spec.port}")
    wire = Wire(reader, writer, transcript)
    try:
        return await _session(lab, wire, spec, source)
    finally:
        await wire.close()


async def _session(lab: "Lab", wire: Wire, spec: SendSpec, source: str) -> SendOutcome:
    def fail(reply: Sequence[str], failure: str = "") -> SendOutcome:
        return SendOutcome(False, _text(reply), tuple(wire.transcript), failure=failure)

    greeting = await wire.reply()
    if _code(greeting) != 220:
        return fail(greeting, "" if greeting else "Closed")
    helo = spec.helo or lab.world.topology.hosts[source].fqdn or source
    ehlo = await wire.command(f"EHLO {helo}")
    if _code(ehlo) != 250:
        return fail(ehlo)
    if spec.tls:
        if not any(line[4:].upper().startswith("STARTTLS") for line in ehlo):
            wire.transcript.append("*: the server does not offer STARTTLS")
            return fail((), "StartTlsNotOffered")
        problem = await _starttls(lab, wire, source, spec.server, _certificate(lab, spec.client_certificate),
                                  spec.verify)
        if problem:
            wire.transcript.append(f"*: {problem}")
            return fail((), problem)
        ehlo = await wire.command(f"EHLO {helo}")
    if spec.auth:
        user, password = spec.auth
        reply = await wire.command("AUTH LOGIN")
        if _code(reply) == 334:
            await wire.command(base64.b64encode(user.encode()).decode(), "<user>")
            reply = await wire.command(base64.b64encode(password.encode()).decode(), "<password>")
        if _code(reply) != 235:
            return fail(reply)
    reply = await wire.command(f"MAIL FROM:<{spec.mail_from}>")
    if _code(reply) != 250:
        return fail(reply)
    refused, accepted = [], []
    for rcpt in spec.to:
        reply = await wire.command(f"RCPT TO:<{rcpt}>")
        (accepted if _code(reply) in (250, 251) else refused).append((rcpt, _text(reply)))
    if not accepted:
        await wire.command("QUIT")
        return SendOutcome(False, refused[0][1], tuple(wire.transcript), refused=tuple(refused))
    reply = await wire.command("DATA")
    if _code(reply) != 354:
        return fail(reply)
    data, message_id = build_message(lab, spec)
    body = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    body = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in body.split(b"\r\n"))
    wire.writer.write(body.rstrip(b"\r\n") + b"\r\n.\r\n")
    wire.transcript.append(f"C: <message {message_id}, {len(data)} bytes>")
    wire.transcript.append("C: .")
    reply = await wire.reply()
    if _code(reply) != 250:
        return fail(reply)
    await wire.command("QUIT")
    return SendOutcome(True, _text(reply), tuple(wire.transcript), message_id=message_id, refused=tuple(refused))


async def dialogue(lab: "Lab", source: str, address: str, port: int, lines: Sequence[str]) -> tuple[str, ...]:
    """A raw telnet-style dialogue to ``address:port`` (an IPv4 address)."""
    transcript: list[str] = []
    try:
        loop_ip, loop_port, src = live_net.locate(lab, source, address, port)
        async with asyncio.timeout(live_net.NET_TIMEOUT):
            reader, writer = await asyncio.open_connection(loop_ip, loop_port, local_addr=(src, 0))
    except live_net.ConnectFailed as exc:
        return (f"*: cannot connect to {address}:{port}: {exc.reason}",)
    except (OSError, asyncio.TimeoutError) as exc:
        return (f"*: cannot connect to {address}:{port}: {type(exc).__name__}",)
    wire = Wire(reader, writer, transcript)
    try:
        reply = await wire.reply()
        in_data = False
        for line in lines:
            if not reply:
                break
            if in_data:
                wire.transcript.append(f"C: {line}")
                wire.writer.write(line.encode("utf-8") + b"\r\n")
                if line != ".":
                    continue
                in_data = False
                reply = await wire.reply()
                continue
            reply = await wire.command(line)
            in_data = line.strip().upper() == "DATA" and _code(reply) == 354
            if reply and reply[-1][:3] in ("221", "421"):
                break
    finally:
        await wire.close()
    return tuple(transcript)
