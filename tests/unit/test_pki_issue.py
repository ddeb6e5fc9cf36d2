"""A CA works out once what every certificate it issues carries of it (its subject as the issuer,
its authority key identifier, the chain PEM after the leaf): what it issues and signs must be what
the full computation gives, for a root and for an intermediate, twice over."""
from __future__ import annotations

from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lab.adapters.pki import CertificateAuthority, generate_request

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _check(ca: CertificateAuthority, cert: x509.Certificate) -> None:
    assert cert.issuer == ca.cert.subject
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki == x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())
    ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    cert.verify_directly_issued_by(ca.cert)


def test_issued_and_signed_certificates_carry_their_ca():
    root = CertificateAuthority.create_root("root", not_before=T0)
    inter = root.create_intermediate("inter", not_before=T0)
    _check(root, inter.cert)
    for ca in (root, inter, root, inter):
        _check(ca, ca.issue("a.example", ["a.example"], not_before=T0).cert)
        csr, key = generate_request("b.example", ["b.example", "c.example"])
        pem = ca.sign_csr(csr, not_before=T0)
        certs = x509.load_pem_x509_certificates(pem)
        _check(ca, certs[0])
        assert certs[1:] == list(ca.chain_with_self)
        assert pem == b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [certs[0], *ca.chain_with_self])
        assert certs[0].public_key() == key.public_key()
    assert len(x509.load_pem_x509_certificates(inter.sign_csr(generate_request("d.example")[0]))) == 2
