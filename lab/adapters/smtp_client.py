"""Outbound SMTP for the lab's Exchange servers: executes the transport's ``Connect`` over aiosmtplib.

Thin: the session is real SMTP on loopback, every decision is the core's. For one ``Connect``:

1. the connector's TlsCertificateName must name an installed certificate, else
   ``454 4.7.5`` (no connection is made);
2. targets are tried in order; each virtual address is mapped to a live loopback address by
   the caller's ``locate`` (the network model decides NoRoute/Timeout/Refused there);
3. ONE session per target carries every envelope (Exchange reuses the connection);
   EHLO with the connector Fqdn, STARTTLS unless IgnoreSTARTTLS, the TlsCertificateName
   certificate presented as client certificate, the peer judged by :func:`lab.core.tls.tls_verdict`
   at lab time under CertificateValidation / DomainValidation;
4. opportunistic TLS that fails is retried on the same target without STARTTLS (Exchange's
   "Retrying without STARTTLS"); with RequireTLS it fails over with ``451 5.7.3``;
5. foreign exceptions are mapped ONCE, by :data:`CONNECT_FAILURES` and :func:`_session_failure`,
   to :mod:`lab.core.exchange.outcomes` builders.

Nothing connects outside 127.0.0.0/8: :func:`require_loopback` refuses it before any socket.
"""
from __future__ import annotations

import asyncio
import errno
import ipaddress
import ssl
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from lab.adapters._lazy import lazy

aiosmtplib = lazy("aiosmtplib")

from lab.adapters.tls import client_context, failure_reason, peer_facts
from lab.core.catalogue import exchange_queue as QC
from lab.core.errors import LabRuntimeError
from lab.core.exchange import client_rules as rules
from lab.core.exchange import outcomes as O
from lab.core.tls import CertFacts

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")

# errno -> the network model's failure names (Winsock 10061 / 10060 in the LastError).
CONNECT_FAILURES: dict[int, str] = {
    errno.ECONNREFUSED: "Refused", errno.ETIMEDOUT: "Timeout", errno.EHOSTUNREACH: "NoRoute",
    errno.ENETUNREACH: "NoRoute", errno.ECONNRESET: "Refused",
}


@dataclass(frozen=True)
class Located:
    """Where a virtual endpoint is on loopback: ``ip``/``port`` to connect to, ``source`` to bind."""

    ip: str
    port: int
    source: str


@dataclass(frozen=True)
class _Failed:
    """A session that never carried mail: the transient outcome and whether TLS was the cause."""

    outcome: O.Transient
    tls: bool = False


Locate = Callable[[str, O.Endpoint], "Located | str"]
ItemOutcome = tuple[tuple[int, ...] | None, O.Outcome]


def require_loopback(ip: str, what: str) -> None:
    """Refuse any address outside 127.0.0.0/8 (the lab's network rule).

    Raises:
        LabRuntimeError: ``ip`` is not a loopback IPv4 address.
    """
    if not (_is_loopback(ip) if type(ip) is str else _is_loopback.__wrapped__(ip)):
        raise LabRuntimeError(f"refusing to use {what} {ip!r}: the lab only uses 127.0.0.0/8")


@lru_cache(maxsize=4096)
def _is_loopback(ip: object) -> bool:
    """``ip`` is an IPv4 address in 127.0.0.0/8 (cached: every connection asks for the same few)."""
    try:
        return ipaddress.ip_address(ip) in LOOPBACK
    except ValueError:
        return False


