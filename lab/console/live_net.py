"""The console's network tools over a running lab: Send-MailMessage, telnet, nslookup.

Every connection starts from the *current lab host's* own loopback address, so the receiving
service attributes it to that host (and the network model decides, through
``lab.addressing.locate``, whether it gets there and what the receiver sees after NAT). Names
are resolved by the lab's own DNS (:class:`~lab.adapters.dns_client.LabResolver`), asked from
that same address. These coroutines run on the lab's loop (see :mod:`lab.console.live_bridge`).
"""
from __future__ import annotations

import asyncio
import ipaddress
import ssl
from dataclasses import dataclass
from types import SimpleNamespace
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any

import aiosmtplib
import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode

from lab.adapters.dns_client import LabResolver, to_records
from lab.adapters.smtp_client import require_loopback
from lab.adapters.tls import client_context, failure_reason, peer_facts
from lab.console.host import SendRequest, SendResult
from lab.core.dns import Answer
from lab.core.errors import LabRuntimeError
from lab.core.exchange.headers import mail_date
from lab.core.tls import tls_verdict

if TYPE_CHECKING:
    from lab.runtime import Lab

NET_TIMEOUT = 10.0


NO_SUCH_HOST = "NoSuchHost"


class ConnectFailed(LabRuntimeError):
    """No connection: ``reason`` is the network model's NoRoute/Timeout/Refused, or NoSuchHost."""

    def __init__(self, target: str, reason: str):
        super().__init__(f"cannot connect to {target}: {reason}")
        self.target, self.reason = target, reason


class NoStartTls(LabRuntimeError):
    """The client asked for TLS and the server does not offer STARTTLS."""


class TlsFailed(LabRuntimeError):
    """The TLS handshake, or the client's judgement of the server certificate, failed."""

    def __init__(self, detail: str):
        super().__init__(f"TLS failed: {detail}")
        self.detail = detail


def resolver(lab: "Lab", source_host: str) -> LabResolver:
    """The lab resolver, asking from ``source_host``'s own loopback address."""
    if lab.dns_address is None:
        raise LabRuntimeError("this lab has no DNS server")
    return LabResolver(lab.dns_address[0], lab.dns_address[1], source=lab.addressing.primary(source_host))


async def resolve_addresses(lab: "Lab", source_host: str, name: str) -> list[str]:
    """The virtual IPv4 addresses of ``name`` (an address literal is its own answer)."""
    text = name.strip().strip("[]")
    try:
        return [str(ipaddress.IPv4Address(text))]
    except ValueError:
        pass
    result = await resolver(lab, source_host).resolve_a(text.rstrip("."))
    return list(result.addresses)


def locate(lab: "Lab", source_host: str, ip: str, port: int, also_listening: tuple[tuple[str, int], ...] = ()
           ) -> tuple[str, int, str]:
    """Where ``source_host`` lands when it dials virtual ``ip:port`` (loopback ip, port, source ip).

    ``also_listening`` names (node, virtual port) services the addressing table does not list
    (the DNS server).
    """
    addressing = lab.addressing
    route = lab.world.network.connect(source_host, ip, port, listening=addressing.listening | set(also_listening))
    if not route.ok:
        raise ConnectFailed(f"{ip}:{port}", route.failure or "NoRoute")
    where = (addressing.loopback[(route.dest_node, route.dest_ip)], lab.port(route.dest_port),
             addressing.primary(source_host))
    for address in where[0], where[2]:
        require_loopback(address, "address")
    return where


async def dial(lab: "Lab", source_host: str, server: str, port: int) -> tuple[str, tuple[str, int, str]]:
    """Resolve ``server`` and locate the first address the network lets ``source_host`` reach."""
    addresses = await resolve_addresses(lab, source_host, server)
    if not addresses:
        raise ConnectFailed(server, NO_SUCH_HOST)
    failure: ConnectFailed | None = None
    for ip in addresses:
        try:
            return ip, locate(lab, source_host, ip, port)
        except ConnectFailed as exc:
            failure = failure or exc
    assert failure is not None
    raise failure


