"""lab.adapters.pki / pki_world / tls: real certificates, openssl, real TLS on 127.0.0.1."""
from __future__ import annotations

import asyncio
import shutil
import ssl
import stat
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509

from lab.adapters.pki import (CertificateAuthority, TrustStore, chain_facts, facts_from_der, generate_request,
                              import_certificate, self_signed, verify_chain)
from lab.adapters.pki_world import CertSpec, Pki
from lab.adapters.tls import (X509_V_FLAG_NO_CHECK_TIME, client_context, failure_reason, peer_facts,
                              server_context)
from lab.core.errors import ConfigError, Place
from lab.core.tls import chain_verdict, select_certificate, tls_certificate_name_of, tls_verdict

UTC = timezone.utc
NOW = datetime.now(UTC).replace(microsecond=0)
LAB = {"O": "Lab Trust Services", "C": "US"}

SPEC = [
    {"name": "public-root", "kind": "root", "common_name": "Lab Public Root CA", "subject": LAB},
    {"name": "public-g2", "kind": "intermediate", "issuer": "public-root", "common_name": "Lab Public CA G2",
     "subject": LAB},
    {"name": "contoso-ca", "kind": "root", "common_name": "Contoso Enterprise CA", "subject": {"O": "Contoso"}},
    {"name": "contoso-mail", "kind": "leaf", "issuer": "public-g2", "common_name": "mail.contoso.com",
     "sans": ["mail.contoso.com", "autodiscover.contoso.com"], "valid_days": 365},
    {"name": "contoso-internal", "kind": "leaf", "issuer": "contoso-ca", "common_name": "ex01.contoso.local",
     "sans": ["ex01.contoso.local"], "key_type": "rsa"},
    {"name": "ex01-default", "kind": "self-signed", "common_name": "EX01", "sans": ["ex01.contoso.local"]},
    {"name": "fabrikam-mail", "kind": "leaf", "issuer": "public-g2", "common_name": "mail.fabrikam.com",
     "sans": ["mail.fabrikam.com"]},
]
STORES = [{"name": "internet", "roots": ["public-root"]},
          {"name": "org-contoso", "roots": ["public-root", "contoso-ca"]}]


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.build(SPEC, STORES, now=NOW)


def test_names_and_facts(pki):
    leaf = pki.certificate("contoso-mail").facts
    assert leaf.subject == "CN=mail.contoso.com"
    assert leaf.issuer == "CN=Lab Public CA G2, O=Lab Trust Services, C=US"
    assert leaf.san_dns == ("mail.contoso.com", "autodiscover.contoso.com")
    assert (leaf.not_before, leaf.not_after) == (NOW, NOW + timedelta(days=365))
    assert len(leaf.thumbprint) == 40 and leaf.thumbprint == leaf.thumbprint.upper()
    assert not leaf.self_signed and not leaf.is_ca and leaf.key_algorithm == "ECDSA P-256"
    assert pki.certificate("contoso-internal").facts.key_algorithm == "RSA 2048"
    assert pki.certificate("ex01-default").facts.self_signed
    assert pki.authority("public-g2").facts.is_ca
    assert facts_from_der(pki.certificate("contoso-mail").der) == leaf


def test_trust_stores(pki):
    public, internal = pki.certificate("contoso-mail"), pki.certificate("contoso-internal")
    assert pki.verify(public.der, "internet") and pki.verify(public.cert, "org-contoso")
    assert not pki.verify(internal.der, "internet")           # an enterprise CA is trusted only inside
    assert pki.verify(internal.der, "org-contoso")
    assert not pki.verify(pki.certificate("ex01-default").cert, "org-contoso")
    store = pki.store("internet")
    assert not verify_chain(public.cert, [], store)             # the intermediate is needed
    facts = pki.chain_facts(public.der, "internet")
    assert facts.trusted and [c.subject_cn for c in facts.chain] == ["Lab Public CA G2", "Lab Public Root CA"]
    ss = pki.certificate("ex01-default")
    assert verify_chain(ss.cert, [], TrustStore("pinned", (ss.cert,)))


