"""SendConnector.with_changes (Set-SendConnector) is from_mapping({**to_mapping(), **changes}): the same
connector, or the same error at the same place, for connectors built by from_mapping and built
directly with values from_mapping would not give (which with_changes must convert again)."""
from __future__ import annotations

import random
import uuid

import pytest

from lab.core.errors import ConfigError, Place
from lab.core.exchange.send_connector import PROPERTIES, AddressSpace, SendConnector, _convert, _fixed

_CERT = "<I>CN=Contoso CA, O=Contoso<S>CN=mail.contoso.com"
# values a property may take, good and bad (the bad ones must raise the same error either way)
_VALUES = {
    "Name": ["To Internet", "  Spaced  ", "", "x"],
    "AddressSpaces": [["SMTP:*;1"], "contoso.com", "SMTP:*.fabrikam.com;5, tailspin.com;100", ["*.com"],
                      ["Contoso.COM."], ["bad..name"], ["x400:foo"], ["a.b;0"], ["3.5"], [], "{a.com, b.com}"],
    "DNSRoutingEnabled": [True, False, "$true", "$false", "maybe"],
    "SmartHosts": [[], ["smart.contoso.com"], "Relay.Contoso.com., [192.0.2.1]", ["a ."], ["."], "  "],
    "Port": [25, 587, "2525", 0, 70000, "x", True],
    "Fqdn": [None, "", "Mail.Contoso.com.", "a .", ".", "[x]"],
    "RequireTLS": [True, False, "nope"],
    "IgnoreSTARTTLS": [True, False],
    "TlsAuthLevel": [None, "", "encryptiononly", "CertificateValidation", "DomainValidation", "bogus"],
    "TlsDomain": [None, "contoso.com", "Contoso.com.", "."],
    "TlsCertificateName": [None, "", _CERT, "not a name"],
    "CloudServicesMailEnabled": [False, True],
    "ErrorPolicies": ["Default", "downgradednsfailures", "Nope"],
    "SourceTransportServers": [["EX01"], "ex01, EX02", [], ["srv ."]],
    "Enabled": [True, False],
    "MaxMessageSize": [25 * 1024 * 1024, "36MB", "10 MB (10,485,760 bytes)", 0, "huge"],
    "Usage": ["Custom", "internet", "Partner", "Other"],
}


def _outcome(fn):
    try:
        conn = fn()
    except ConfigError as e:
        return ("error", str(e), e.message, e.place, e.allowed, e.code)
    return ("ok", repr(conn), conn, tuple(type(getattr(conn, a)) for a in PROPERTIES.values()),
            tuple(tuple(type(x) for x in getattr(conn, a)) for a in PROPERTIES.values()
                  if isinstance(getattr(conn, a), tuple)))


def _random_mapping(rng: random.Random) -> dict:
    mapping = {"Name": rng.choice(["To Internet", "Out", " Edge "]), "AddressSpaces": rng.choice(
        [["SMTP:*;1"], ["contoso.com;2"], "*.fabrikam.com, tailspin.com;7"])}
    for prop in rng.sample(list(_VALUES), rng.randrange(0, 8)):
        if prop != "Name":
            mapping[prop] = rng.choice(_VALUES[prop])
    return mapping


def _random_connectors(rng: random.Random):
    """Connectors from from_mapping, and directly built ones with values it would not give."""
    while True:
        try:
            conn = SendConnector.from_mapping(_random_mapping(rng), "topology")
        except ConfigError:
            continue
        yield conn
        odd = {
            "name": rng.choice([conn.name, " padded ", "x"]),
            "address_spaces": rng.choice([conn.address_spaces, (AddressSpace("Contoso.com"),),
                                          (AddressSpace("contoso.com\n"),), (AddressSpace("a.com", 0),),
                                          (AddressSpace("a.com", 1, "X400"),), (), (AddressSpace("*"),)]),
            "smart_hosts": rng.choice([conn.smart_hosts, ("a ",), ("",), ("Relay.Contoso.com",), ("[1.2.3.4]",)]),
            "port": rng.choice([conn.port, 25.0, 0, True, 99999]),
            "fqdn": rng.choice([conn.fqdn, "", "a ", "Mail.X", "[y]"]),
            "tls_domain": rng.choice([conn.tls_domain, "x."]),
            "error_policies": rng.choice([conn.error_policies, "default", None]),
            "usage": rng.choice([conn.usage, "internet"]),
            "tls_auth_level": rng.choice([conn.tls_auth_level, "", "encryptiononly"]),
            "require_tls": rng.choice([conn.require_tls, 1, "true"]),
            "max_message_size": rng.choice([conn.max_message_size, 10.5, -1]),
            "source_transport_servers": rng.choice([conn.source_transport_servers, ["EX01"], ("ex 01.",)]),
            "tls_certificate_name": rng.choice([conn.tls_certificate_name, "", _CERT]),
        }
        picked = dict(rng.sample(list(odd.items()), rng.randrange(1, 4)))
        fields = {a: getattr(conn, a) for a in PROPERTIES.values()}
        yield SendConnector(**{**fields, **picked})