def build_message(lab: "Lab", request: SendRequest) -> EmailMessage:
    """The message Send-MailMessage writes (Date and Message-ID at lab time)."""
    msg = EmailMessage()
    msg["From"] = request.from_address
    msg["To"] = ", ".join(request.to)
    if request.cc:
        msg["Cc"] = ", ".join(request.cc)
    msg["Subject"] = request.subject
    msg["Date"] = mail_date(lab.clock.now_datetime())
    msg["Message-ID"] = make_msgid(domain=request.from_address.rpartition("@")[2] or "lab.local")
    msg.set_content(request.body or "")
    return msg


def client_certificate(lab: "Lab", name: str | None) -> Any:
    """The certificate a client presents: by certificate name, or by thumbprint."""
    if not name:
        return None
    if name in lab.keys:
        return lab.keys[name]
    wanted = name.replace(" ", "").upper()
    for issued in lab.keys.values():
        if issued.facts.thumbprint.upper() == wanted:
            return issued
    raise LabRuntimeError(f"no certificate {name!r} in the lab")


_NOTIFY = {"onsuccess": "SUCCESS", "onfailure": "FAILURE", "delay": "DELAY", "never": "NEVER"}


def notify_options(names: tuple[str, ...]) -> list[str]:
    """DeliveryNotificationOptions -> the RCPT TO ``NOTIFY=`` parameter (RFC 3461); none for ``None``."""
    words = [_NOTIFY[n.strip().lower()] for n in names if n.strip().lower() in _NOTIFY]
    if "NEVER" in words:
        words = ["NEVER"]
    return [f"NOTIFY={','.join(dict.fromkeys(words))}"] if words else []


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}".strip()


def trust_store(lab: "Lab", source_host: str) -> str:
    """The trust store of a lab host: its organization's, else the Internet's."""
    org = lab.world.topology.hosts[source_host].org
    return f"org-{org}" if org and org in lab.world.topology.organizations else "internet"


async def starttls(lab: "Lab", smtp: aiosmtplib.SMTP, source_host: str, server_name: str, cert: Any) -> None:
    """STARTTLS as a Windows client does it: the server certificate must be trusted, current and named."""
    if not smtp.supports_extension("starttls"):
        raise NoStartTls(f"{server_name} does not offer STARTTLS")
    try:
        await smtp.starttls(server_hostname=server_name, tls_context=client_context(cert))
    except (ssl.SSLError, aiosmtplib.SMTPException, OSError) as exc:
        raise TlsFailed(failure_reason(exc)) from None
    facts, der = peer_facts(smtp.transport.get_extra_info("ssl_object") if smtp.transport else None)
    if facts is None or der is None:
        raise TlsFailed("the server presented no certificate")
    expected = None if _is_address(server_name) else server_name
    verdict = tls_verdict(facts, lab.pki.verify(der, trust_store(lab, source_host)), lab.clock.now_datetime(),
                          "DomainValidation" if expected else "CertificateValidation", expected)
    if not verdict.ok:
        raise TlsFailed(f"{verdict.failure}: {verdict.detail}")


_ADDRESS_CHARACTERS = frozenset("0123456789.")


def _is_address(text: str) -> bool:
    """``text`` (``[...]`` brackets aside) is an IPv4 address."""
    text = text.strip("[]")
    if not _ADDRESS_CHARACTERS.issuperset(text):
        return False  # (IPv4Address takes ASCII digits and dots only: a name is refused before it raises)
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


async def send_mail(lab: "Lab", request: SendRequest, source_host: str) -> SendResult:
    """Send-MailMessage: ESMTP from ``source_host`` to ``request.smtp_server``:``request.port``.

    Returns the refusing reply (``ok=False``) when the server says no. Raises
    :class:`ConnectFailed` (no connection, or the name does not resolve), :class:`NoStartTls`
    or :class:`TlsFailed`.
    """
    _ip, (loop_ip, loop_port, source) = await dial(lab, source_host, request.smtp_server, request.port)
    fqdn = lab.world.topology.hosts[source_host].fqdn or source_host
    smtp = aiosmtplib.SMTP(hostname=loop_ip, port=loop_port, source_address=(source, 0), local_hostname=fqdn,
                           timeout=NET_TIMEOUT, start_tls=False, use_tls=False)
    try:
        await smtp.connect()
    except (OSError, asyncio.TimeoutError, aiosmtplib.SMTPConnectError) as exc:
        raise ConnectFailed(f"{request.smtp_server}:{request.port}", type(exc).__name__) from None
    try:
        await smtp.ehlo()
        if request.use_ssl:
            cert = client_certificate(lab, request.client_certificate)
            await starttls(lab, smtp, source_host, request.smtp_server, cert)
        if request.username:
            await smtp.login(request.username, request.password or "")
        rcpts = [*request.to, *request.cc, *request.bcc]
        errors, _ = await smtp.sendmail(request.from_address, rcpts, build_message(lab, request).as_bytes(),
                                        rcpt_options=notify_options(request.delivery_notification))
        refused = tuple((rcpt, _reply(exc)) for rcpt, exc in errors.items())
        return SendResult(True, "250", refused=refused)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        refused = tuple((r.recipient, _reply(r)) for r in exc.recipients)
        first = refused[0] if refused else ("", "")
        return SendResult(False, first[1], first[0] or None, refused=refused)
    except aiosmtplib.SMTPResponseException as exc:
        return SendResult(False, _reply(exc))
    except (aiosmtplib.SMTPServerDisconnected, OSError, asyncio.TimeoutError) as exc:
        raise ConnectFailed(f"{request.smtp_server}:{request.port}", str(exc) or type(exc).__name__) from None
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()


