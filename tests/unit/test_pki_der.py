"""cert_der remembers a certificate's DER per certificate object: it must be the object's own
public_bytes(DER) for every object (twins parsed from the same bytes, certificates of different
CAs), and the verdicts and facts that read it must be those of the bytes."""
from __future__ import annotations

from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lab.adapters.pki import CertificateAuthority, TrustStore, build_chain, cert_der, facts_from_cert, self_signed
from lab.adapters.pki_world import Pki

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def test_cert_der_is_each_objects_own_encoding():
    root = CertificateAuthority.create_root("r", not_before=T0)
    inter = root.create_intermediate("i", not_before=T0)
    certs = [root.cert, inter.cert, inter.issue("a.example", ["a.example"], not_before=T0).cert,
             inter.issue("b.example", ["b.example"], not_before=T0).cert,
             self_signed("c.example", ["c.example"], not_before=T0).cert]
    twins = [x509.load_der_x509_certificate(_der(c)) for c in certs]
    for cert in certs + twins + certs:  # asked twice: the remembered answer is the same
        assert cert_der(cert) == _der(cert)
    assert len({cert_der(c) for c in certs}) == len(certs)


def test_verdicts_and_facts_of_an_object_match_those_of_its_bytes():
    pki = Pki.build([{"name": "root", "kind": "root"}, {"name": "g2", "kind": "intermediate", "issuer": "root"},
                     {"name": "leaf", "kind": "leaf", "issuer": "g2", "sans": ["mail.example"]},
                     {"name": "other", "kind": "root"}],
                    stores=[{"name": "internet", "roots": ["root"]}, {"name": "org", "roots": ["other"]}], now=T0)
    leaf = pki.authority("g2").issue("new.example", ["new.example"], not_before=T0)
    parsed = x509.load_der_x509_certificate(_der(leaf.cert))
    for store in ("internet", "org"):
        by_bytes = pki.verify(_der(leaf.cert), store)
        assert pki.verify(leaf.cert, store) is by_bytes
        assert pki.verify(parsed, store) is by_bytes
        assert (build_chain(leaf.cert, pki.intermediates, pki.store(store)) is not None) is by_bytes
    assert pki.verify(leaf.cert, "internet") and not pki.verify(leaf.cert, "org")
    assert leaf.der == _der(leaf.cert)
    assert facts_from_cert(leaf.cert) == facts_from_cert(parsed)
    assert leaf.facts.thumbprint == __import__("hashlib").sha1(_der(leaf.cert)).hexdigest().upper()
    assert build_chain(leaf.cert, (), TrustStore("self", (leaf.cert,))) == (leaf.cert,)
