"""The lab's PKI: CAs, certificates, CSRs and trust stores (cryptography).

Trustme-like verbs over ``cryptography``::

    root = CertificateAuthority.create_root("Lab Public Root CA", subject_extra=(("O", "Lab Trust"),))
    inter = root.create_intermediate("Lab Public CA G2")
    leaf = inter.issue("mail.contoso.com", sans=("mail.contoso.com",), not_before=t0)
    csr_pem, key = generate_request("mail.contoso.com", ("mail.contoso.com",))   # the key stays here
    cert = import_certificate(inter.sign_csr(csr_pem, not_before=t0), key)       # Import-ExchangeCertificate
    ok = verify_chain(leaf.cert, inter.chain_with_self, TrustStore("internet", (root.cert,)))

Validity is never judged here against any clock: :func:`verify_chain` answers only whether the
chain builds to a root of the store (at a time inside the leaf's own validity), and
``lab.core.tls`` judges time at lab time. Names come out in Exchange's X.500 form through
:func:`facts_from_cert`. :class:`Pki` builds a whole lab PKI from a simple spec.
EC P-256 keys by default (fast), RSA-2048 when asked.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import Iterable, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

from lab.core.errors import ConfigError, Place
from lab.core.memo import Memo
from lab.core.tls import CertFacts, ChainFacts, format_x500
from lab.core.fastpath import frozen_init

UTC = timezone.utc
KEY_TYPES = ("ec", "rsa")
ROOT_DAYS, INTERMEDIATE_DAYS, LEAF_DAYS = 7300, 3650, 365

# .NET X500DistinguishedName keywords (what Exchange shows); others print as OID.<dotted>.
_KEYWORDS = {
    NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATION_NAME: "O", NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.COUNTRY_NAME: "C", NameOID.STATE_OR_PROVINCE_NAME: "S", NameOID.LOCALITY_NAME: "L",
    NameOID.EMAIL_ADDRESS: "E", NameOID.DOMAIN_COMPONENT: "DC", NameOID.STREET_ADDRESS: "STREET",
    NameOID.SERIAL_NUMBER: "SERIALNUMBER", NameOID.TITLE: "T", NameOID.GIVEN_NAME: "G",
    NameOID.SURNAME: "SN",
}
_OIDS = {v: k for k, v in _KEYWORDS.items()} | {"ST": NameOID.STATE_OR_PROVINCE_NAME}
# Subject attribute order in the encoding (least specific first), like public CAs issue them.
_ORDER = ("DC", "C", "S", "ST", "L", "STREET", "O", "OU", "T", "SN", "G", "SERIALNUMBER", "E", "CN")


def new_key(key_type: str = "ec"):
    """A fresh private key: EC P-256 (``"ec"``) or RSA-2048 (``"rsa"``).

    Raises:
        ConfigError: an unknown key type.
    """
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ConfigError(f"unknown key type {key_type!r}", Place(path="key_type"), allowed=KEY_TYPES)


def x500_name(common_name: str | None, extra: Iterable[tuple[str, str]] = ()) -> x509.Name:
    """An X.509 name from a CN plus ``(keyword, value)`` pairs such as ``("O", "Contoso")``.

    Raises:
        ConfigError: an unknown keyword or an empty name.
    """
    attrs = list(extra) + ([("CN", common_name)] if common_name else [])
    if not attrs:
        raise ConfigError("a certificate needs a subject", Place(path="common_name"))
    for key, _ in attrs:
        if key.upper() not in _OIDS:
            raise ConfigError(f"unknown subject attribute {key!r}", Place(path="subject"),
                              allowed=tuple(_KEYWORDS.values()))
    attrs.sort(key=lambda kv: _ORDER.index(kv[0].upper()) if kv[0].upper() in _ORDER else len(_ORDER))
    return x509.Name([x509.NameAttribute(_OIDS[k.upper()], str(v)) for k, v in attrs])


def _x500(name: x509.Name) -> str:
    rdns = [[(_KEYWORDS.get(a.oid, f"OID.{a.oid.dotted_string}"), str(a.value)) for a in rdn] for rdn in name.rdns]
    return format_x500(rdns)


def _san(names: Iterable[str]) -> x509.SubjectAlternativeName:
    out: list[x509.GeneralName] = []
    for n in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            out.append(x509.DNSName(n.strip().rstrip(".").lower()))
    return x509.SubjectAlternativeName(out)


def _window(not_before: datetime | None, not_after: datetime | None, days: int) -> tuple[datetime, datetime]:
    start = not_before or (datetime.now(UTC) - timedelta(hours=1))
    if start.tzinfo is None:
        raise ConfigError("certificate times must be timezone-aware", Place(path="valid_from"))
    start = start.astimezone(UTC).replace(microsecond=0)
    end = (not_after.astimezone(UTC) if not_after else start + timedelta(days=days)).replace(microsecond=0)
    if end <= start:
        raise ConfigError("a certificate must end after it starts", Place(path="valid_days"))
    return start, end


def _key_usage(ca: bool, rsa_key: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=rsa_key and not ca,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def _build(subject: x509.Name, issuer: x509.Name, public_key, signing_key, window: tuple[datetime, datetime],
           *, ca: bool, sans: Sequence[str] = (), server: bool = True, client: bool = True,
           authority_key_id: x509.AuthorityKeyIdentifier | None = None) -> x509.Certificate:
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
         .serial_number(x509.random_serial_number()).not_valid_before(window[0]).not_valid_after(window[1]))
    b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    b = b.add_extension(_key_usage(ca, isinstance(public_key, rsa.RSAPublicKey)), critical=True)
    if not ca:
        ekus = [ExtendedKeyUsageOID.SERVER_AUTH] * server + [ExtendedKeyUsageOID.CLIENT_AUTH] * client
        if ekus:
            b = b.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    if sans:
        b = b.add_extension(_san(sans), critical=False)
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    if authority_key_id is None:
        authority_key_id = x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key())
    b = b.add_extension(authority_key_id, critical=False)
    return b.sign(signing_key, hashes.SHA256())


def _pem(certs: Iterable[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def write_private(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` readable by the owner only (mode 0600), creating parents."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)
    return path


def write_public(path: str | os.PathLike, data: bytes) -> Path:
    """Write a public file (certificates, bundles), creating parents."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def cert_der(cert: x509.Certificate) -> bytes:
    """The certificate in DER, encoded once per certificate object.

    ``public_bytes`` encodes the parsed certificate anew at every call (it costs as much as
    parsing it); a certificate object never changes, so its DER is remembered with it (the
    entry holds the object: its id stays its own while the entry lives).
    """
    return _DERS.get1(cert, None, cert.public_bytes, serialization.Encoding.DER)


