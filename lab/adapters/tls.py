"""ssl contexts for the lab's SMTP endpoints and peers, and what a TLS peer presented.

The split of work between OpenSSL and the lab:

- OpenSSL only encrypts. Servers ask for a client certificate (``CERT_OPTIONAL``) with
  ``X509_V_FLAG_NO_CHECK_TIME`` set, so wall time never decides; clients verify nothing
  (``CERT_NONE``, no hostname check).
- The lab judges the peer in the application, from the DER the peer sent
  (:func:`peer_facts`), with :func:`lab.adapters.pki.chain_facts` (does it chain to the
  judging side's trust store?) and :func:`lab.core.tls.tls_verdict` (at lab time).

Python 3.11's ``ssl`` returns only the peer's leaf, never the chain it sent. The lab
therefore builds paths with the intermediates it knows (every lab CA that is not a root) as
the untrusted pool, the way Windows fetches missing intermediates through AIA. A server that
"forgets" its intermediate is modelled in the topology, not on the wire.

Contexts are cached: building one per connection costs more than the handshake.
"""
from __future__ import annotations

import asyncio
import os
import ssl
import tempfile
from pathlib import Path
from typing import Iterable

from lab.adapters.pki import IssuedCertificate, facts_from_der, write_private, write_public
from lab.core.tls import CONNECTION_ABORTED, ILLEGAL_MESSAGE, SOCKET_ERROR, CertFacts

X509_V_FLAG_NO_CHECK_TIME = 0x200000  # OpenSSL flag; Python has no name for it

_SERVER_CACHE: dict[tuple[bytes, bytes], ssl.SSLContext] = {}
_CLIENT_CACHE: dict[bytes, ssl.SSLContext] = {}

# OpenSSL reasons that mean the two sides could not agree on a protocol version.
# (Plain text where a TLS record was expected, WRONG_VERSION_NUMBER, is garbage: IllegalMessage.)
_VERSION_REASONS = {"UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE", "TLSV1_ALERT_PROTOCOL_VERSION",
                    "VERSION_TOO_LOW", "VERSION_TOO_HIGH"}
# The peer refused our certificate (or we refused theirs) and closed the handshake.
_ABORT_REASONS = {"TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE", "CERTIFICATE_VERIFY_FAILED",
                  "SSLV3_ALERT_CERTIFICATE_UNKNOWN", "TLSV13_ALERT_CERTIFICATE_REQUIRED",
                  "SSLV3_ALERT_CERTIFICATE_EXPIRED", "TLSV1_ALERT_ACCESS_DENIED", "PEER_DID_NOT_RETURN_A_CERTIFICATE"}


def _load_chain(ctx: ssl.SSLContext, cert: IssuedCertificate) -> None:
    """``load_cert_chain`` needs files: write them to a private temporary directory."""
    with tempfile.TemporaryDirectory(prefix="lab-tls-") as tmp:
        cert_path = write_public(Path(tmp) / "cert.pem", cert.pem())
        key_path = write_private(Path(tmp) / "cert.key", cert.key_pem())
        ctx.load_cert_chain(os.fspath(cert_path), os.fspath(key_path))


def _bundle(pems: bytes | str | Iterable[bytes | str] | None) -> bytes:
    if pems is None:
        return b""
    if isinstance(pems, (bytes, str)):
        pems = [pems]
    return b"".join(p.encode("ascii") if isinstance(p, str) else p for p in pems)


