"""Certificate trust for the in-memory driver, computed once (no cryptography at send time).

The live driver judges a presented certificate with the PKI adapter (path building against a
trust store). A certificate's chain does not change while the lab runs, so the answer is a
table: ``(thumbprint, store) -> trusted``. :func:`trust_from_pki` builds it from a
:class:`lab.adapters.pki_world.Pki` (passed in; this package imports no adapter) for every
certificate the PKI issued against every trust store; the live driver's stores are
``org-<organization>`` (an Exchange server judging its peer) and ``internet`` (EOP).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from lab.core.tls import CertFacts, ChainFacts

INTERNET_STORE = "internet"


def org_store(org: str) -> str:
    """The trust store an Exchange server of ``org`` judges its peers with (as the live driver names it)."""
    return f"org-{org}"


@dataclass(frozen=True)
class Trust:
    """What the lab's certificates are and whom they are trusted by.

    Attributes:
        certificates: facts of every certificate the PKI built, by certificate name.
        trusted: ``(thumbprint, store)`` pairs whose chain builds to a root of ``store``.
    """

    certificates: Mapping[str, CertFacts] = field(default_factory=dict)
    trusted: frozenset[tuple[str, str]] = frozenset()

    def is_trusted(self, facts: CertFacts, store: str) -> bool:
        """Does ``facts`` chain to a root of ``store``? (unknown certificates are not trusted)."""
        return (facts.thumbprint, store) in self.trusted

    def learn(self, name: str, facts: CertFacts, stores: Iterable[str]) -> "Trust":
        """This table with one more certificate (made while the lab runs), trusted by ``stores``."""
        return Trust({**self.certificates, name: facts},
                     self.trusted | {(facts.thumbprint, store) for store in stores})

    def by_name_or_thumbprint(self, name: str) -> CertFacts | None:
        """A certificate by its name, else by its thumbprint (spaces ignored)."""
        if name in self.certificates:
            return self.certificates[name]
        wanted = name.replace(" ", "").upper()
        return next((f for f in self.certificates.values() if f.thumbprint.upper() == wanted), None)

    def chain(self, facts: CertFacts, store: str) -> ChainFacts:
        """``facts`` judged against ``store``, as the PKI adapter's ``chain_facts`` returns it."""
        return ChainFacts(facts, self.is_trusted(facts, store), store)


def trust_from_pki(pki: Any) -> Trust:
    """The trust table of a built :class:`lab.adapters.pki_world.Pki`.

    Every certificate in ``pki.certificates`` is verified (``pki.verify(der, store)``) against
    every store in ``pki.stores`` once. A Pki never changes and a Trust is immutable, so the
    table of the same Pki object is computed once per process (the last few are kept).
    """
    with _TABLES_LOCK:
        for built, trust in _TABLES:
            if built is pki:
                return trust
    trust = _table(pki)
    with _TABLES_LOCK:
        _TABLES.insert(0, (pki, trust))
        del _TABLES[_TABLES_KEPT:]
    return trust


_TABLES: list[tuple[Any, Trust]] = []  # (pki, its table), newest first
_TABLES_KEPT = 8
_TABLES_LOCK = threading.Lock()


def _table(pki: Any) -> Trust:
    facts = {name: cert.facts for name, cert in pki.certificates.items()}
    trusted = frozenset((cert.facts.thumbprint, store)
                        for cert in pki.certificates.values() for store in pki.stores
                        if pki.verify(cert.der, store))
    return Trust(facts, trusted)