_DERS = Memo(1024)


def facts_from_cert(cert: x509.Certificate) -> CertFacts:
    """The :class:`CertFacts` of a certificate (names in Exchange's X.500 form)."""
    try:
        sans = tuple(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
                     .value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        sans = ()
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    public = cert.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        algorithm = f"RSA {public.key_size}"
    elif isinstance(public, ec.EllipticCurvePublicKey):
        algorithm = {"secp256r1": "ECDSA P-256", "secp384r1": "ECDSA P-384"}.get(public.curve.name, public.curve.name)
    else:
        algorithm = type(public).__name__
    self_signed = cert.issuer == cert.subject
    if self_signed:
        try:
            cert.verify_directly_issued_by(cert)
        except Exception:  # noqa: BLE001 - any failure to verify means "not self-signed"
            self_signed = False
    return CertFacts(
        subject=_x500(cert.subject), issuer=_x500(cert.issuer),
        subject_cn=str(cns[0].value) if cns else None, san_dns=tuple(s.lower() for s in sans),
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        thumbprint=hashlib.sha1(cert_der(cert)).hexdigest().upper(),
        serial=format(cert.serial_number, "X"), self_signed=self_signed, is_ca=is_ca, key_algorithm=algorithm)


def facts_from_der(der: bytes) -> CertFacts:
    """The :class:`CertFacts` of a DER certificate (as read from a TLS peer)."""
    return facts_from_cert(x509.load_der_x509_certificate(der))


@frozen_init
@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate with its private key and the intermediates that lead to its root.

    Attributes:
        cert: the certificate.
        key: its private key.
        chain: the intermediate CA certificates above it, nearest first (no root).
    """

    cert: x509.Certificate
    key: object
    chain: tuple[x509.Certificate, ...] = ()

    @cached_property
    def facts(self) -> CertFacts:
        """The certificate's facts."""
        return facts_from_cert(self.cert)

    @property
    def der(self) -> bytes:
        """The certificate in DER."""
        return cert_der(self.cert)

    def cert_pem(self) -> bytes:
        """The certificate alone in PEM."""
        return _pem([self.cert])

    def pem(self) -> bytes:
        """The certificate followed by its chain, in PEM (what a server presents)."""
        return _pem([self.cert, *self.chain])

    def key_pem(self) -> bytes:
        """The private key, PKCS#8 PEM, unencrypted."""
        return _key_pem(self.key)

    def write(self, directory: str | os.PathLike, name: str | None = None) -> tuple[Path, Path]:
        """Write ``<name>.pem`` (leaf + chain) and ``<name>.key`` (mode 0600) into ``directory``.

        Args:
            directory: target directory (created when missing).
            name: file stem; defaults to the certificate's CN (``*`` written as ``_``).

        Returns:
            The certificate and key paths.
        """
        stem = name or (self.facts.subject_cn or self.facts.thumbprint).replace("*", "_")
        directory = Path(directory)
        return (write_public(directory / f"{stem}.pem", self.pem()),
                write_private(directory / f"{stem}.key", self.key_pem()))


@frozen_init
@dataclass(frozen=True)
class CertificateAuthority:
    """A CA that can issue certificates, sign CSRs and create intermediates.

    Attributes:
        name: the CA's name (its CN unless another was given).
        cert: the CA certificate.
        key: its private key.
        chain: intermediates above it, nearest first (empty for a root).
    """

    name: str
    cert: x509.Certificate
    key: object
    chain: tuple[x509.Certificate, ...] = ()

    @classmethod
    def create_root(cls, name: str, *, common_name: str | None = None, subject_extra: Iterable[tuple[str, str]] = (),
                    not_before: datetime | None = None, not_after: datetime | None = None,
                    key_type: str = "ec") -> "CertificateAuthority":
        """A self-signed root CA (20 years unless ``not_after`` is given)."""
        key = new_key(key_type)
        subject = x500_name(common_name or name, subject_extra)
        window = _window(not_before, not_after, ROOT_DAYS)
        return cls(name, _build(subject, subject, key.public_key(), key, window, ca=True), key)

    def create_intermediate(self, name: str, *, common_name: str | None = None,
                            subject_extra: Iterable[tuple[str, str]] = (), not_before: datetime | None = None,
                            not_after: datetime | None = None, key_type: str = "ec") -> "CertificateAuthority":
        """A CA signed by this one (10 years unless ``not_after`` is given)."""
        key = new_key(key_type)
        window = _window(not_before or self.cert.not_valid_before_utc, not_after, INTERMEDIATE_DAYS)
        cert = _build(x500_name(common_name or name, subject_extra), self._subject, key.public_key(),
                      self.key, window, ca=True, authority_key_id=self._authority_key_id)
        return CertificateAuthority(name, cert, key, self.chain_with_self)

    @property
    def is_root(self) -> bool:
        """True for a self-signed root."""
        return not self.chain and self.cert.issuer == self.cert.subject

    @property
    def chain_with_self(self) -> tuple[x509.Certificate, ...]:
        """This CA's certificate followed by its own chain, without the root."""
        return () if self.is_root else (self.cert, *self.chain)

    @property
    def facts(self) -> CertFacts:
        """The CA certificate's facts."""
        return facts_from_cert(self.cert)

    def pem(self) -> bytes:
        """The CA certificate in PEM."""
        return _pem([self.cert])

    def key_pem(self) -> bytes:
        """The CA's private key in PEM."""
        return _key_pem(self.key)

    def issue(self, common_name: str, sans: Sequence[str] = (), *, not_before: datetime | None = None,
              not_after: datetime | None = None, key_type: str = "ec", client: bool = True, server: bool = True,
              subject_extra: Iterable[tuple[str, str]] = ()) -> IssuedCertificate:
        """A new end-entity certificate with a fresh key (1 year unless ``not_after`` is given).

        Args:
            common_name: the subject CN.
            sans: DNS names or IP addresses for the subjectAltName (none: no SAN extension).
            not_before: start of validity (default: an hour ago, wall time).
            not_after: end of validity.
            key_type: ``"ec"`` or ``"rsa"``.
            client: include the clientAuth EKU.
            server: include the serverAuth EKU.
            subject_extra: more subject attributes, e.g. ``(("O", "Contoso"), ("C", "US"))``.

        Returns:
            The certificate, its key and the chain up to (not including) the root.
        """
        key = new_key(key_type)
        cert = _build(x500_name(common_name, subject_extra), self._subject, key.public_key(), self.key,
                      _window(not_before, not_after, LEAF_DAYS), ca=False, sans=sans, server=server, client=client,
                      authority_key_id=self._authority_key_id)
        return IssuedCertificate(cert, key, self.chain_with_self)

    def sign_csr(self, csr_pem: bytes, *, not_before: datetime | None = None, not_after: datetime | None = None,
                 client: bool = True, server: bool = True) -> bytes:
        """Issue a certificate for a request, as a public CA returns it: leaf + chain PEM.

        The subject and the subjectAltName are taken from the request.

        Raises:
            ConfigError: the request is not a PEM CSR or its signature is wrong.
        """
        csr = _MADE_REQUESTS.get(csr_pem)  # one generate_request signed here: its signature is its key's
        if csr is None:
            try:
                csr = x509.load_pem_x509_csr(csr_pem)
            except ValueError as exc:
                raise ConfigError(f"not a certificate request: {exc}", Place(path="csr")) from exc
            if not csr.is_signature_valid:
                raise ConfigError("the certificate request's signature is not valid", Place(path="csr"))
        try:
            sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = [str(v) for v in sans.get_values_for_type(x509.DNSName)] + \
                    [str(v) for v in sans.get_values_for_type(x509.IPAddress)]
        except x509.ExtensionNotFound:
            names = []
        cert = _build(csr.subject, self._subject, csr.public_key(), self.key,
                      _window(not_before, not_after, LEAF_DAYS), ca=False, sans=names, server=server, client=client,
                      authority_key_id=self._authority_key_id)
        return _pem([cert]) + self._chain_pem

    # What every certificate this CA issues carries of it, worked out once (a CA never changes):
    @cached_property
    def _subject(self) -> x509.Name:
        return self.cert.subject

    @cached_property
    def _authority_key_id(self) -> x509.AuthorityKeyIdentifier:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key())

    @cached_property
    def _chain_pem(self) -> bytes:
        return _pem(self.chain_with_self)


