"""TLS facts and decisions, judged at lab time (pure: no cryptography, no ssl, no clock).

The adapters (``lab.adapters.pki``) turn a certificate into :class:`CertFacts` and decide
whether its chain builds to a root of a trust store; everything else is decided here:

- :func:`name_matches`: does a certificate carry a name (host, ``*.domain`` wildcard rules)?
- :func:`tls_verdict`: Exchange/EOP's verdict on a presented certificate for a TLS mode, in
  the order trust, then time, then name (``UntrustedRoot``, ``NotYetValid``,
  ``CertificateExpired``, ``SubjectMismatch``).
- :func:`parse_tls_certificate_name` / :func:`select_certificate`: Exchange's
  ``TlsCertificateName`` syntax ``<I>issuer<S>subject`` and the certificate a connector uses.
- :func:`format_x500`: the .NET ``X500DistinguishedName.Name`` form Exchange shows
  (``CN=mail.contoso.com, O=Contoso, C=US``: most specific first, ``", "`` between parts).

The failure identifiers are the tokens EOP writes inside ``[Message=...]``; the full reply
texts that embed them live in the catalogue. ``TlsVerdict.detail`` is the lab's own
one-line explanation for traces, not a product string.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timezone
from typing import Iterable, NamedTuple, Sequence

from lab.core.errors import ConfigError, Place

ENCRYPTION_ONLY = "EncryptionOnly"
CERTIFICATE_VALIDATION = "CertificateValidation"
DOMAIN_VALIDATION = "DomainValidation"
TLS_MODES = (ENCRYPTION_ONLY, CERTIFICATE_VALIDATION, DOMAIN_VALIDATION)

UNTRUSTED_ROOT = "UntrustedRoot"
CERTIFICATE_EXPIRED = "CertificateExpired"
NOT_YET_VALID = "NotYetValid"
SUBJECT_MISMATCH = "SubjectMismatch"
TLS_FAILURES = (UNTRUSTED_ROOT, CERTIFICATE_EXPIRED, NOT_YET_VALID, SUBJECT_MISMATCH)

# Reasons Exchange/EOP give for a TLS negotiation that failed below the certificate level
# ("451 4.4.0 TLS negotiation failed with error <reason>", "Security status <reason>").
CONNECTION_ABORTED = "ConnectionAborted"
SOCKET_ERROR = "SocketError"
ILLEGAL_MESSAGE = "IllegalMessage"
TLS_ERROR_REASONS = (CONNECTION_ABORTED, SOCKET_ERROR, ILLEGAL_MESSAGE)

_THUMBPRINT = re.compile(r"^[0-9A-F]{40}$")
_KEY_ALIASES = {"ST": "S", "EMAIL": "E", "EMAILADDRESS": "E", "SERIALNUMBER": "SERIALNUMBER"}
_NEEDS_QUOTES = set(',+="\n<>#;')
_MARKERS = re.compile(r"<\s*([IS])\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class CertFacts:
    """What the lab knows about one certificate, in the form Exchange shows it.

    Attributes:
        subject: X.500 subject, most specific first (``CN=mail.contoso.com, O=Contoso``).
        issuer: X.500 issuer in the same form.
        subject_cn: the subject's common name, or None.
        san_dns: DNS names of the subjectAltName extension, lower-case, in order.
        not_before: start of validity (aware datetime, UTC).
        not_after: end of validity (aware datetime, UTC), inclusive.
        thumbprint: SHA-1 of the DER, 40 upper-case hex digits (as ``Get-ExchangeCertificate``).
        serial: serial number, upper-case hex.
        self_signed: issuer equals subject and the certificate signs itself.
        is_ca: basicConstraints cA is true.
        key_algorithm: e.g. ``ECDSA P-256`` or ``RSA 2048``.
    """

    subject: str
    issuer: str
    subject_cn: str | None
    san_dns: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    thumbprint: str
    serial: str
    self_signed: bool
    is_ca: bool
    key_algorithm: str

    def __post_init__(self) -> None:
        if not _THUMBPRINT.match(self.thumbprint):
            raise ValueError(f"thumbprint must be 40 upper-case hex digits, got {self.thumbprint!r}")
        for when in (self.not_before, self.not_after):
            if when.tzinfo is None:
                raise ValueError("certificate times must be timezone-aware")

    @property
    def names(self) -> tuple[str, ...]:
        """The host names the certificate is for: its SAN DNS names, else its CN."""
        if self.san_dns:
            return self.san_dns
        return (self.subject_cn.lower(),) if self.subject_cn else ()

    def valid_at(self, now: datetime) -> bool:
        """True when ``not_before <= now <= not_after``."""
        return self.not_before <= _aware(now) <= self.not_after


@dataclass(frozen=True)
class ChainFacts:
    """A presented certificate judged against one trust store (trust computed by the adapter).

    Attributes:
        leaf: the end-entity certificate.
        trusted: the chain builds from ``leaf`` to a root of ``store`` (time left aside).
        store: the trust store's name (``internet``, ``org-contoso``, ...).
        chain: the certificates above the leaf on the built path, up to the root (may be empty).
    """

    leaf: CertFacts
    trusted: bool
    store: str = ""
    chain: tuple[CertFacts, ...] = ()


@dataclass(frozen=True)
class TlsVerdict:
    """The verdict on a presented certificate.

    ``failure`` is one of :data:`TLS_FAILURES` or None; ``expected`` is the name that was
    required (DomainValidation), ``presented_subject``/``thumbprint`` describe the certificate:
    together they fill EOP's ``[Message=<failure> Expected Subject: ... Presented Subject: ...
    Thumbprint: ...]`` catalogue entry.
    """

    ok: bool
    failure: str | None
    detail: str
    expected: str | None = None
    presented_subject: str | None = None
    thumbprint: str | None = None


class TlsCertificateName(NamedTuple):
    """A parsed ``<I>issuer<S>subject`` value, both parts normalised (``K=V, K=V``)."""

    issuer: str
    subject: str

    def __str__(self) -> str:
        return f"<I>{self.issuer}<S>{self.subject}"


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("lab time must be a timezone-aware datetime")
    return now


def _stamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- host names -----------------------------------------------------------------------

def _host(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _under(host: str, base: str) -> bool:
    """``host`` is exactly one non-wildcard label under ``base``."""
    if not host.endswith("." + base):
        return False
    label = host[: -len(base) - 1]
    return bool(label) and "." not in label and "*" not in label


@lru_cache(maxsize=4096)  # a pure function of the two texts (a session asks about the same few names)
def host_matches(cert_name: str, wanted: str) -> bool:
    """One certificate name against one wanted name (either may be ``*.domain``).

    A certificate name ``*.contoso.com`` covers ``mail.contoso.com`` but not
    ``a.b.contoso.com`` nor ``contoso.com``. A wanted value ``*.contoso.com`` (EXO's
    ``TlsSenderCertificateName``/``TlsDomain`` form) is met by a certificate for
    ``*.contoso.com`` itself or for any single-label host under ``contoso.com``.

    Args:
        cert_name: a name from the certificate (SAN DNS name or CN).
        wanted: the configured domain or host.

    Returns:
        True when the name matches.
    """
    have, want = _host(cert_name), _host(wanted)
    if not have or not want:
        return False
    if want.startswith("*."):
        return have == want or _under(have, want[2:])
    if have.startswith("*."):
        return _under(want, have[2:])
    return have == want


def name_matches(pattern_or_domain: str, facts: CertFacts) -> bool:
    """Does the certificate carry ``pattern_or_domain`` (SAN DNS names; CN only without SAN)?

    Args:
        pattern_or_domain: a host name, or ``*.domain`` as EXO connectors allow.
        facts: the certificate.

    Returns:
        True when one of the certificate's names matches.
    """
    return any(host_matches(name, pattern_or_domain) for name in facts.names)


# --- verdicts -------------------------------------------------------------------------

def tls_verdict(facts: CertFacts, chain_trusted: bool, now: datetime, mode: str | None,
                expected_domain: str | None = None) -> TlsVerdict:
    """Judge a presented certificate as Exchange/EOP do: trust, then time, then name.

    Args:
        facts: the peer's leaf certificate.
        chain_trusted: whether its chain builds to a root of the judging side's store.
        now: lab time (aware datetime).
        mode: ``EncryptionOnly`` (or None: opportunistic, nothing checked),
            ``CertificateValidation`` (trust and time) or ``DomainValidation`` (also name).
        expected_domain: required name for DomainValidation (TlsDomain, or the recipient
            domain); may be ``*.domain``.

    Returns:
        The verdict; ``failure`` is None when ``ok``.

    Raises:
        ConfigError: unknown mode, or DomainValidation without an expected domain.
    """
    now = _aware(now)
    if mode is not None and mode not in TLS_MODES:
        raise ConfigError(f"unknown TLS mode {mode!r}", Place(path="TlsAuthLevel"), allowed=TLS_MODES)
    base = {"expected": expected_domain, "presented_subject": facts.subject, "thumbprint": facts.thumbprint}
    if mode in (None, ENCRYPTION_ONLY):
        return TlsVerdict(True, None, f"encryption only: {facts.subject} not checked", **base)
    if mode == DOMAIN_VALIDATION and not expected_domain:
        raise ConfigError("DomainValidation needs a domain to compare with", Place(path="TlsDomain"))
    if not chain_trusted:
        return TlsVerdict(False, UNTRUSTED_ROOT,
                          f"{facts.subject} (issuer {facts.issuer}) does not chain to a trusted root", **base)
    if now < facts.not_before:
        return TlsVerdict(False, NOT_YET_VALID,
                          f"{facts.subject} is not valid before {_stamp(facts.not_before)} "
                          f"(lab time {_stamp(now)})", **base)
    if now > facts.not_after:
        return TlsVerdict(False, CERTIFICATE_EXPIRED,
                          f"{facts.subject} expired {_stamp(facts.not_after)} (lab time {_stamp(now)})", **base)
    if mode == DOMAIN_VALIDATION and not name_matches(expected_domain or "", facts):
        names = ", ".join(facts.names) or "no names"
        return TlsVerdict(False, SUBJECT_MISMATCH,
                          f"{facts.subject} ({names}) does not match {expected_domain}", **base)
    return TlsVerdict(True, None, f"{facts.subject} accepted ({mode})", **base)


def chain_verdict(chain: ChainFacts, now: datetime, mode: str | None,
                  expected_domain: str | None = None) -> TlsVerdict:
    """:func:`tls_verdict` for a :class:`ChainFacts`; an expired CA on the path also expires it.

    Args:
        chain: the leaf and its trust result.
        now: lab time.
        mode: as for :func:`tls_verdict`.
        expected_domain: as for :func:`tls_verdict`.

    Returns:
        The verdict.
    """
    verdict = tls_verdict(chain.leaf, chain.trusted, now, mode, expected_domain)
    if not verdict.ok or mode in (None, ENCRYPTION_ONLY):
        return verdict
    for ca in chain.chain:
        if not ca.valid_at(now):
            failure = NOT_YET_VALID if now < ca.not_before else CERTIFICATE_EXPIRED
            return TlsVerdict(False, failure, f"CA {ca.subject} on the path is not valid at lab time {_stamp(now)}",
                              verdict.expected, verdict.presented_subject, verdict.thumbprint)
    return verdict


# --- X.500 names ----------------------------------------------------------------------

def _quote(value: str) -> str:
    if value != value.strip() or not _NEEDS_QUOTES.isdisjoint(value):  # (any character of value in the set)
        return '"' + value.replace('"', '""') + '"'
    return value


def format_x500(rdns: Sequence[Sequence[tuple[str, str]]]) -> str:
    """The .NET ``X500DistinguishedName.Name`` form of a name.

    Args:
        rdns: relative distinguished names in encoding order (least specific first, as in
            the certificate), each a sequence of ``(keyword, value)`` pairs (``("CN", "x")``).

    Returns:
        ``CN=mail.contoso.com, O=Contoso, C=US``: reversed, ``", "`` between RDNs, ``" + "``
        inside a multi-valued RDN, values quoted when they hold special characters.
    """
    parts = [" + ".join(f"{k}={_quote(v)}" for k, v in rdn) for rdn in reversed(list(rdns))]
    return ", ".join(parts)


def _split_components(text: str) -> list[str]:
    parts, buf, quoted, i = [], [], False, 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            if quoted and i + 1 < len(text) and text[i + 1] == '"':
                buf.append('"')
                i += 2
                continue
            quoted = not quoted
        elif ch in ",;" and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    if quoted:
        raise ValueError("unbalanced quotes")
    parts.append("".join(buf))
    return parts


@lru_cache(maxsize=4096)
def parse_x500(text: str) -> tuple[tuple[str, str], ...]:
    """Parse ``CN=a, O=b,C=c`` into ``(("CN","a"), ("O","b"), ("C","c"))`` (order kept).

    Spaces around separators and ``=`` are ignored; keywords are upper-cased, ``ST`` is read
    as ``S`` and ``EMAIL``/``EMAILADDRESS`` as ``E`` (the .NET keywords).

    Raises:
        ValueError: empty name, a part without ``=``, an empty keyword or value, bad quotes.

    Remembered per text (a pure function of an immutable string; errors are not remembered).
    """
    out = []
    for part in _split_components(text):
        if "=" not in part:
            raise ValueError(f"{part.strip()!r} is not KEY=value")
        key, value = part.split("=", 1)
        key, value = key.strip().upper(), value.strip()
        if not key or not value:
            raise ValueError(f"{part.strip()!r} is not KEY=value")
        out.append((_KEY_ALIASES.get(key, key), value))
    return tuple(out)


@lru_cache(maxsize=4096)
def x500_key(text: str) -> tuple[tuple[str, str], ...]:
    """Comparison key of an X.500 name: parsed, values case-folded with inner spaces collapsed."""
    return tuple((k, " ".join(v.split()).casefold()) for k, v in parse_x500(text))


@lru_cache(maxsize=4096)
def _normalise(text: str) -> str:
    """The .NET form of an X.500 name text (remembered per text: a pure function of it; errors are
    not remembered)."""
    return ", ".join(f"{k}={_quote(v)}" for k, v in parse_x500(text))


def parse_tls_certificate_name(value: str, place: Place | None = None) -> TlsCertificateName:
    """Parse Exchange's ``TlsCertificateName`` value ``<I>issuer<S>subject``.

    Tolerates spaces around the markers and after commas, as administrators type it
    (``<I> CN=CA ...,O=WoSign CA Limited, C=CN<S> CN=mail.ixmsoft.com``).

    Args:
        value: the configured string.
        place: where the value came from (cmdlet parameter or topology line).

    Returns:
        The normalised issuer and subject.

    Raises:
        ConfigError: naming the value, when it is not ``<I>issuer<S>subject``.
    """
    markers = list(_MARKERS.finditer(value or ""))
    tags = [m.group(1).upper() for m in markers]
    if tags != ["I", "S"] or value[: markers[0].start()].strip():
        raise ConfigError(f"TlsCertificateName {value!r} is not in the form <I>issuer<S>subject",
                          place or Place(path="TlsCertificateName"))
    issuer = value[markers[0].end(): markers[1].start()]
    subject = value[markers[1].end():]
    try:
        return TlsCertificateName(_normalise(issuer), _normalise(subject))
    except ValueError as exc:
        raise ConfigError(f"TlsCertificateName {value!r}: {exc}", place or Place(path="TlsCertificateName")) from exc


def tls_certificate_name_of(facts: CertFacts) -> TlsCertificateName:
    """The ``TlsCertificateName`` that names ``facts`` (``"<I>$($c.Issuer)<S>$($c.Subject)"``)."""
    return TlsCertificateName(facts.issuer, facts.subject)


# --- certificate selection --------------------------------------------------------------

def select_certificate(certs: Iterable[CertFacts], tls_certificate_name: str | TlsCertificateName | None,
                       now: datetime, fqdn: str | None = None) -> CertFacts | None:
    """The certificate a connector uses for STARTTLS (fidelity §3.4).

    With a ``TlsCertificateName``: certificates whose issuer and subject both match; of
    several, the one with the latest NotAfter wins (validity at ``now`` is not a condition,
    nor are the services the certificate is enabled for). Without one: see
    :func:`select_by_fqdn`.

    Args:
        certs: the server's certificates (its personal store).
        tls_certificate_name: the connector's value, raw or parsed, or None.
        now: lab time.
        fqdn: the connector's FQDN, for the default selection.

    Returns:
        The chosen certificate, or None (Exchange then does not offer STARTTLS).

    Raises:
        ConfigError: a malformed ``tls_certificate_name``.
    """
    pool = list(certs)
    if tls_certificate_name is None or tls_certificate_name == "":
        return select_by_fqdn(pool, fqdn, now) if fqdn else None
    wanted = (tls_certificate_name if isinstance(tls_certificate_name, TlsCertificateName)
              else parse_tls_certificate_name(tls_certificate_name))
    issuer, subject = x500_key(wanted.issuer), x500_key(wanted.subject)
    found = [c for c in pool if x500_key(c.issuer) == issuer and x500_key(c.subject) == subject]
    if not found:
        return None
    return max(found, key=lambda c: (c.not_after, c.not_before, c.thumbprint))


def select_by_fqdn(certs: Iterable[CertFacts], fqdn: str, now: datetime) -> CertFacts | None:
    """Default selection by FQDN when no ``TlsCertificateName`` is set (a lab rule).

    Candidates are end-entity certificates whose names match ``fqdn`` (wildcards allowed).
    Preference, in order: valid at ``now``; issued by a CA over self-signed; latest NotAfter.
    An expired certificate is still chosen when it is the only match, so the peer sees it.

    Args:
        certs: the server's certificates.
        fqdn: the connector's FQDN.
        now: lab time.

    Returns:
        The chosen certificate, or None when none carries the name.
    """
    now = _aware(now)
    found = [c for c in certs if not c.is_ca and name_matches(fqdn, c)]
    if not found:
        return None
    return max(found, key=lambda c: (c.valid_at(now), not c.self_signed, c.not_after, c.thumbprint))