class SmtpClient:
    """Executes ``Connect`` commands.

    Args:
        locate: ``(source_server, endpoint) -> Located`` or a failure name (``NoRoute``,
            ``Timeout``, ``Refused``) when the network model says the connection fails.
        now: lab time as an aware datetime (``LabClock.now_datetime``).
        certificate: ``TlsCertificateName -> IssuedCertificate | None`` (the server's store).
        trusted: ``(facts, der) -> bool``: does the peer's chain build to the server's trust store.
        timeout: seconds for each network operation.
    """

    def __init__(self, locate: Locate, now: Callable[[], Any], certificate: Callable[[str], Any] = lambda n: None,
                 trusted: Callable[[CertFacts, bytes], bool] = lambda f, d: False, timeout: float = 10.0):
        self.locate = locate
        self.now = now
        self.certificate = certificate
        self.trusted = trusted
        self.timeout = timeout

    async def deliver(self, cmd: O.Connect) -> list[ItemOutcome]:
        """Run one ``Connect``: outcomes per envelope (``(items, outcome)``), or ``(None, outcome)`` for all."""
        cert = None
        if cmd.tls.certificate_name and not cmd.tls.ignore_starttls:
            cert = self.certificate(cmd.tls.certificate_name)
        failure = rules.client_certificate_failure(cmd.tls, cert is not None)
        if failure is not None:
            return [(None, failure)]
        last: O.Transient = O.connect_failure("NoRoute", "")
        for target in cmd.targets:
            located = self.locate(cmd.source_server, target)
            if isinstance(located, str):
                last = O.connect_failure(located, target)
                continue
            require_loopback(located.ip, "target")
            require_loopback(located.source, "source address")
            result = await self._session(cmd, target, located, cert, use_tls=not cmd.tls.ignore_starttls)
            if isinstance(result, _Failed) and result.tls and not cmd.tls.require_tls:
                result = await self._session(cmd, target, located, cert, use_tls=False)
            if isinstance(result, _Failed):
                last = result.outcome
                continue
            return result
        return [(None, last)]

    async def _session(self, cmd: O.Connect, target: O.Endpoint, located: Located, cert: Any,
                       use_tls: bool) -> list[ItemOutcome] | _Failed:
        smtp = aiosmtplib.SMTP(hostname=located.ip, port=located.port, source_address=(located.source, 0),
                               local_hostname=cmd.ehlo_name, timeout=self.timeout, start_tls=False)
        stage = "connect"
        try:
            await smtp.connect()
            stage = "ehlo"
            await smtp.ehlo()
            stage = "starttls"
            failed = await self._starttls(smtp, cmd, target, cert, use_tls)
            if failed is not None:
                return failed
            return await self._send_all(smtp, cmd, target)
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
            return _session_failure(exc, stage, target)
        finally:
            if smtp.is_connected:
                try:
                    await smtp.quit()
                except (aiosmtplib.SMTPException, OSError):
                    smtp.close()

    async def _starttls(self, smtp: aiosmtplib.SMTP, cmd: O.Connect, target: O.Endpoint, cert: Any,
                        use_tls: bool) -> _Failed | None:
        plan = rules.starttls_plan(cmd.tls, use_tls, smtp.supports_extension("starttls"), target)
        if isinstance(plan, O.Transient):
            return _Failed(plan)
        if plan == rules.PLAIN:
            return None
        await smtp.starttls(server_hostname=target.host, tls_context=client_context(cert))
        if cmd.tls.auth_level in (None, "EncryptionOnly"):
            return None
        facts, der = peer_facts(smtp.transport.get_extra_info("ssl_object") if smtp.transport else None)
        trusted = facts is not None and der is not None and self.trusted(facts, der)
        failure = rules.peer_failure(cmd.tls, facts if der is not None else None, trusted, self.now(), target)
        return _Failed(failure, tls=True) if failure is not None else None

    async def _send_all(self, smtp: aiosmtplib.SMTP, cmd: O.Connect, target: O.Endpoint) -> list[ItemOutcome]:
        out: list[ItemOutcome] = []
        for i, env in enumerate(cmd.envelopes):
            try:
                errors, message = await smtp.sendmail(env.mail_from, list(env.recipients), env.data)
                refused = [(r, x.code, x.message) for r, x in errors.items()]
                out.append(((env.item,), rules.sent_outcome(target, f"250 {message}", refused)))
            except aiosmtplib.SMTPRecipientsRefused as exc:
                first = exc.recipients[0]
                out.append(((env.item,), rules.refused_outcome(target, first.code, first.message, "rcpt")))
            except aiosmtplib.SMTPSenderRefused as exc:
                out.append(((env.item,), rules.refused_outcome(target, exc.code, exc.message, "mail")))
            except aiosmtplib.SMTPDataError as exc:
                out.append(((env.item,), rules.refused_outcome(target, exc.code, exc.message, "data")))
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError, asyncio.TimeoutError) as exc:
                reason = "TimedOut" if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) else "SocketError"
                rest = tuple(e.item for e in cmd.envelopes[i:])
                out.append((rest, O.connection_dropped(reason)))
                break
        return out


def _errno(exc: BaseException) -> int | None:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno:
            return exc.errno
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return None


def _session_failure(exc: BaseException, stage: str, target: O.Endpoint) -> _Failed:
    """The one place a foreign exception of a session becomes a lab outcome."""
    if isinstance(exc, aiosmtplib.SMTPConnectResponseError):
        return _Failed(O.remote_reply(exc.code, exc.message, "connect"))  # type: ignore[arg-type]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _Failed(O.remote_reply(exc.code, exc.message, stage), tls=stage == "starttls")  # type: ignore[arg-type]
    if stage == "starttls" and isinstance(exc, (ssl.SSLError, ConnectionError, aiosmtplib.SMTPException)):
        return _Failed(O.starttls_required(QC.TLS_NEGOTIATION_FAILED.format(error=failure_reason(exc))), tls=True)
    if stage == "connect":
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            return _Failed(O.connect_failure("Timeout", target))
        code = _errno(exc)
        if code in CONNECT_FAILURES:
            return _Failed(O.connect_failure(CONNECT_FAILURES[code], target))
        if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
            return _Failed(O.connection_dropped("SocketError"))
        return _Failed(O.connect_failure("NoRoute", target))
    reason = "TimedOut" if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) else "SocketError"
    return _Failed(O.connection_dropped(reason))