def server_context(issued_cert: IssuedCertificate,
                   client_ca_pems: bytes | str | Iterable[bytes | str] | None = None,
                   maximum_version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    """A (cached) server context for STARTTLS: TLS 1.2+, presenting leaf + chain.

    With ``client_ca_pems`` the server asks for a client certificate (``CERT_OPTIONAL``) so the
    application can read it; OpenSSL still refuses, at the handshake, a certificate that does
    not chain to one of these CAs, so pass every root of the lab (and any self-signed client
    certificate to be readable) and judge trust per store in the application. Validity times
    are ignored by OpenSSL (``X509_V_FLAG_NO_CHECK_TIME``): lab time decides.

    Args:
        issued_cert: the certificate the connector presents.
        client_ca_pems: PEM bundle(s) of CAs client certificates may chain to, or None to not
            ask for a client certificate.
        maximum_version: the highest TLS version the server speaks (Exchange 2010-2019 stop at
            TLS 1.2; EOP also speaks TLS 1.3), or None for OpenSSL's highest.

    Returns:
        The shared context for this certificate and CA set.
    """
    cas = _bundle(client_ca_pems)
    cache_key = (issued_cert.pem() + issued_cert.key_pem(), cas, maximum_version)
    ctx = _SERVER_CACHE.get(cache_key)
    if ctx is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if maximum_version is not None:
            ctx.maximum_version = maximum_version
        _load_chain(ctx, issued_cert)
        if cas:
            ctx.load_verify_locations(cadata=cas.decode("ascii"))
            ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.verify_flags |= X509_V_FLAG_NO_CHECK_TIME
        _SERVER_CACHE[cache_key] = ctx
    return ctx


def client_context(client_cert: IssuedCertificate | None = None) -> ssl.SSLContext:
    """A (cached) client context for the lab's outbound SMTP: TLS 1.2+, verifies nothing.

    The peer is judged afterwards from :func:`peer_facts` at lab time. With ``client_cert`` the
    client presents it (leaf + chain) when the server asks, as Exchange presents its
    connector certificate to EOP.

    Args:
        client_cert: the certificate to present, or None.

    Returns:
        The shared context.
    """
    cache_key = client_cert.pem() + client_cert.key_pem() if client_cert else b""
    ctx = _CLIENT_CACHE.get(cache_key)
    if ctx is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if client_cert is not None:
            _load_chain(ctx, client_cert)
        _CLIENT_CACHE[cache_key] = ctx
    return ctx


def clear_context_cache() -> None:
    """Forget every cached context (after certificates change)."""
    _SERVER_CACHE.clear()
    _CLIENT_CACHE.clear()


def peer_facts(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> tuple[CertFacts | None, bytes | None]:
    """What the peer presented: ``(facts, der)``, or ``(None, None)`` without a certificate.

    Works on both sides (a client reads the server's certificate even with ``CERT_NONE``; a
    server reads the client's with ``CERT_OPTIONAL``). Pass ``session.ssl["ssl_object"]``
    (aiosmtpd) or ``transport.get_extra_info("ssl_object")``.
    """
    if ssl_object is None:
        return None, None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None, None
    return facts_from_der(der), der


def _causes(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def failure_reason(exc: BaseException) -> str:
    """Map a failed TLS negotiation to Exchange's reason: ConnectionAborted, SocketError, IllegalMessage.

    - the peer closed or reset the connection, or refused a certificate: ``ConnectionAborted``;
    - no common protocol version, or a socket-level error: ``SocketError``;
    - any other TLS protocol error (garbage, unexpected message): ``IllegalMessage``.

    Wrapping exceptions (aiosmtplib's, asyncio's) are unwrapped through ``__cause__``.
    """
    for err in _causes(exc):
        if isinstance(err, ssl.SSLError):
            reason = getattr(err, "reason", None) or ""
            if isinstance(err, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLCertVerificationError)) \
                    or reason in _ABORT_REASONS:
                return CONNECTION_ABORTED
            if reason in _VERSION_REASONS:
                return SOCKET_ERROR
            return ILLEGAL_MESSAGE
    for err in _causes(exc):
        if isinstance(err, (ConnectionError, asyncio.IncompleteReadError, EOFError)) \
                or "Disconnected" in type(err).__name__:
            return CONNECTION_ABORTED
    return SOCKET_ERROR