def self_signed(common_name: str, sans: Sequence[str] = (), *, not_before: datetime | None = None,
                not_after: datetime | None = None, key_type: str = "ec",
                subject_extra: Iterable[tuple[str, str]] = ()) -> IssuedCertificate:
    """A self-signed end-entity certificate (Exchange's default certificate: 5 years)."""
    key = new_key(key_type)
    subject = x500_name(common_name, subject_extra)
    cert = _build(subject, subject, key.public_key(), key, _window(not_before, not_after, 5 * 365),
                  ca=False, sans=sans)
    return IssuedCertificate(cert, key)


def generate_request(common_name: str, sans: Sequence[str] = (), key_type: str = "ec",
                     subject_extra: Iterable[tuple[str, str]] = ()) -> tuple[bytes, object]:
    """A certificate request (New-ExchangeCertificate -GenerateRequest).

    Returns:
        ``(csr_pem, key)``; the key stays with the requester until the answer is imported.
    """
    key = new_key(key_type)
    builder = x509.CertificateSigningRequestBuilder().subject_name(x500_name(common_name, subject_extra))
    if sans:
        builder = builder.add_extension(_san(sans), critical=False)
    csr = builder.sign(key, hashes.SHA256())
    pem = csr.public_bytes(serialization.Encoding.PEM)
    if len(_MADE_REQUESTS) >= _MADE_REQUESTS_MAX:
        _MADE_REQUESTS.clear()
    _MADE_REQUESTS[pem] = csr
    return pem, key