def test_openssl_verify(pki, tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    pki.write_state(tmp_path)
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(pki.certificate("contoso-mail").cert_pem())

    def verify(host):
        return subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "trust" / "internet.pem"),
                               "-untrusted", str(tmp_path / "ca" / "public-g2.pem"), "-verify_hostname", host,
                               str(leaf)], capture_output=True, text=True)
    ok = verify("autodiscover.contoso.com")
    assert ok.returncode == 0 and ok.stdout.strip().endswith(": OK")
    bad = verify("owa.contoso.com")
    assert bad.returncode != 0 and "hostname mismatch" in (bad.stdout + bad.stderr)


def test_state_files_and_modes(pki, tmp_path):
    written = pki.write_state(tmp_path)
    for rel in ("trust/internet.pem", "trust/org-contoso.pem", "ca/public-root.pem", "ca/public-root.key",
                "ca/public-g2.key", "certs/contoso-mail.pem", "certs/contoso-mail.key", "certs/ex01-default.key"):
        assert tmp_path / rel in written
    for key in tmp_path.rglob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    bundle = x509.load_pem_x509_certificates((tmp_path / "trust" / "org-contoso.pem").read_bytes())
    assert [c.subject.rfc4514_string() for c in bundle] == ["CN=Lab Public Root CA,O=Lab Trust Services,C=US",
                                                           "CN=Contoso Enterprise CA,O=Contoso"]
    served = x509.load_pem_x509_certificates((tmp_path / "certs" / "contoso-mail.pem").read_bytes())
    assert len(served) == 2 and served[1] == pki.authority("public-g2").cert


def test_csr_round_trip(pki):
    csr_pem, key = generate_request("mail.ixmsoft.com", ("mail.ixmsoft.com", "autodiscover.ixmsoft.com"),
                                    subject_extra=(("O", "ixmsoft"),))
    assert csr_pem.startswith(b"-----BEGIN CERTIFICATE REQUEST-----")
    answer = pki.authority("public-g2").sign_csr(csr_pem, not_before=NOW, not_after=NOW + timedelta(days=90))
    imported = import_certificate(answer, key)
    facts = imported.facts
    assert facts.subject == "CN=mail.ixmsoft.com, O=ixmsoft"
    assert facts.san_dns == ("mail.ixmsoft.com", "autodiscover.ixmsoft.com")
    assert facts.not_after == NOW + timedelta(days=90)
    assert imported.chain == (pki.authority("public-g2").cert,)
    assert pki.verify(imported.cert, "internet")
    # the selected certificate for a connector naming it
    assert select_certificate([pki.certificate("contoso-mail").facts, facts],
                              f"<I>{facts.issuer}<S>{facts.subject}", NOW) == facts
    _, other_key = generate_request("x.ixmsoft.com")
    with pytest.raises(ConfigError):
        import_certificate(answer, other_key)
    with pytest.raises(ConfigError):
        pki.authority("public-g2").sign_csr(b"not a csr")


def test_lab_time_expiry_verdict(pki):
    chain = pki.chain_facts(pki.certificate("contoso-mail").der, "internet")
    assert tls_verdict(chain.leaf, chain.trusted, NOW, "DomainValidation", "mail.contoso.com").ok
    later = tls_verdict(chain.leaf, chain.trusted, NOW + timedelta(days=400), "DomainValidation", "mail.contoso.com")
    assert (later.ok, later.failure) == (False, "CertificateExpired")
    assert chain_verdict(chain, NOW + timedelta(days=400), "CertificateValidation").failure == "CertificateExpired"
    internal = pki.chain_facts(pki.certificate("contoso-internal").der, "internet")
    assert tls_verdict(internal.leaf, internal.trusted, NOW, "CertificateValidation").failure == "UntrustedRoot"
    # an already expired leaf is still trusted (trust is judged apart from time)
    old = pki.authority("public-g2").issue("old.contoso.com", ("old.contoso.com",),
                                          not_before=NOW - timedelta(days=800), not_after=NOW - timedelta(days=400))
    old_chain = chain_facts(old.cert, pki.intermediates, pki.store("internet"))
    assert old_chain.trusted
    assert chain_verdict(old_chain, NOW, "CertificateValidation").failure == "CertificateExpired"
    assert tls_certificate_name_of(old.facts).subject == "CN=old.contoso.com"


