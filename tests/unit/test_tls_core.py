"""lab.core.tls: name matching, TlsCertificateName parsing and selection, verdict order."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from lab.core.errors import ConfigError, Place
from lab.core.tls import (CertFacts, ChainFacts, chain_verdict, format_x500, host_matches, name_matches,
                          parse_tls_certificate_name, parse_x500, select_by_fqdn, select_certificate,
                          tls_certificate_name_of, tls_verdict)

UTC = timezone.utc
T0 = datetime(2025, 6, 1, tzinfo=UTC)
WOSIGN = "CN=CA 沃通根证书, O=WoSign CA Limited, C=CN"


def cert(subject="CN=mail.contoso.com", sans=("mail.contoso.com",), issuer="CN=Lab Public CA G2, O=Lab Trust Services, C=US",
         start=T0, days=365, thumb="A" * 40, self_signed=False, is_ca=False) -> CertFacts:
    cn = subject.split(",")[0].split("=", 1)[1] if subject.startswith("CN=") else None
    return CertFacts(subject=subject, issuer=issuer, subject_cn=cn, san_dns=tuple(sans), not_before=start,
                     not_after=start + timedelta(days=days), thumbprint=thumb, serial="01",
                     self_signed=self_signed, is_ca=is_ca, key_algorithm="ECDSA P-256")


# --- names ------------------------------------------------------------------------------

@pytest.mark.parametrize("cert_name, wanted, expected", [
    ("mail.contoso.com", "mail.contoso.com", True),
    ("mail.contoso.com", "MAIL.Contoso.com.", True),
    ("mail.contoso.com", "smtp.contoso.com", False),
    ("*.contoso.com", "mail.contoso.com", True),
    ("*.contoso.com", "a.b.contoso.com", False),
    ("*.contoso.com", "contoso.com", False),
    ("*.contoso.com", "mail.contoso.com.evil.com", False),
    # the configured value is itself a wildcard (EXO TlsSenderCertificateName / TlsDomain)
    ("*.contoso.com", "*.contoso.com", True),
    ("mail.contoso.com", "*.contoso.com", True),
    ("a.b.contoso.com", "*.contoso.com", False),
    ("contoso.com", "*.contoso.com", False),
    ("*.sub.contoso.com", "*.contoso.com", False),
    ("", "mail.contoso.com", False),
])
def test_host_matches(cert_name, wanted, expected):
    assert host_matches(cert_name, wanted) is expected


def test_cn_counts_only_without_san():
    with_san = cert(subject="CN=ex01.contoso.local", sans=("mail.contoso.com",))
    assert name_matches("mail.contoso.com", with_san)
    assert not name_matches("ex01.contoso.local", with_san)
    cn_only = cert(subject="CN=ex01.contoso.local", sans=())
    assert name_matches("ex01.contoso.local", cn_only)
    assert cn_only.names == ("ex01.contoso.local",)


def test_certfacts_rejects_bad_thumbprint_and_naive_times():
    with pytest.raises(ValueError):
        cert(thumb="abc")
    with pytest.raises(ValueError):
        cert(start=datetime(2025, 1, 1))


# --- verdicts ---------------------------------------------------------------------------

def test_verdict_accepts_valid_trusted_matching():
    v = tls_verdict(cert(), True, T0 + timedelta(days=1), "DomainValidation", "mail.contoso.com")
    assert (v.ok, v.failure) == (True, None)
    assert v.presented_subject == "CN=mail.contoso.com" and v.thumbprint == "A" * 40


def test_verdict_order_trust_then_time_then_name():
    expired_wrong_untrusted = cert(start=T0 - timedelta(days=800))
    now = T0
    assert tls_verdict(expired_wrong_untrusted, False, now, "DomainValidation", "other.com").failure == "UntrustedRoot"
    assert tls_verdict(expired_wrong_untrusted, True, now, "DomainValidation", "other.com").failure == "CertificateExpired"
    assert tls_verdict(cert(), True, now, "DomainValidation", "other.com").failure == "SubjectMismatch"
    future = cert(start=T0 + timedelta(days=10))
    v = tls_verdict(future, True, now, "CertificateValidation")
    assert (v.ok, v.failure) == (False, "NotYetValid")
    assert "2025-06-11T00:00:00Z" in v.detail


def test_verdict_expiry_boundaries_are_inclusive():
    c = cert()
    assert tls_verdict(c, True, c.not_after, "CertificateValidation").ok
    assert tls_verdict(c, True, c.not_after + timedelta(seconds=1), "CertificateValidation").failure == "CertificateExpired"
    assert tls_verdict(c, True, c.not_before, "CertificateValidation").ok


def test_verdict_modes():
    bad = cert(start=T0 - timedelta(days=800))
    assert tls_verdict(bad, False, T0, "EncryptionOnly").ok
    assert tls_verdict(bad, False, T0, None).ok
    # CertificateValidation does not look at the name
    assert tls_verdict(cert(), True, T0, "CertificateValidation", "other.com").ok
    # DomainValidation with a wildcard TlsDomain
    assert tls_verdict(cert(), True, T0, "DomainValidation", "*.contoso.com").ok
    v = tls_verdict(cert(subject="CN=ExchangeServer01", sans=()), True, T0, "DomainValidation", "*.contoso.com")
    assert (v.failure, v.expected, v.presented_subject) == ("SubjectMismatch", "*.contoso.com", "CN=ExchangeServer01")


def test_verdict_bad_input():
    with pytest.raises(ConfigError) as exc:
        tls_verdict(cert(), True, T0, "Opportunistic")
    assert exc.value.allowed == ("EncryptionOnly", "CertificateValidation", "DomainValidation")
    with pytest.raises(ConfigError):
        tls_verdict(cert(), True, T0, "DomainValidation", None)
    with pytest.raises(ValueError):
        tls_verdict(cert(), True, datetime(2025, 6, 1), "EncryptionOnly")


def test_chain_verdict_checks_ca_validity():
    ca = cert(subject="CN=Lab Public CA G2", sans=(), is_ca=True, start=T0 - timedelta(days=100), days=120)
    chain = ChainFacts(cert(), True, "internet", (ca,))
    assert chain_verdict(chain, T0 + timedelta(days=10), "CertificateValidation").ok
    v = chain_verdict(chain, T0 + timedelta(days=30), "CertificateValidation")
    assert v.failure == "CertificateExpired" and "CN=Lab Public CA G2" in v.detail
    assert chain_verdict(ChainFacts(cert(), False, "internet"), T0, "CertificateValidation").failure == "UntrustedRoot"


# --- X.500 and TlsCertificateName -------------------------------------------------------

def test_format_x500_most_specific_first_and_quoting():
    rdns = [[("C", "US")], [("O", "Lab Trust Services")], [("CN", "Lab Public CA G2")]]
    assert format_x500(rdns) == "CN=Lab Public CA G2, O=Lab Trust Services, C=US"
    assert format_x500([[("O", "Contoso, Ltd")], [("CN", "a"), ("OU", "b")]]) == 'CN=a + OU=b, O="Contoso, Ltd"'


def test_parse_x500():
    assert parse_x500(' CN = mail.contoso.com ,O="Contoso, Ltd";st=WA') == (
        ("CN", "mail.contoso.com"), ("O", "Contoso, Ltd"), ("S", "WA"))
    for bad in ("", "CN", "CN=", "=x", 'CN="open'):
        with pytest.raises(ValueError):
            parse_x500(bad)


def test_parse_tls_certificate_name_as_the_article_types_it():
    value = f"<I> {WOSIGN.replace(', O=', ',O=')}<S> CN=mail.ixmsoft.com"
    parsed = parse_tls_certificate_name(value)
    assert parsed.issuer == WOSIGN
    assert parsed.subject == "CN=mail.ixmsoft.com"
    issuer, subject = parsed
    assert (issuer, subject) == (WOSIGN, "CN=mail.ixmsoft.com")
    assert str(parsed) == f"<I>{WOSIGN}<S>CN=mail.ixmsoft.com"
    assert parse_tls_certificate_name("<i>CN=X<s>CN=Y") == ("CN=X", "CN=Y")


@pytest.mark.parametrize("value", [
    "CN=mail.contoso.com", "<S>CN=a<I>CN=b", "<I>CN=a", "<I><S>CN=a", "<I>CN=a<S>", "x<I>CN=a<S>CN=b",
    "<I>CN=a<S>CN=b<S>CN=c", "<I>CN=a<S>mail.contoso.com", "",
])
def test_parse_tls_certificate_name_rejects_malformed(value):
    place = Place(path="Set-ReceiveConnector -TlsCertificateName")
    with pytest.raises(ConfigError) as exc:
        parse_tls_certificate_name(value, place)
    assert exc.value.place == place
    assert repr(value) in exc.value.message


def test_select_by_tls_certificate_name_latest_not_after_wins():
    old = cert(thumb="1" * 40, days=200)
    new = cert(thumb="2" * 40, days=400)
    other_issuer = cert(thumb="3" * 40, days=900, issuer="CN=Contoso Enterprise CA")
    name = "<I>CN=Lab Public CA G2,O=Lab Trust Services,C=US<S>CN=mail.contoso.com"
    assert select_certificate([old, new, other_issuer], name, T0) is new
    assert select_certificate([old, new, other_issuer], "<I>cn=contoso enterprise ca<S>CN=MAIL.contoso.com", T0) \
        is other_issuer
    # renewed certificate with a different subject: the stale name finds nothing
    assert select_certificate([cert(subject="CN=*.contoso.com", sans=("*.contoso.com",))], name, T0) is None
    assert select_certificate([old], tls_certificate_name_of(old), T0) is old
    # an expired certificate is still chosen when it is the one named
    assert select_certificate([old], name, T0 + timedelta(days=1000)) is old
    with pytest.raises(ConfigError):
        select_certificate([old], "CN=mail.contoso.com", T0)


def test_default_selection_by_fqdn():
    self_signed = cert(subject="CN=EX01", sans=("ex01.contoso.local", "mail.contoso.com"), thumb="1" * 40,
                       days=1825, self_signed=True, issuer="CN=EX01")
    public = cert(thumb="2" * 40, days=365)
    wildcard = cert(subject="CN=*.contoso.com", sans=("*.contoso.com",), thumb="3" * 40, days=300)
    expired = cert(thumb="4" * 40, start=T0 - timedelta(days=900), days=400)
    ca = cert(subject="CN=mail.contoso.com CA", sans=("mail.contoso.com",), thumb="5" * 40, is_ca=True, days=9000)
    pool = [self_signed, public, wildcard, expired, ca]
    assert select_by_fqdn(pool, "mail.contoso.com", T0) is public       # CA-issued beats self-signed
    assert select_certificate(pool, None, T0, fqdn="smtp.contoso.com") is wildcard
    assert select_by_fqdn([expired, self_signed], "mail.contoso.com", T0) is self_signed  # valid beats CA-issued
    assert select_by_fqdn([expired], "mail.contoso.com", T0) is expired
    assert select_by_fqdn(pool, "mail.fabrikam.com", T0) is None
    assert select_certificate(pool, None, T0) is None


def test_replace_keeps_frozen_contract():
    c = cert()
    with pytest.raises(Exception):
        c.subject = "CN=x"  # type: ignore[misc]
    assert replace(c, san_dns=()).names == ("mail.contoso.com",)