#: The requests generate_request made in this process, by their exact PEM bytes: the signed
#: request itself. Its signature was made here by the library with the request's own key, so a
#: CA handed these very bytes reads the request from here instead of parsing it again and checking
#: that signature anew (a request's validity is a function of its bytes alone; any other bytes,
#: a tampered copy included, are parsed and checked). Emptied when full.
_MADE_REQUESTS: dict[bytes, x509.CertificateSigningRequest] = {}
_MADE_REQUESTS_MAX = 64


def import_certificate(pem: bytes, key) -> IssuedCertificate:
    """Join a CA's answer (leaf + chain PEM) to the pending request's key (Import-ExchangeCertificate).

    Raises:
        ConfigError: no certificate in ``pem``, or it was not issued for this key.
    """
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise ConfigError(f"not a PEM certificate: {exc}", Place(path="FileData")) from exc
    leaf = certs[0]
    if leaf.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != \
            key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        raise ConfigError("the certificate does not match the pending request's key", Place(path="FileData"))
    return IssuedCertificate(leaf, key, tuple(c for c in certs[1:] if c.issuer != c.subject))


@dataclass(frozen=True)
class TrustStore:
    """A named set of trusted roots ("the Internet", one organisation's machines)."""

    name: str
    roots: tuple[x509.Certificate, ...] = field(default_factory=tuple)

    def pem(self) -> bytes:
        """All roots as one PEM bundle."""
        return _pem(self.roots)

    def write(self, path: str | os.PathLike) -> Path:
        """Write the PEM bundle to ``path``."""
        return write_public(path, self.pem())