def test_spec_errors_name_the_place():
    place = Place("topology.yaml", 12)
    with pytest.raises(ConfigError) as exc:
        Pki.build([CertSpec("leaf1", "leaf", issuer="nope", place=place)])
    assert (exc.value.place.file, exc.value.place.line, exc.value.place.path) == ("topology.yaml", 12, "pki.leaf1.issuer")
    assert "'nope'" in exc.value.message
    with pytest.raises(ConfigError) as exc:
        Pki.build([{"name": "x", "kind": "sub-ca"}])
    assert exc.value.allowed == ("root", "intermediate", "self-signed", "leaf")
    with pytest.raises(ConfigError):
        Pki.build([{"name": "r", "kind": "root"}, {"name": "r", "kind": "root"}])
    with pytest.raises(ConfigError):
        Pki.build([{"name": "a", "kind": "intermediate", "issuer": "b"},
                   {"name": "b", "kind": "intermediate", "issuer": "a"}])
    with pytest.raises(ConfigError):
        Pki.build([{"name": "s", "kind": "self-signed"}, {"name": "l", "kind": "leaf", "issuer": "s"}])
    with pytest.raises(ConfigError) as exc:
        Pki.build([{"name": "r", "kind": "root", "colour": "red"}])
    assert exc.value.place.path == "pki.r.colour"
    with pytest.raises(ConfigError):
        Pki.build([{"name": "r", "kind": "root"}], [{"name": "internet", "roots": ["missing"]}])
    with pytest.raises(ConfigError):
        Pki.build([{"name": "r", "kind": "root", "key_type": "dsa"}])
    with pytest.raises(ConfigError):
        Pki.build([{"name": "r", "kind": "root", "valid_days": 0}])
    with pytest.raises(ConfigError):
        Pki.build([{"name": "../r", "kind": "root"}])


def test_self_signed_helper_and_rsa_ca():
    ca = CertificateAuthority.create_root("RSA Root", key_type="rsa")
    leaf = ca.issue("mail.contoso.com", ("mail.contoso.com",))
    assert verify_chain(leaf.cert, [], TrustStore("rsa", (ca.cert,)))
    ss = self_signed("mail.contoso.com", ("mail.contoso.com",))
    assert ss.facts.self_signed and ss.facts.issuer == ss.facts.subject == "CN=mail.contoso.com"


# --- real TLS on loopback ---------------------------------------------------------------------

async def _handshake(server_ctx, client_ctx, server_hostname="mail.contoso.com"):
    seen = {}

    async def on_client(reader, writer):
        seen["server"] = peer_facts(writer.get_extra_info("ssl_object"))
        writer.write(b"hello\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx,
                                                       server_hostname=server_hostname)
        seen["line"] = await reader.readline()
        seen["client"] = peer_facts(writer.get_extra_info("ssl_object"))
        seen["version"] = writer.get_extra_info("ssl_object").version()
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
    return seen


def test_tls_handshake_reads_both_certificates(pki):
    server_cert, client_cert = pki.certificate("contoso-mail"), pki.certificate("fabrikam-mail")
    sctx = server_context(server_cert, pki.anchors_pem())
    assert sctx.verify_mode == ssl.CERT_OPTIONAL and sctx.verify_flags & X509_V_FLAG_NO_CHECK_TIME
    assert server_context(server_cert, pki.anchors_pem()) is sctx          # cached
    cctx = client_context(client_cert)
    assert cctx.verify_mode == ssl.CERT_NONE and not cctx.check_hostname
    seen = asyncio.run(_handshake(sctx, cctx))
    assert seen["line"] == b"hello\n" and seen["version"] in ("TLSv1.2", "TLSv1.3")
    server_seen, der = seen["client"]
    assert server_seen == server_cert.facts and der == server_cert.der
    client_seen, client_der = seen["server"]
    assert client_seen.subject == "CN=mail.fabrikam.com"
    assert pki.chain_facts(client_der, "internet").trusted


def test_tls_without_client_certificate_and_expired_client(pki):
    seen = asyncio.run(_handshake(server_context(pki.certificate("contoso-mail"), pki.anchors_pem()),
                                  client_context()))
    assert seen["server"] == (None, None)
    assert seen["client"][0].subject == "CN=mail.contoso.com"
    # an expired (wall time) client certificate still gets through OpenSSL: lab time decides
    expired = pki.authority("public-g2").issue("mail.fabrikam.com", ("mail.fabrikam.com",),
                                              not_before=NOW - timedelta(days=30), not_after=NOW - timedelta(days=10))
    seen = asyncio.run(_handshake(server_context(pki.certificate("contoso-mail"), pki.anchors_pem()),
                                  client_context(expired)))
    facts, _ = seen["server"]
    assert tls_verdict(facts, True, NOW, "CertificateValidation").failure == "CertificateExpired"


