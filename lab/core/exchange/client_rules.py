"""The pure rules of Exchange's outbound SMTP client, shared by both drivers.

The live :class:`lab.adapters.smtp_client.SmtpClient` (aiosmtplib) and the in-memory
:class:`lab.memory.client.ExchangeClient` speak SMTP and ask these functions what they observed
means: :func:`client_certificate_failure` before connecting, :func:`starttls_plan` after EHLO,
:func:`peer_failure` after the handshake, :func:`sent_outcome` / :func:`refused_outcome` after
the envelope.
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from lab.core.catalogue import Reply
from lab.core.exchange import outcomes as O
from lab.core.tls import CertFacts, tls_verdict

USE_TLS = "tls"
PLAIN = "plain"


def client_certificate_failure(policy: O.TlsPolicy, certificate_found: bool) -> O.Transient | None:
    """A TlsCertificateName that names no installed certificate fails before any connection (454 4.7.5)."""
    if policy.certificate_name and not policy.ignore_starttls and not certificate_found:
        return O.certificate_not_found(policy.certificate_name)
    return None


def starttls_plan(policy: O.TlsPolicy, use_tls: bool, offered: bool, target: O.Endpoint) -> str | O.Transient:
    """After EHLO: negotiate TLS (:data:`USE_TLS`), go on in the clear (:data:`PLAIN`), or fail.

    Args:
        policy: the connector's TLS settings.
        use_tls: this session tries STARTTLS (False: IgnoreSTARTTLS, or the retry without it).
        offered: the EHLO reply lists STARTTLS.
        target: the endpoint (for the detail).
    """
    if not use_tls:
        return PLAIN
    if not offered:
        if policy.require_tls:
            return O.starttls_required(f"{target} does not offer STARTTLS")
        return PLAIN
    return USE_TLS


def peer_failure(policy: O.TlsPolicy, facts: CertFacts | None, trusted: bool, now: datetime,
                 target: O.Endpoint) -> O.Transient | None:
    """The peer's certificate under TlsAuthLevel at lab time: None when the session may go on.

    A failure is TLS's fault: the caller retries without STARTTLS unless RequireTLS.
    """
    if policy.auth_level in (None, "EncryptionOnly"):
        return None
    if facts is None:
        return O.starttls_required(f"{target} presented no certificate")
    verdict = tls_verdict(facts, trusted, now, policy.auth_level, policy.expected_domain)
    if not verdict.ok:
        return O.starttls_required(f"TLS {policy.auth_level} failed: {verdict.failure}: {verdict.detail}")
    return None


def sent_outcome(target: O.Endpoint, final: str, refused: Sequence[tuple[str, int, str]]) -> O.Outcome:
    """A message the remote took with ``final`` (``250 <text>``) while refusing ``refused``
    (``(recipient, code, text)`` at RCPT): 5xx ones bounce, 4xx ones stay queued."""
    if not refused:  # every recipient taken (most messages): nothing bounces, nothing stays
        return O.Delivered(final.strip(), str(target), (), ())
    remote = f"{target.host} ({target.ip})"
    outcomes = tuple((r, O.remote_reply(code, text, "rcpt", remote)) for r, code, text in refused)
    hard: tuple[tuple[str, Reply], ...] = tuple((r, o.reply) for r, o in outcomes if isinstance(o, O.Permanent))
    soft: tuple[tuple[str, Reply], ...] = tuple((r, o.last_error) for r, o in outcomes if isinstance(o, O.Transient))
    return O.Delivered(final.strip(), str(target), hard, soft)


def refused_outcome(target: O.Endpoint, code: int, text: str, during: str) -> O.Outcome:
    """The remote refused the envelope at MAIL, at every RCPT (the first refusal), or at DATA."""
    return O.remote_reply(code, text, during, f"{target.host} ({target.ip})")