def build_chain(leaf: x509.Certificate, intermediates: Iterable[x509.Certificate],
                store: TrustStore) -> tuple[x509.Certificate, ...] | None:
    """The path from ``leaf`` to a root of ``store`` (leaf first), or None when there is none.

    Trust is judged apart from time: the path is checked at the first instant inside the
    leaf's validity where every certificate that could be on it is valid (start of the
    leaf, or a later start of a CA), so that only :mod:`lab.core.tls` judges validity, at lab
    time. Extended key usage is not checked (Exchange/EOP don't for SMTP). A self-signed
    certificate is trusted when the store holds it.
    """
    if not store.roots:
        return None
    leaf_der = cert_der(leaf)
    if leaf_der in _ROOT_DERS.get1(store.roots, None, _ders, store.roots):
        return (leaf,)
    pool = tuple(intermediates)
    roots = _REACHABLE.get((*pool, *store.roots), leaf_der, _reachable_roots, leaf, pool, store.roots)
    if not roots:  # no root of the store can end a path: every attempt below would fail
        return None
    path = _PATHS.get((*pool, *roots), (leaf_der, len(pool)), _build_path, leaf, pool, roots)
    return None if path is None else (leaf, *path[1:])


#: Paths per (leaf DER, pool, reachable roots): path building is a pure function of them (times
#: included: they are read from the certificates), and stores that differ only in roots no path can
#: reach (an organisation's own root, for a publicly issued certificate) share one build.
_PATHS = Memo(256)
_ROOT_DERS = Memo(64)  # a store's roots (a tuple of immutable certificates) -> their DER encodings
# the roots a leaf (its DER stands for it, whatever object was parsed from it) can reach through a
# pool: a pure function of the three (certificates are immutable; the entry holds pool and roots)
_REACHABLE = Memo(256)