async def _client_error(port, client_ctx):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx, server_hostname="x")
        await reader.readexactly(1)
    except Exception as exc:  # noqa: BLE001 - the exception is what we look at
        return exc
    writer.close()
    return None


def test_failure_reason_untrusted_client_certificate(pki):
    """The server refuses a client certificate from an unknown CA: the client sees the connection end."""
    rogue = CertificateAuthority.create_root("Rogue Root").issue("mail.fabrikam.com", ("mail.fabrikam.com",))
    sctx = server_context(pki.certificate("contoso-mail"), pki.store("internet").pem())

    async def run():
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0, ssl=sctx)
        try:
            return await _client_error(server.sockets[0].getsockname()[1], client_context(rogue))
        finally:
            server.close()
            await server.wait_closed()
    exc = asyncio.run(run())
    assert exc is not None and failure_reason(exc) == "ConnectionAborted"


def test_failure_reason_plain_text_peer_is_illegal_message():
    async def run():
        async def plain(reader, writer):
            writer.write(b"220 mail.contoso.com ESMTP no TLS here\r\n" * 4)
            await writer.drain()
            writer.close()
        server = await asyncio.start_server(plain, "127.0.0.1", 0)
        try:
            return await _client_error(server.sockets[0].getsockname()[1], client_context())
        finally:
            server.close()
            await server.wait_closed()
    exc = asyncio.run(run())
    assert isinstance(exc, ssl.SSLError) and failure_reason(exc) == "IllegalMessage"


def test_failure_reason_mapping():
    wrapped = RuntimeError("upgrade failed")
    wrapped.__cause__ = ssl.SSLError(1, "[SSL: UNSUPPORTED_PROTOCOL] unsupported protocol")
    wrapped.__cause__.reason = "UNSUPPORTED_PROTOCOL"
    assert failure_reason(wrapped) == "SocketError"
    assert failure_reason(ConnectionResetError()) == "ConnectionAborted"
    assert failure_reason(asyncio.IncompleteReadError(b"", 1)) == "ConnectionAborted"
    assert failure_reason(OSError("no route")) == "SocketError"


def test_self_signed_client_certificate_is_readable_with_anchors(pki):
    ss = pki.certificate("ex01-default")
    seen = asyncio.run(_handshake(server_context(pki.certificate("contoso-mail"), pki.anchors_pem()),
                                  client_context(ss)))
    facts, der = seen["server"]
    assert facts.self_signed and der == ss.der
    assert not pki.chain_facts(der, "internet").trusted


def test_starttls_with_aiosmtpd_and_aiosmtplib(pki):
    """The contexts work for STARTTLS: the server reads the client certificate in MAIL FROM."""
    aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")
    aiosmtplib = pytest.importorskip("aiosmtplib")
    seen = {}

    class Handler:
        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            facts, der = peer_facts(session.ssl["ssl_object"] if session.ssl else None)
            seen["facts"], seen["der"] = facts, der
            envelope.mail_from = address
            return "250 2.1.0 Sender OK"

    sctx = server_context(pki.certificate("contoso-mail"), pki.anchors_pem())

    async def run():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: aiosmtpd_smtp.SMTP(Handler(), hostname="mail.contoso.com", tls_context=sctx), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        try:
            await client.connect()
            await client.ehlo(hostname="mail.fabrikam.com")
            await client.starttls(server_hostname="mail.contoso.com",
                                  tls_context=client_context(pki.certificate("fabrikam-mail")))
            server_der = client.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
            reply = await client.mail("postmaster@fabrikam.com")
            await client.quit()
        finally:
            server.close()
            await server.wait_closed()
        return reply, server_der
    reply, server_der = asyncio.run(run())
    assert (reply.code, reply.message) == (250, "2.1.0 Sender OK")
    assert seen["facts"].subject == "CN=mail.fabrikam.com"
    assert pki.chain_facts(seen["der"], "internet").trusted
    assert facts_from_der(server_der).san_dns == ("mail.contoso.com", "autodiscover.contoso.com")
