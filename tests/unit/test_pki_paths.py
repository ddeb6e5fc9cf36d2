"""build_chain only hands the path builder the roots a path could reach, and remembers a path per
(leaf, pool, those roots): held to the builder run with every root of the store, as before, over
stores made of every subset of a set of roots (one with another's name, some whose validity starts
inside the leaves'), leaves under each CA, self-signed ones, with intermediates that start late."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import combinations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

from lab.adapters.pki import CertificateAuthority, TrustStore, build_chain, self_signed

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def oracle(leaf: x509.Certificate, intermediates, store: TrustStore):
    """build_chain as it was: the builder with every root of the store, at each start time."""
    if not store.roots:
        return None
    leaf_der = leaf.public_bytes(serialization.Encoding.DER)
    if any(r.public_bytes(serialization.Encoding.DER) == leaf_der for r in store.roots):
        return (leaf,)
    pool = list(intermediates)
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    times = sorted({start} | {c.not_valid_before_utc for c in [*pool, *store.roots]
                              if start < c.not_valid_before_utc <= end})
    builder = (PolicyBuilder().store(Store(list(store.roots)))
               .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                                   ee_policy=ExtensionPolicy.permit_all()))
    for when in times:
        try:
            return tuple(builder.time(when).build_client_verifier().verify(leaf, pool).chain)
        except VerificationError:
            continue
    return None


def ders(chain):
    return None if chain is None else [c.public_bytes(serialization.Encoding.DER) for c in chain]


@pytest.fixture(scope="module")
def world():
    public = CertificateAuthority.create_root("public", common_name="Public Root", not_before=T0)
    twin = CertificateAuthority.create_root("twin", common_name="Public Root", not_before=T0 + timedelta(days=30))
    org = CertificateAuthority.create_root("org", common_name="Org Root", not_before=T0)
    late = CertificateAuthority.create_root("late", common_name="Late Root", not_before=T0 + timedelta(days=40))
    issuing = public.create_intermediate("issuing", common_name="Public Issuing", not_before=T0 + timedelta(days=20))
    org_issuing = org.create_intermediate("org-issuing", common_name="Org Issuing", not_before=T0)
    late_issuing = late.create_intermediate("late-issuing", common_name="Late Issuing",
                                            not_before=T0 + timedelta(days=40))
    pool = (issuing.cert, org_issuing.cert, late_issuing.cert)
    leaves = [
        issuing.issue("mail.example", ["mail.example"], not_before=T0 + timedelta(days=10)).cert,  # before its CA
        issuing.issue("www.example", ["www.example"], not_before=T0 + timedelta(days=25)).cert,
        org_issuing.issue("ex01.org", ["ex01.org"], not_before=T0 + timedelta(days=1)).cert,
        late_issuing.issue("late.example", ["late.example"], not_before=T0 + timedelta(days=50)).cert,
        public.issue("direct.example", ["direct.example"], not_before=T0 + timedelta(days=5)).cert,
        twin.issue("twin.example", ["twin.example"], not_before=T0 + timedelta(days=35)).cert,
        self_signed("lonely.example", ["lonely.example"], not_before=T0).cert,
    ]
    roots = (public.cert, twin.cert, org.cert, late.cert, leaves[-1])
    return pool, leaves, roots


def test_paths_match_the_builder_with_every_root(world):
    pool, leaves, roots = world
    stores = [TrustStore(f"s{n}-{i}", subset) for n in range(len(roots) + 1)
              for i, subset in enumerate(combinations(roots, n))]
    for leaf in leaves:
        for store in stores:
            expected = ders(oracle(leaf, pool, store))
            for _ in range(2):  # built, then remembered
                assert ders(build_chain(leaf, pool, store)) == expected, (leaf.subject, store.name)
            # the same certificate parsed again (a new object, as a presented DER is)
            again = x509.load_der_x509_certificate(leaf.public_bytes(serialization.Encoding.DER))
            assert ders(build_chain(again, pool, store)) == expected
            assert ders(oracle(leaf, pool[:1], store)) == ders(build_chain(leaf, pool[:1], store))
    trusted = [ders(build_chain(leaves[0], pool, s)) is not None for s in stores]
    assert any(trusted) and not all(trusted)
