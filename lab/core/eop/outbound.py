"""EOP's outbound SMTP session, sans-I/O: what each observed step means (both drivers).

The drivers speak SMTP (aiosmtplib on loopback, or the in-memory wire) and ask these functions
what an observation means; a function returning an outcome ends the attempt with it:

- :func:`unreachable`: the network model's failure name -> ``Refused`` (4.4.316) or ``Timeout``;
- :func:`after_ehlo`: the EHLO reply (a refusal retries with the reply as LastError);
- :func:`after_tls`: the next hop's TLS under the hop's TlsSettings at lab time;
- :func:`remote`: a reply to MAIL / RCPT / DATA: 5xx bounces, 4xx retries;
- :func:`after_rcpts`: every recipient refused -> the first refusal;
- :func:`delivered`: the final 250;
- :func:`keep_trying`: another target is tried only after a connection-level failure.

:func:`validation_hop` / :func:`validation_message` are Validate-OutboundConnector's test
message and hop.
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from lab.core.catalogue import Reply
from lab.core.eop import policy as P
from lab.core.eop import routing as R
from lab.core.eop.model import OutboundConnector
from lab.core.eop.validation import Probe, ValidationReport, judge
from lab.core.exchange.outcomes import Delivered, Permanent, Transient
from lab.core.fastpath import evolve
from lab.core.tls import CertFacts

Outcome = Delivered | Transient | Permanent
PORT = 25
#: The lab's connector-validation test message (EOP's own text is not known; not a product string).
VALIDATION_SUBJECT = "Connector validation test"
VALIDATION_BODY = "This is a test message sent by connector validation."


def unreachable(failure: str) -> str:
    """A network failure name (``Refused``, ``Timeout``, ``NoRoute``) as EOP reports it:
    a refused connection is ``Refused`` (4.4.316), anything else timed out."""
    return R.REFUSED if failure == "Refused" else R.TIMEOUT


def connect_failed(name: str, ip: str, failure: str) -> tuple[Probe, Transient]:
    """No session with ``name`` at ``ip``: the probe and the transient outcome (``failure`` a routing constant)."""
    return Probe(name, (ip,), ip, PORT, connect_failure=failure), R.connection_failure(failure)


def attempt_suffix(world: P.EopWorld, name: str, ip: str, now: datetime) -> str:
    """The ``[LastAttemptedServerName=...] ...`` suffix of this attempt's failures."""
    return R.attempt_suffix(name, ip, PORT, P.internal_host(world.node, P.MX), P.iso_ms(now), P.ticks_id(now))


def remote(code: int, text: str) -> Transient | Permanent:
    """A reply EOP's outbound session got from the next hop: 5xx bounces, 4xx retries (its LastError)."""
    enhanced, _, rest = text.partition(" ")
    reply = Reply(code, enhanced, rest) if enhanced[:1].isdigit() and "." in enhanced else Reply(code, None, text)
    return Permanent(reply, f"remote replied {reply}") if code >= 500 else Transient(reply, reply.line())


def after_ehlo(name: str, ip: str, code: int, message: str, starttls_offered: bool) -> tuple[Probe, Outcome | None]:
    """The EHLO reply: the probe so far; a refusal ends the attempt (retried, the reply its LastError)."""
    first = f"{code} {message.splitlines()[0] if message else ''}"
    probe = Probe(name, (ip,), ip, PORT, ehlo_reply=first, ehlo_ok=code == 250, starttls_offered=starttls_offered)
    if not probe.ehlo_ok:
        return probe, Transient(Reply(code, None, message), first)
    return probe, None


def after_tls(probe: Probe, hop: R.NextHop, cert: CertFacts | None, trusted: bool, tls_error: str | None,
              now: datetime, suffix: str) -> tuple[Probe, Outcome | None]:
    """The TLS step (STARTTLS done or not): the next hop judged under the hop's TlsSettings at lab time."""
    probe = evolve(probe, cert=cert, trusted=trusted, tls_error=tls_error)
    verdict = R.outbound_tls(hop, probe.host, probe.starttls_offered, cert, trusted, now, suffix, tls_error)
    if verdict.result is not None:
        return probe, verdict.result
    if tls_error:
        return probe, Transient(R.connection_failure(R.CLOSED).last_error, tls_error)
    return probe, None


def after_rcpts(probe: Probe, replies: Sequence[tuple[str, int, str]]) -> tuple[Probe, Outcome | None]:
    """Every RCPT's ``(recipient, code, text)``: the probe, and the first refusal when none was accepted."""
    probe = evolve(probe, send_replies=tuple((r, f"{code} {text}") for r, code, text in replies))
    if replies and not any(code in (250, 251) for _, code, _ in replies):
        _, code, text = replies[0]
        return probe, remote(code, text)
    return probe, None


def delivered(code: int, text: str, ip: str) -> Delivered:
    """The next hop took the message."""
    return Delivered(f"{code} {text}", f"{ip}:{PORT}")


def keep_trying(probe: Probe, outcome: Outcome) -> bool:
    """Try the next target: only when no session was had with this one."""
    return isinstance(outcome, Transient) and probe.connect_failure is not None


def validation_hop(connector: OutboundConnector, recipients: Sequence[str]) -> R.NextHop:
    """The hop Validate-OutboundConnector probes: the connector's smart hosts, or the first recipient's MX."""
    rcpts = tuple(recipients)
    domain = rcpts[0].rpartition("@")[2] if rcpts else ""
    return R.NextHop(R.VIA_CONNECTOR, rcpts[0] if rcpts else "", connector=connector,
                     hosts=() if connector.use_mx_record else connector.smart_hosts, domain=domain,
                     tls_mode=connector.tls_settings, tls_required=connector.tls_settings is not None,
                     tls_domain=connector.tls_domain)


def validation_target(hop: R.NextHop, mx_hosts: Sequence[str]) -> tuple[str, bool]:
    """The host a validation probes: the first smart host, else the first MX host, else the domain
    itself (then ``False``: nothing to resolve)."""
    names = list(hop.hosts) or list(mx_hosts)
    return (names[0], True) if names else (hop.domain, False)


def validation_report(world: P.EopWorld, connector: OutboundConnector, recipients: Sequence[str], probe: Probe,
                      now: datetime) -> ValidationReport:
    """What the probe means, step by step, in EOP's words (:func:`lab.core.eop.validation.judge`)."""
    return judge(connector, tuple(recipients), probe, now, P.internal_host(world.node, P.MX), P.iso_ms(now),
                 P.ticks_id(now))


def validation_message(world: P.EopWorld, recipients: Sequence[str]) -> tuple[str, bytes]:
    """The sender and the test message of a connector validation."""
    sender = f"postmaster@{world.tenants[0].initial_domain}" if world.tenants else ""
    body = (f"From: {sender}\r\nTo: {', '.join(recipients)}\r\nSubject: {VALIDATION_SUBJECT}\r\n\r\n"
            f"{VALIDATION_BODY}\r\n").encode()
    return sender, body
