"""A whole lab PKI built from a simple spec: CAs, certificates, trust stores, state files.

The topology loader turns ``topology.yaml`` into :class:`CertSpec` and :class:`TrustStoreSpec`
values (or passes plain mappings with the same keys) and calls :meth:`Pki.build`::

    pki = Pki.build(
        [{"name": "public-root", "kind": "root", "common_name": "Lab Public Root CA",
          "subject": {"O": "Lab Trust Services", "C": "US"}},
         {"name": "public-g2", "kind": "intermediate", "issuer": "public-root",
          "common_name": "Lab Public CA G2", "subject": {"O": "Lab Trust Services", "C": "US"}},
         {"name": "contoso-mail", "kind": "leaf", "issuer": "public-g2",
          "common_name": "mail.contoso.com", "sans": ["mail.contoso.com"], "valid_days": 365}],
        stores=[{"name": "internet", "roots": ["public-root"]}],
        now=lab_start)
    pki.write_state(".lab")     # trust/internet.pem, ca/public-root.{pem,key}, certs/contoso-mail.{pem,key}

Kinds: ``root`` and ``intermediate`` are CAs; ``leaf`` is issued by a CA; ``self-signed`` signs
itself. Specs may come in any order; every error is a ConfigError at the spec's place, raised
before anything is built or written.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Iterable, Mapping

from cryptography import x509

from lab.adapters.pki import (KEY_TYPES, CertificateAuthority, IssuedCertificate, TrustStore, build_chain,
                              cert_der, chain_facts, self_signed)
from lab.core.errors import ConfigError, Place
from lab.core.tls import ChainFacts

KINDS = ("root", "intermediate", "self-signed", "leaf")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
CA_BACKDATE = timedelta(days=5 * 365)  # a CA with no valid_from is years older than the lab start
CACHED_BUILDS = 8  # distinct PKIs Pki.cached keeps (one per topology a process runs, in practice)
_JUDGED_MAX = 4096  # presented certificates a Pki remembers the verdicts of


def _where(place: Place | None, name: str, key: str | None = None) -> Place:
    path = f"pki.{name}" + (f".{key}" if key else "")
    if place is None:
        return Place(path=path)
    return Place(place.file, place.line, place.column, place.path or path)


@dataclass(frozen=True)
class CertSpec:
    """One CA or certificate of the lab.

    Attributes:
        name: unique id (file names in the state dir: ``ca/<name>.pem``, ``certs/<name>.pem``).
        kind: ``root``, ``intermediate``, ``self-signed`` or ``leaf``.
        issuer: the issuing CA's name (intermediate and leaf only).
        common_name: subject CN (default: ``name``).
        subject: more subject attributes, e.g. ``(("O", "Contoso"), ("C", "US"))``.
        sans: DNS names / IP addresses for the subjectAltName.
        valid_from: start of validity (aware datetime; default: the build's ``now``, minus
            five years for CAs).
        valid_days: length of validity (default 20 y root, 10 y intermediate, 1 y leaf, 5 y
            self-signed).
        key_type: ``ec`` (P-256, default) or ``rsa`` (2048).
        client: leaf may authenticate clients (clientAuth EKU).
        server: leaf may authenticate servers (serverAuth EKU).
        place: where the spec was written (topology file and line), for errors.
    """

    name: str
    kind: str
    issuer: str | None = None
    common_name: str | None = None
    subject: tuple[tuple[str, str], ...] = ()
    sans: tuple[str, ...] = ()
    valid_from: datetime | None = None
    valid_days: int | None = None
    key_type: str = "ec"
    client: bool = True
    server: bool = True
    place: Place | None = field(default=None, compare=False)

    @classmethod
    def from_mapping(cls, data: Mapping, place: Place | None = None) -> "CertSpec":
        """A spec from a mapping with the attribute names as keys (``subject`` may be a dict).

        Raises:
            ConfigError: unknown keys, wrong types, or a bad ``valid_from``.
        """
        name = str(data.get("name", "?"))
        allowed = tuple(f.name for f in fields(cls) if f.name != "place")
        for key in data:
            if key not in allowed:
                raise ConfigError(f"unknown certificate setting {key!r}", _where(place, name, str(key)), allowed)
        for key in ("name", "kind"):
            if key not in data:
                raise ConfigError(f"a certificate needs {key!r}", _where(place, name, key))
        values = dict(data)
        subject = values.get("subject", ())
        values["subject"] = tuple((str(k), str(v)) for k, v in (subject.items() if isinstance(subject, Mapping)
                                                                  else subject))
        sans = values.get("sans", ())
        values["sans"] = (sans,) if isinstance(sans, str) else tuple(str(s) for s in sans)
        start = values.get("valid_from")
        if isinstance(start, str):
            try:
                values["valid_from"] = datetime.fromisoformat(start.replace("Z", "+00:00"))
            except ValueError as exc:
                raise ConfigError(f"valid_from {start!r} is not an ISO date", _where(place, name, "valid_from")) from exc
        return cls(**values, place=place)

    def check(self) -> None:
        """Raise ConfigError when the spec is inconsistent on its own."""
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ConfigError(f"certificate name {self.name!r} must be letters, digits, '.', '_' or '-'",
                              _where(self.place, str(self.name), "name"))
        if self.kind not in KINDS:
            raise ConfigError(f"unknown kind {self.kind!r}", _where(self.place, self.name, "kind"), KINDS)
        if self.key_type not in KEY_TYPES:
            raise ConfigError(f"unknown key_type {self.key_type!r}", _where(self.place, self.name, "key_type"),
                              KEY_TYPES)
        needs_issuer = self.kind in ("intermediate", "leaf")
        if needs_issuer and not self.issuer:
            raise ConfigError(f"a {self.kind} needs an issuer", _where(self.place, self.name, "issuer"))
        if not needs_issuer and self.issuer:
            raise ConfigError(f"a {self.kind} certificate has no issuer (it signs itself)",
                              _where(self.place, self.name, "issuer"))
        if self.valid_days is not None and (isinstance(self.valid_days, bool) or not isinstance(self.valid_days, int)
                                            or self.valid_days <= 0):
            raise ConfigError(f"valid_days must be a positive whole number, got {self.valid_days!r}",
                              _where(self.place, self.name, "valid_days"))
        if self.valid_from is not None and (not isinstance(self.valid_from, datetime) or self.valid_from.tzinfo is None):
            raise ConfigError("valid_from must be a date and time with a time zone",
                              _where(self.place, self.name, "valid_from"))


@dataclass(frozen=True)
class TrustStoreSpec:
    """A trust store: a name (``internet``, ``org-contoso``) and the CAs/certificates it trusts."""

    name: str
    roots: tuple[str, ...] = ()
    place: Place | None = field(default=None, compare=False)

    @classmethod
    def from_mapping(cls, data: Mapping, place: Place | None = None) -> "TrustStoreSpec":
        """A store spec from ``{"name": ..., "roots": [...]}``."""
        name = str(data.get("name", "?"))
        for key in data:
            if key not in ("name", "roots"):
                raise ConfigError(f"unknown trust store setting {key!r}", _where(place, name, str(key)),
                                  ("name", "roots"))
        return cls(name, tuple(str(r) for r in data.get("roots", ())), place)


def _ordered(specs: list[CertSpec]) -> list[CertSpec]:
    """Issuers before what they issue; ConfigError on duplicates, unknown issuers or loops."""
    by_name: dict[str, CertSpec] = {}
    for spec in specs:
        spec.check()
        if spec.name in by_name:
            raise ConfigError(f"certificate {spec.name!r} is defined twice", _where(spec.place, spec.name, "name"))
        by_name[spec.name] = spec
    for spec in specs:
        if spec.issuer is not None:
            issuer = by_name.get(spec.issuer)
            if issuer is None:
                raise ConfigError(f"unknown issuer {spec.issuer!r}", _where(spec.place, spec.name, "issuer"),
                                  tuple(n for n, s in by_name.items() if s.kind in ("root", "intermediate")))
            if issuer.kind not in ("root", "intermediate"):
                raise ConfigError(f"issuer {spec.issuer!r} is a {issuer.kind} certificate, not a CA",
                                  _where(spec.place, spec.name, "issuer"))
    done: list[CertSpec] = []
    placed: set[str] = set()
    pending = list(specs)
    while pending:
        ready = [s for s in pending if s.issuer is None or s.issuer in placed]
        if not ready:
            raise ConfigError(f"certificates issue each other in a loop: {', '.join(s.name for s in pending)}",
                              _where(pending[0].place, pending[0].name, "issuer"))
        for spec in ready:
            done.append(spec)
            placed.add(spec.name)
        pending = [s for s in pending if s.name not in placed]
    return done


def _window(spec: CertSpec, now: datetime | None) -> tuple[datetime | None, datetime | None]:
    start = spec.valid_from
    if start is None and now is not None:
        start = now - CA_BACKDATE if spec.kind in ("root", "intermediate") else now
    if start is None or spec.valid_days is None:
        return start, None
    return start, start + timedelta(days=spec.valid_days)


@dataclass(frozen=True)
class Pki:
    """Every CA, certificate and trust store of the lab, by name."""

    authorities: Mapping[str, CertificateAuthority]
    certificates: Mapping[str, IssuedCertificate]
    stores: Mapping[str, TrustStore]

    @classmethod
    def build(cls, certs: Iterable[CertSpec | Mapping], stores: Iterable[TrustStoreSpec | Mapping] = (),
              now: datetime | None = None) -> "Pki":
        """Build every CA and certificate of the spec, then the trust stores.

        Args:
            certs: certificate specs (or mappings with the same keys), in any order.
            stores: trust store specs; their ``roots`` name CAs or self-signed certificates.
            now: lab start time, the default ``valid_from`` (wall time minus an hour if None).

        Returns:
            The built PKI.

        Raises:
            ConfigError: at the offending spec's place; nothing is built.
        """
        if now is not None and now.tzinfo is None:
            raise ConfigError("lab start time must carry a time zone", Place(path="pki.now"))
        cert_specs = [c if isinstance(c, CertSpec) else CertSpec.from_mapping(c) for c in certs]
        store_specs = [s if isinstance(s, TrustStoreSpec) else TrustStoreSpec.from_mapping(s) for s in stores]
        ordered = _ordered(cert_specs)
        known = {s.name: s for s in ordered}
        for store in store_specs:
            if not _NAME.match(store.name):
                raise ConfigError(f"trust store name {store.name!r} must be letters, digits, '.', '_' or '-'",
                                  _where(store.place, store.name, "name"))
            for root in store.roots:
                if root not in known or known[root].kind == "leaf":
                    raise ConfigError(f"trust store {store.name!r}: {root!r} is not a CA or self-signed certificate",
                                      _where(store.place, store.name, "roots"),
                                      tuple(n for n, s in known.items() if s.kind != "leaf"))
        cas: dict[str, CertificateAuthority] = {}
        issued: dict[str, IssuedCertificate] = {}
        for spec in ordered:
            start, end = _window(spec, now)
            common = dict(common_name=spec.common_name or spec.name, subject_extra=spec.subject,
                          not_before=start, not_after=end, key_type=spec.key_type)
            if spec.kind == "root":
                cas[spec.name] = CertificateAuthority.create_root(spec.name, **common)
            elif spec.kind == "intermediate":
                cas[spec.name] = cas[spec.issuer].create_intermediate(spec.name, **common)
            elif spec.kind == "self-signed":
                common.pop("common_name")
                issued[spec.name] = self_signed(spec.common_name or spec.name, spec.sans, **common)
            else:
                cn = common.pop("common_name")
                issued[spec.name] = cas[spec.issuer].issue(cn, spec.sans, client=spec.client, server=spec.server,
                                                           **common)
        trust = {s.name: TrustStore(s.name, tuple(cas[r].cert if r in cas else issued[r].cert for r in s.roots))
                 for s in store_specs}
        return cls(cas, issued, trust)

    @classmethod
    def cached(cls, certs: Iterable[CertSpec | Mapping], stores: Iterable[TrustStoreSpec | Mapping] = (),
               now: datetime | None = None) -> "Pki":
        """:meth:`build`, once per distinct spec in this process: the same specs give the same Pki.

        A Pki never changes once built (certificates made while a lab runs are kept by the lab,
        not here), so labs of the same topology can share one: a process that starts many
        (``lab scenario run --all``) generates keys and signs certificates once. Specs compare
        without their places; with ``now`` None (wall-time validity) nothing is shared.
        """
        cert_specs = tuple(c if isinstance(c, CertSpec) else CertSpec.from_mapping(c) for c in certs)
        store_specs = tuple(s if isinstance(s, TrustStoreSpec) else TrustStoreSpec.from_mapping(s) for s in stores)
        key = (cert_specs, store_specs, now)
        try:
            hash(key)
        except TypeError:  # a spec holding something unhashable: build it afresh
            return cls.build(cert_specs, store_specs, now)
        if now is None:
            return cls.build(cert_specs, store_specs, now)
        with _BUILT_LOCK:
            pki = _BUILT.get(key)
        if pki is None:
            pki = cls.build(cert_specs, store_specs, now)
            with _BUILT_LOCK:
                pki = _BUILT.setdefault(key, pki)
                while len(_BUILT) > CACHED_BUILDS:
                    del _BUILT[next(iter(_BUILT))]
        return pki

    def _get(self, table: Mapping, name: str, what: str):
        if name not in table:
            raise ConfigError(f"unknown {what} {name!r}", Place(path=f"pki.{what}"), tuple(table))
        return table[name]

    def authority(self, name: str) -> CertificateAuthority:
        """The CA called ``name`` (ConfigError listing the CAs when unknown)."""
        return self._get(self.authorities, name, "authority")

    def certificate(self, name: str) -> IssuedCertificate:
        """The certificate called ``name`` (ConfigError listing them when unknown)."""
        return self._get(self.certificates, name, "certificate")

    def store(self, name: str) -> TrustStore:
        """The trust store called ``name`` (ConfigError listing them when unknown)."""
        return self._get(self.stores, name, "store")

    @cached_property
    def intermediates(self) -> tuple[x509.Certificate, ...]:
        """Every non-root CA certificate: the pool paths are built with (like AIA fetching)."""
        return tuple(ca.cert for ca in self.authorities.values() if not ca.is_root)

    @cached_property
    def _judged(self) -> dict[tuple[str, bytes, str], object]:
        # (what, DER, store) -> verdict. Path building leaves time aside and the PKI never
        # changes, so a certificate's verdict against a store is computed once.
        return {}

    def _remember(self, key: tuple[str, bytes, str], verdict: object) -> None:
        judged = self._judged
        if len(judged) >= _JUDGED_MAX:
            judged.clear()
        judged[key] = verdict

    def chain_facts(self, leaf: x509.Certificate | bytes, store: str) -> ChainFacts:
        """A presented certificate (DER or parsed) judged against the named store."""
        der = leaf if isinstance(leaf, bytes) else cert_der(leaf)
        key = ("chain", der, store)
        facts = self._judged.get(key)
        if facts is None:
            facts = chain_facts(leaf, self.intermediates, self.store(store))
            self._remember(key, facts)
        return facts  # type: ignore[return-value]

    def verify(self, leaf: x509.Certificate | bytes, store: str) -> bool:
        """Whether a presented certificate chains to a root of the named store (time aside)."""
        der = leaf if isinstance(leaf, bytes) else cert_der(leaf)
        key = ("verify", der, store)
        trusted = self._judged.get(key)
        if trusted is None:
            cert = x509.load_der_x509_certificate(leaf) if isinstance(leaf, bytes) else leaf
            trusted = build_chain(cert, self.intermediates, self.store(store)) is not None
            self._remember(key, trusted)
        return bool(trusted)

    @cached_property
    def _anchors(self) -> bytes:
        roots = [ca.pem() for ca in self.authorities.values() if ca.is_root]
        return b"".join(roots + [c.cert_pem() for c in self.certificates.values() if c.facts.self_signed])

    def anchors_pem(self) -> bytes:
        """Every root and self-signed certificate: what a server loads to be able to read any lab client cert."""
        return self._anchors

    @cached_property
    def _state_files(self) -> tuple[tuple[str, str, bytes, bool], ...]:
        # (directory, file name, content, private): what write_state writes, serialised once.
        files = [("trust", f"{name}.pem", store.pem(), False) for name, store in self.stores.items()]
        for name, ca in self.authorities.items():
            files += [("ca", f"{name}.pem", ca.pem(), False), ("ca", f"{name}.key", ca.key_pem(), True)]
        for name, cert in self.certificates.items():
            files += [("certs", f"{name}.pem", cert.pem(), False), ("certs", f"{name}.key", cert.key_pem(), True)]
        return tuple(files)

    def write_state(self, state_dir: str | Path) -> list[Path]:
        """Write ``trust/<store>.pem``, ``ca/<ca>.pem``+``.key`` and ``certs/<name>.pem``+``.key``.

        Keys are written with mode 0600; certificate files carry leaf + chain.

        Returns:
            Every path written.
        """
        base = Path(state_dir)
        made: set[str] = set()
        written = []
        for directory, name, data, private in self._state_files:
            if directory not in made:
                (base / directory).mkdir(parents=True, exist_ok=True)
                made.add(directory)
            path = base / directory / name
            if private:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                try:
                    os.fchmod(fd, 0o600)
                    os.write(fd, data)
                finally:
                    os.close(fd)
            else:
                path.write_bytes(data)
            written.append(path)
        return written


_BUILT: dict[tuple, Pki] = {}
_BUILT_LOCK = threading.Lock()