def _ders(certs: tuple[x509.Certificate, ...]) -> frozenset[bytes]:
    return frozenset(map(cert_der, certs))


def _reachable_roots(leaf: x509.Certificate, pool: tuple[x509.Certificate, ...],
                     roots: tuple[x509.Certificate, ...]) -> tuple[x509.Certificate, ...]:
    """The roots whose subject names an issuer met walking up from ``leaf`` through ``pool``.

    The path builder only ever offers, as issuers of a certificate, the store's roots and the
    pool's certificates whose subject equals that certificate's issuer. Names compare here as
    decoded attributes (a raw DER match is one too), so no root the builder could use is left
    out; a root left out is never a candidate, and its validity start, which only adds a time
    to try, cannot be the first time a path holds (that is the latest start on the path itself).
    """
    names = {_name_keys(leaf)[1]}
    links = [_name_keys(cert) for cert in pool]
    grown = True
    while grown:
        grown = False
        for subject, issuer in links:
            if subject in names and issuer not in names:
                names.add(issuer)
                grown = True
    return tuple(r for r in roots if _name_keys(r)[0] in names)


def _name_keys(cert: x509.Certificate) -> tuple[tuple[frozenset, ...], tuple[frozenset, ...]]:
    """The certificate's subject and issuer as keys that are equal exactly when the names are
    (``Name`` compares its RDNs in order, an RDN its set of attributes, an attribute its OID and
    value): worked out once per certificate object (immutable; the entry holds it)."""
    return _NAME_KEYS.get1(cert, None, _read_name_keys, cert)


def _name_key(name: x509.Name) -> tuple[frozenset, ...]:
    return tuple(frozenset([(a.oid, a.value) for a in rdn]) for rdn in name.rdns)


def _read_name_keys(cert: x509.Certificate) -> tuple[tuple[frozenset, ...], tuple[frozenset, ...]]:
    return _name_key(cert.subject), _name_key(cert.issuer)


_NAME_KEYS = Memo(1024)


def _build_path(leaf: x509.Certificate, pool: tuple[x509.Certificate, ...],
                roots: tuple[x509.Certificate, ...]) -> tuple[x509.Certificate, ...] | None:
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    times = sorted({start} | {c.not_valid_before_utc for c in [*pool, *roots]
                              if start < c.not_valid_before_utc <= end})
    builder = (PolicyBuilder().store(Store(list(roots)))
               .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                                   ee_policy=ExtensionPolicy.permit_all()))
    for when in times:
        try:
            return tuple(builder.time(when).build_client_verifier().verify(leaf, list(pool)).chain)
        except VerificationError:
            continue
    return None


def verify_chain(leaf: x509.Certificate, intermediates: Iterable[x509.Certificate], store: TrustStore) -> bool:
    """Whether ``leaf`` chains to a root of ``store`` through ``intermediates`` (time aside)."""
    return build_chain(leaf, intermediates, store) is not None


def chain_facts(leaf: x509.Certificate | bytes, intermediates: Iterable[x509.Certificate],
                store: TrustStore) -> ChainFacts:
    """:class:`ChainFacts` of a presented certificate (DER or parsed) against ``store``."""
    cert = x509.load_der_x509_certificate(leaf) if isinstance(leaf, bytes) else leaf
    path = build_chain(cert, intermediates, store)
    return ChainFacts(facts_from_cert(cert), path is not None, store.name,
                      tuple(facts_from_cert(c) for c in (path or ())[1:]))