@pytest.mark.parametrize("seed", range(6))
def test_with_changes_is_from_mapping_of_the_merged_mapping(seed: int) -> None:
    rng = random.Random(seed)
    connectors = _random_connectors(rng)
    settable = [p for p in PROPERTIES if p != "Name"]
    for _ in range(400):
        conn = next(connectors)
        changes = {p: rng.choice(_VALUES[p]) for p in rng.sample(settable, rng.randrange(0, 4))}
        if rng.random() < 0.1:
            changes["Name"] = rng.choice(_VALUES["Name"])
        if rng.random() < 0.05:
            changes["smarthosts"] = ["lower.case.key"]  # (not a property's own spelling: from_mapping's way)
        if rng.random() < 0.03:
            changes["Bogus"] = 1
        general = _outcome(lambda: SendConnector.from_mapping({**conn.to_mapping(), **changes}, conn.name))
        fast = _outcome(lambda: conn.with_changes(changes, conn.name))
        assert fast == general, (conn, changes)


def test_fixed_values_convert_to_themselves() -> None:
    """Whatever _fixed vouches for, from_mapping's conversion gives back unchanged (the fast path's premise)."""
    rng = random.Random(7)
    connectors = _random_connectors(rng)
    vouched = refused = 0
    for _ in range(600):
        conn = next(connectors)
        mapping = conn.to_mapping()
        for prop, attr in PROPERTIES.items():
            value = getattr(conn, attr)
            if _fixed(prop, value):
                vouched += 1
                got = _convert(prop, mapping[prop], Place(path="x"))
                assert got == value and type(got) is type(value), (prop, value, got)
                if isinstance(got, tuple):
                    assert [type(x) for x in got] == [type(x) for x in value]
            else:
                refused += 1
    assert vouched > 1000 and refused > 50


def test_guid_is_uuid5_of_the_lower_case_name() -> None:
    conn = SendConnector.from_mapping({"Name": "To Internet", "AddressSpaces": "*"})
    assert conn.guid == str(uuid.uuid5(uuid.UUID("6b1c5f0e-1d2a-4c59-9a43-6c616273656e"), "to internet"))


def test_downgrades_dns_failures_follows_the_error_policy() -> None:
    import dataclasses
    import pickle

    from lab.core.fastpath import evolve

    for policy in ("Default", "downgradednsfailures", "DowngradeCustomFailures", "UpgradeCustomFailures"):
        conn = SendConnector.from_mapping({"Name": "c", "AddressSpaces": "*", "ErrorPolicies": policy})
        want = conn.error_policies == "DowngradeDnsFailures"
        changed = conn.with_changes({"ErrorPolicies": "DowngradeDnsFailures"}, "c")
        for c, w in ((conn, want), (changed, True), (pickle.loads(pickle.dumps(conn)), want),
                     (dataclasses.replace(changed, error_policies="Default"), False),
                     (evolve(changed, error_policies="Default"), False),
                     (SendConnector("d", (AddressSpace("*"),), error_policies="DowngradeDnsFailures"), True)):
            assert c.downgrades_dns_failures is w
        assert conn == dataclasses.replace(conn) and hash(conn) == hash(dataclasses.replace(conn))
        assert "downgrades_dns_failures" not in repr(conn)
