"""Validate-OutboundConnector, pure (fidelity §4.5, P-VOC, S-VALID).

The live driver (:func:`lab.adapters.eop.validate_outbound_connector`) observes a smart host
step by step and records a :class:`Probe`; :func:`judge` turns it into one
:class:`StepResult` per step, in order: ``Resolve``, ``Connect``, ``EHLO``, ``TLS``,
``Send test email``. The first failing step carries the exact text and the later steps are
skipped. The TLS step applies the connector's TlsSettings at lab time
(:func:`lab.core.eop.routing.outbound_tls`): an internal-CA certificate fails under
CertificateValidation/DomainValidation with ``450 4.4.317 Cannot connect to remote server
[Message=UntrustedRoot] ...`` and passes under EncryptionOnly or ``$null`` (article 000's
workaround).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lab.core.catalogue import eop as cat
from lab.core.eop.model import OutboundConnector
from lab.core.fastpath import frozen_init
from lab.core.eop.routing import NextHop, VIA_CONNECTOR, attempt_suffix, connection_failure, outbound_tls
from lab.core.tls import CertFacts

RESOLVE = "Resolve"
CONNECT = "Connect"
EHLO = "EHLO"
TLS = "TLS"
SEND = "Send test email"
STEPS = (RESOLVE, CONNECT, EHLO, TLS, SEND)


@frozen_init
@dataclass(frozen=True)
class Probe:
    """What the driver observed against one smart host (None = the step was not reached).

    Attributes:
        host: the smart host (or MX host) name.
        addresses: its resolved (virtual) addresses; () when resolution failed.
        ip: the address connected to.
        port: the port.
        connect_failure: ``Refused`` / ``Timeout`` / ``Closed`` (routing constants) or None.
        ehlo_reply: the EHLO reply's first line, or None.
        ehlo_ok: the EHLO reply was 250.
        starttls_offered: EHLO listed STARTTLS.
        tls_error: TLS negotiation failure reason (ConnectionAborted, ...), or None.
        cert: the server certificate, or None.
        trusted: it chains to a root of the INTERNET trust store.
        send_replies: ``(recipient, reply line)`` of the test message, per recipient.
    """

    host: str
    addresses: tuple[str, ...] | None = None
    ip: str = ""
    port: int = 25
    connect_failure: str | None = None
    ehlo_reply: str | None = None
    ehlo_ok: bool = False
    starttls_offered: bool = False
    tls_error: str | None = None
    cert: CertFacts | None = None
    trusted: bool = False
    send_replies: tuple[tuple[str, str], ...] | None = None


@frozen_init
@dataclass(frozen=True)
class StepResult:
    """One step's result: ``Success``, ``Failed`` (with the exact text) or ``Skipped``."""

    step: str
    status: str
    text: str = ""

    @property
    def ok(self) -> bool:
        """The step succeeded."""
        return self.status == "Success"


@dataclass(frozen=True)
class ValidationReport:
    """The whole validation of one connector."""

    connector: str
    recipients: tuple[str, ...]
    steps: tuple[StepResult, ...]

    @property
    def ok(self) -> bool:
        """Every step succeeded."""
        return all(s.ok for s in self.steps)

    @property
    def failure(self) -> StepResult | None:
        """The first failed step."""
        return next((s for s in self.steps if s.status == "Failed"), None)

    def summary(self) -> str:
        """``validation successful`` or the failing step's text."""
        failed = self.failure
        return cat.VAL_SUCCEEDED.text if failed is None else failed.text


def _finish(connector: str, recipients: tuple[str, ...], done: list[StepResult]) -> ValidationReport:
    rest = [StepResult(s, "Skipped") for s in STEPS[len(done):]]
    return ValidationReport(connector, recipients, tuple(done + rest))


def precheck(connector: OutboundConnector, recipients: tuple[str, ...]) -> str | None:
    """KB 3179588: a disabled connector, or a recipient domain the connector does not cover."""
    for rcpt in recipients:
        if not connector.enabled or not connector.covers_recipient(rcpt.rpartition("@")[2]):
            return cat.VAL_NOT_PART_OF_CONNECTOR.text
    return None


def judge(connector: OutboundConnector, recipients: tuple[str, ...], probe: Probe, now: datetime,
          eop_host: str, time_text: str, ident: str) -> ValidationReport:
    """The step results for one probe.

    Args:
        connector: the validated connector.
        recipients: the test recipients (``-Recipients``).
        probe: what the driver observed.
        now: lab time (certificate validity).
        eop_host: the EOP host name written in the 4.4.317 texts.
        time_text: ISO time with milliseconds for the texts.
        ident: the 16-hex-digit id for the texts.

    Returns:
        The report.
    """
    done: list[StepResult] = []
    pre = precheck(connector, recipients)
    if pre:
        return _finish(connector.name, recipients, [StepResult(RESOLVE, "Failed", pre)])
    if not probe.addresses:
        text = f"{cat.VAL_RESOLVE_FAILED.text}: {connection_failure('DnsFailed').last_error}"
        return _finish(connector.name, recipients, [StepResult(RESOLVE, "Failed", text)])
    done.append(StepResult(RESOLVE, "Success", f"{probe.host} -> {', '.join(probe.addresses)}"))
    if probe.connect_failure:
        text = f"{cat.VAL_CONNECT_FAILED.text}: {connection_failure(probe.connect_failure).last_error}"
        return _finish(connector.name, recipients, done + [StepResult(CONNECT, "Failed", text)])
    done.append(StepResult(CONNECT, "Success", f"{probe.ip}:{probe.port}"))
    if not probe.ehlo_ok:
        text = f"{cat.VAL_EHLO_FAILED.text}: {probe.ehlo_reply or ''}".rstrip(": ")
        return _finish(connector.name, recipients, done + [StepResult(EHLO, "Failed", text)])
    done.append(StepResult(EHLO, "Success", probe.ehlo_reply or ""))
    hop = NextHop(VIA_CONNECTOR, recipients[0] if recipients else "", connector=connector, hosts=(probe.host,),
                  tls_mode=connector.tls_settings, tls_required=connector.tls_settings is not None,
                  tls_domain=connector.tls_domain)
    suffix = attempt_suffix(probe.host, probe.ip, probe.port, eop_host, time_text, ident)
    tls = outbound_tls(hop, probe.host, probe.starttls_offered, probe.cert, probe.trusted, now, suffix,
                       probe.tls_error)
    if tls.result is not None:
        return _finish(connector.name, recipients, done + [StepResult(TLS, "Failed", tls.result.last_error.line())])
    done.append(StepResult(TLS, "Success", "; ".join(tls.reasons)))
    replies = probe.send_replies or ()
    bad = [(r, line) for r, line in replies if not line.startswith("2")]
    if bad or not replies:
        text = "; ".join(f"{r}: {line}" for r, line in bad) or "no test message was sent"
        return _finish(connector.name, recipients, done + [StepResult(SEND, "Failed", text)])
    done.append(StepResult(SEND, "Success", "; ".join(f"{r}: {line}" for r, line in replies)))
    return _finish(connector.name, recipients, done)