async def ask_dns(lab: "Lab", source_host: str, name: str, rtype: str, server: str | None
                  ) -> tuple[str, Answer]:
    """One DNS question from ``source_host`` to a DNS server (default: the lab's public DNS).

    Raises:
        TimeoutError: no DNS server answers at that address from ``source_host``.
    """
    spec = lab.world.topology.dns
    if spec is None:
        raise TimeoutError("this lab has no DNS server")
    default = lab.world.network.addresses_of(spec.server)[0]
    if server is None:
        address = default
    elif _is_address(server):
        address = server.strip("[]")
    else:
        found = await resolve_addresses(lab, source_host, server)
        if not found:
            raise TimeoutError(server)
        address = found[0]
    try:
        loop_ip, loop_port, source = locate(lab, source_host, address, 53, ((spec.server, 53),))
    except ConnectFailed:
        raise TimeoutError(address) from None
    query = dns.message.make_query(name.rstrip(".") + ".", rtype, use_edns=0, payload=1232)
    try:
        response, _tcp = await dns.asyncquery.udp_with_fallback(query, loop_ip, timeout=NET_TIMEOUT / 5,
                                                                port=loop_port, source=source)
    except (dns.exception.Timeout, OSError):
        raise TimeoutError(address) from None
    answer = Answer(dns.rcode.to_text(response.rcode()), to_records(response),
                    to_records(SimpleNamespace(answer=response.authority)),
                    bool(response.flags & dns.flags.AA))
    return address, answer


@dataclass
class RawSession:
    """A raw TCP conversation from a lab host (``telnet 192.168.0.10 25``)."""

    address: str
    port: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    @classmethod
    async def open(cls, lab: "Lab", source_host: str, address: str, port: int) -> "RawSession":
        loop_ip, loop_port, source = locate(lab, source_host, address, port)
        try:
            async with asyncio.timeout(NET_TIMEOUT):
                reader, writer = await asyncio.open_connection(loop_ip, loop_port, local_addr=(source, 0))
        except (OSError, asyncio.TimeoutError) as exc:
            raise ConnectFailed(f"{address}:{port}", type(exc).__name__) from None
        return cls(address, port, reader, writer)

    async def read_reply(self) -> tuple[str, ...]:
        """The next complete reply (up to the line with a space after the code); ``()`` when closed.

        Raises:
            TimeoutError: the server sent nothing for ``NET_TIMEOUT`` seconds.
        """
        lines: list[str] = []
        while True:
            try:
                async with asyncio.timeout(NET_TIMEOUT):  # per line, in this task (no task per line)
                    raw = await self.reader.readline()
            except asyncio.TimeoutError:
                raise TimeoutError(f"{self.address}:{self.port} sent no reply") from None
            except OSError:
                raw = b""
            if not raw:
                return tuple(lines)
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return tuple(lines)

    async def send_line(self, line: str) -> None:
        """Send one line as typed (CRLF appended)."""
        if self.writer.is_closing():
            return
        self.writer.write(line.encode("utf-8") + b"\r\n")
        try:
            await self.writer.drain()
        except OSError:
            pass

    async def close(self) -> None:
        """Close from the client side (idempotent)."""
        if self.writer.is_closing():
            return
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass
