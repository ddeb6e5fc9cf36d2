"""Pki.cached: one build per distinct spec in a process; verdicts remembered, same answers."""
from datetime import datetime, timezone

from lab.adapters.pki import build_chain
from lab.adapters.pki_world import Pki

START = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
SPECS = [{"name": "root", "kind": "root", "common_name": "Root"},
         {"name": "mail", "kind": "leaf", "issuer": "root", "common_name": "mail.contoso.com",
          "sans": ["mail.contoso.com"]},
         {"name": "lonely", "kind": "self-signed", "common_name": "lonely.example"}]
STORES = [{"name": "internet", "roots": ["root"]}, {"name": "none", "roots": []}]


def test_same_specs_share_one_pki_other_specs_do_not():
    one = Pki.cached(SPECS, STORES, now=START)
    assert Pki.cached(SPECS, STORES, now=START) is one
    assert Pki.cached(SPECS, STORES, now=START.replace(hour=10)) is not one
    assert Pki.cached(SPECS[:1], STORES[:1], now=START) is not one
    assert Pki.cached(SPECS, STORES) is not Pki.cached(SPECS, STORES)  # wall-time validity: never shared


def test_remembered_verdicts_are_the_path_builders(tmp_path):
    pki = Pki.cached(SPECS, STORES, now=START)
    for _ in range(2):
        for cert in pki.certificates.values():
            for store in pki.stores:
                expected = build_chain(cert.cert, pki.intermediates, pki.store(store)) is not None
                assert pki.verify(cert.der, store) is expected
                assert pki.verify(cert.cert, store) is expected
                assert pki.chain_facts(cert.der, store).trusted is expected
    written = pki.write_state(tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in written} >= {"trust/internet.pem", "ca/root.key",
                                                                    "certs/mail.pem", "certs/mail.key"}
    assert (tmp_path / "certs" / "mail.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "certs" / "mail.pem").read_bytes() == pki.certificate("mail").pem()
