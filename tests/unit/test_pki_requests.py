"""A CA reads a request generate_request made in this process from there (no second parse, no
second signature check): held to the general path. What it issues for such a request must be what
it issues for the same request read from other bytes, and any bytes that are not a request made
here (a tampered signature, a request signed with another key than its own) are still checked."""
from __future__ import annotations

import base64
import re
from datetime import datetime, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lab.adapters import pki as P
from lab.core.errors import ConfigError

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _der(pem: bytes) -> bytes:
    return base64.b64decode(b"".join(pem.strip().splitlines()[1:-1]))


def _pem(der: bytes, label: bytes = b"CERTIFICATE REQUEST") -> bytes:
    body = base64.b64encode(der)
    lines = b"\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return b"-----BEGIN " + label + b"-----\n" + lines + b"\n-----END " + label + b"-----\n"


def _leaf(answer: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificates(answer)[0]


def _same_issue(a: x509.Certificate, b: x509.Certificate) -> None:
    assert a.subject == b.subject and a.issuer == b.issuer
    assert a.public_key() == b.public_key()
    assert [e.oid for e in a.extensions] == [e.oid for e in b.extensions]
    for ext in a.extensions:
        assert ext.value == b.extensions.get_extension_for_oid(ext.oid).value


@pytest.fixture(scope="module")
def ca():
    return P.CertificateAuthority.create_root("root", not_before=T0).create_intermediate("g2", not_before=T0)


def test_a_request_made_here_is_issued_as_the_same_request_read_afresh(ca):
    for sans in ((), ("a.example",), ("a.example", "b.example", "192.0.2.1")):
        csr_pem, key = P.generate_request("a.example", sans, subject_extra=(("O", "Example"),))
        made = P._MADE_REQUESTS[csr_pem]
        read = x509.load_pem_x509_csr(csr_pem)
        assert made == read and read.is_signature_valid  # what the entry stands for
        again = csr_pem.replace(b"\n", b"\r\n")  # the same request in other bytes: the general path
        assert again not in P._MADE_REQUESTS
        fast, slow = _leaf(ca.sign_csr(csr_pem, not_before=T0)), _leaf(ca.sign_csr(again, not_before=T0))
        _same_issue(fast, slow)
        assert fast.public_key() == key.public_key()


def test_requests_not_made_here_are_still_checked(ca):
    csr_pem, _ = P.generate_request("c.example", ("c.example",))
    der = bytearray(_der(csr_pem))
    der[-3] ^= 0x01  # inside the signature
    with pytest.raises(ConfigError, match="signature is not valid"):
        ca.sign_csr(_pem(bytes(der)), not_before=T0)
    # a request carrying another key's signature (same length, spliced in its place)
    builder = x509.CertificateSigningRequestBuilder().subject_name(P.x500_name("d.example"))
    key = ec.generate_private_key(ec.SECP256R1())
    good = builder.sign(key, hashes.SHA256())
    forged = builder.sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    while len(forged.signature) != len(good.signature):
        forged = builder.sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    spliced = _der(good.public_bytes(serialization.Encoding.PEM)).replace(good.signature, forged.signature)
    with pytest.raises(ConfigError, match="signature is not valid"):
        ca.sign_csr(_pem(spliced), not_before=T0)
    with pytest.raises(ConfigError, match="not a certificate request"):
        ca.sign_csr(b"not a csr")
    assert re.search(rb"BEGIN CERTIFICATE-----", ca.sign_csr(good.public_bytes(serialization.Encoding.PEM)))


def test_the_table_of_requests_made_here_stays_bounded():
    for i in range(P._MADE_REQUESTS_MAX + 3):
        P.generate_request(f"n{i}.example")
    assert 0 < len(P._MADE_REQUESTS) <= P._MADE_REQUESTS_MAX
