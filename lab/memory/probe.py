"""A lab host's own SMTP client in memory: what a probe (swaks, aiosmtplib, telnet) does.

:func:`converse` behaves like aiosmtplib's ``connect`` / ``ehlo`` / ``starttls`` / ``login`` /
``sendmail`` as the live tests drive them: EHLO, STARTTLS then EHLO again, AUTH (PLAIN when
offered, else LOGIN with the user as initial response), ``MAIL FROM:<a> size=n`` when SIZE is
listed, every RCPT, DATA, QUIT; a refusal is followed by RSET. :func:`raw_dialogue` types lines
as telnet does.
"""
from __future__ import annotations

import base64
import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Sequence

from lab.core.dns_resolution import resolve_host
from lab.core.tls import CertFacts
from lab.memory.raw import RawConversation
from lab.memory.results import SendResult
from lab.memory.wire import Disconnected, ServerReply, Wire, ehlo_auth_methods, normalise_body

if TYPE_CHECKING:
    from lab.memory.lab import MemoryLab
    from lab.memory.network import Dial

NOT_OFFERED = "StartTlsNotOffered"
CLOSED = "Closed"
NO_SUCH_HOST = "NoSuchHost"
TLS_FAILED = "TlsFailed"


# resolve_host answers per (zone set, name): a ZoneSet is immutable (a DNS edit makes a new one), so
# the answers of the current set are remembered and dropped when the world's set changes.
_resolved: dict[str, tuple[str, ...]] = {}
_resolved_in: list[object] = [None]  # the ZoneSet the answers came from (held: its id is never reused)


def addresses_of(lab: "MemoryLab", server: str) -> tuple[str, ...]:
    """The virtual IPv4 addresses of ``server`` in the lab DNS (an address literal is its own answer)."""
    zones = lab._world.zones
    if _resolved_in[0] is not zones or len(_resolved) > 4096:
        _resolved.clear()
        _resolved_in[0] = zones
    found = _resolved.get(server)
    if found is None:
        found = _resolved[server] = _addresses_of(zones, server)
    return found


def _addresses_of(zones: object, server: str) -> tuple[str, ...]:
    text = server.strip().strip("[]")
    if not text.strip(_IPV4_CHARACTERS):  # (IPv4Address refuses any other character: a host name is looked up)
        try:
            return (str(ipaddress.IPv4Address(text)),)
        except ValueError:
            pass
    return tuple(resolve_host(zones, text.rstrip(".")).addresses)


_IPV4_CHARACTERS = "0123456789."


def _address(lab: "MemoryLab", server: str) -> str | None:
    found = addresses_of(lab, server)
    return found[0] if found else None


def dial_first(lab: "MemoryLab", source: str, server: str, port: int) -> "tuple[str, Dial] | str":
    """The first address of ``server`` the network lets ``source`` reach, and its dial; else the
    first failure (``NoSuchHost`` when the name does not resolve)."""
    failure = ""
    for ip in addresses_of(lab, server):
        dial = lab.switchboard.dial(source, ip, port)
        if not isinstance(dial, str):
            return ip, dial
        failure = failure or dial
    return failure or NO_SUCH_HOST


@lru_cache(maxsize=4096)
def _b64(text: str) -> str:
    """``text`` in base64 (remembered per text: a pure function of it; the probes log on with the
    same few credentials)."""
    return base64.b64encode(text.encode()).decode("ascii")


def _message_id(reply: ServerReply) -> str:
    start = reply.message.find("<")
    end = reply.message.find(">", start)
    return reply.message[start:end + 1] if start >= 0 and end > start else ""


class _Ended(Exception):
    def __init__(self, reply: ServerReply | None, failure: str = "", detail: str = ""):
        super().__init__(failure)
        self.reply, self.failure, self.detail = reply, failure, detail


def _expect(reply: ServerReply, code: int) -> ServerReply:
    if reply.code != code:
        raise _Ended(reply)
    return reply


def converse(lab: "MemoryLab", source: str, server: str, port: int, mail_from: str, rcpt_tos: tuple[str, ...],
             data: bytes, *, tls: bool, auth: tuple[str, str] | None, client_certificate: CertFacts | None,
             helo: str, record: bool = True, rcpt_params: str = "",
             judge_server: Callable[[CertFacts | None], str] | None = None,
             result: Callable[..., Any] = SendResult) -> Any:
    """One submission from ``source``; see the module docstring.

    Args:
        rcpt_params: appended to every ``RCPT TO:<...>`` (`` NOTIFY=FAILURE,DELAY``).
        judge_server: after STARTTLS, the client's judgement of the server certificate: "" goes
            on, any other text ends the send (``failure`` :data:`TLS_FAILED`, ``detail`` the text).
        result: what is returned, called as :class:`SendResult` is (the default): a caller that
            wants its own record of the send builds it from the same values, not from a SendResult.
    """
    transcript: list[str] = []
    dialled = dial_first(lab, source, server, port)
    if isinstance(dialled, str):
        return result((f"*: connect {server}:{port} failed: {dialled}",), False, "", failure=dialled)
    dial = dialled[1]
    opened = dial.open(lab, transcript if record else None)
    if opened is None:
        return result((f"*: {server}:{port} closed the connection",), False, "", failure=CLOSED)
    wire = opened[0]
    last: ServerReply | None = None
    refused: list[tuple[str, str]] = []
    # (each step checks its reply code inline, as _expect does: a reply not the one expected ends the send)
    try:
        last = wire.open()
        if last.code != 220:
            raise _Ended(last)
        last = wire.command(f"EHLO {helo}")
        if last.code != 250:
            raise _Ended(last)
        if tls:
            if "starttls" not in wire.keywords:
                raise _Ended(None, NOT_OFFERED)
            last = wire.command("STARTTLS")
            if last.code != 220:
                raise _Ended(last)
            wire.start_tls(dial.server_tls(client_certificate))
            problem = judge_server(opened[1]) if judge_server is not None else ""
            if problem:
                raise _Ended(None, TLS_FAILED, problem)
            last = wire.command(f"EHLO {helo}")
            if last.code != 250:
                raise _Ended(last)
        if auth:
            last = _login(wire, last, *auth)
        body = normalise_body(data)
        size = f" size={len(body)}" if "size" in wire.keywords else ""
        last = wire.command(f"MAIL FROM:<{mail_from}>{size}")
        if last.code != 250:
            raise _Ended(last)
        for rcpt in rcpt_tos:
            reply = wire.command(f"RCPT TO:<{rcpt}>{rcpt_params}")
            if reply.code not in (250, 251):
                refused.append((rcpt, reply.text))
                last = last if len(refused) > 1 else reply
        if len(refused) == len(rcpt_tos):
            raise _Ended(last)
        last = wire.command("DATA")
        if last.code != 354:
            raise _Ended(last)
        last = wire.body(body, normalised=True)
        if last.code != 250:
            raise _Ended(last)
        wire.quit()
        return result(tuple(transcript), True, last.text, _message_id(last), refused=tuple(refused))
    except _Ended as ended:
        if ended.reply is not None and ended.reply.code >= 400 and not wire.closed:
            _quiet(wire, "RSET")
        wire.quit()
        return result(tuple(transcript), False, ended.reply.text if ended.reply else "", failure=ended.failure,
                          detail=ended.detail, refused=tuple(refused))
    except Disconnected:
        return result(tuple(transcript), False, last.text if last else "", failure=CLOSED)


def _login(wire: Wire, ehlo: ServerReply, user: str, password: str) -> ServerReply:
    methods = ehlo_auth_methods(ehlo)
    if "plain" in methods:
        return _expect(wire.command(f"AUTH PLAIN {_b64(chr(0) + user + chr(0) + password)}",
                                    shown="AUTH PLAIN <credentials>"), 235)
    _expect(wire.command(f"AUTH LOGIN {_b64(user)}"), 334)
    return _expect(wire.command(_b64(password), shown="<password>"), 235)


def _quiet(wire: Wire, line: str) -> None:
    try:
        wire.command(line)
    except Disconnected:
        pass


def open_raw(lab: "MemoryLab", source: str, ip: str, port: int,
             transcript: list[str] | None = None) -> "tuple[RawConversation, Dial] | str":
    """A raw connection from ``source`` to virtual ``ip:port``: the conversation (the banner
    queued; nothing to read when the listener dropped it at accept) and its dial, or the
    network failure name (``NoRoute``, ``Timeout``, ``Refused``)."""
    dial = lab.switchboard.dial(source, ip, port)
    if isinstance(dial, str):
        return dial
    made = dial.open_session()
    return RawConversation(made[0] if made else None, lab, transcript), dial


def raw_dialogue(lab: "MemoryLab", source: str, host: str, port: int, lines: Sequence[str]) -> list[str]:
    """Type ``lines`` at ``host:port`` from ``source``; the transcript (``S:``/``C:`` lines).

    A ``220`` to ``STARTTLS`` is followed by a handshake without a client certificate.
    """
    ip = _address(lab, host)
    transcript: list[str] = []
    opened = open_raw(lab, source, ip, port, transcript) if ip else "NoRoute"
    if isinstance(opened, str):
        return [f"*: connect {host}:{port} failed: {opened}"]
    conversation, dial = opened
    if conversation.session is None:
        return [f"*: {host}:{port} closed the connection"]
    for line in lines:
        if conversation.closed:  # typed at a closed connection
            transcript.append("*: connection closed by the server")
            break
        conversation.send_line(line)
        if conversation.awaiting_tls:
            conversation.start_tls(dial.server_tls(None))
    return transcript
