"""Send connectors (fidelity §3.1) and connector selection / next hop (fidelity §3.4, §3.6)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.core.errors import ConfigError
from lab.core.exchange.routing import Directory, next_hop, select_send_connector
from lab.core.exchange.send_connector import AddressSpace, SendConnector


def conn(name, spaces, **kw):
    return SendConnector.from_mapping({"Name": name, "AddressSpaces": spaces, **kw})


@pytest.mark.parametrize("text, domain, cost", [
    ("SMTP:*;1", "*", 1), ("contoso.com;1", "contoso.com", 1), ("SMTP:contoso.com", "contoso.com", 1),
    ("contoso.com", "contoso.com", 1), ("*.contoso.com;5", "*.contoso.com", 5), ("*.com", "*.com", 1),
    ("smtp:Contoso.COM;100", "contoso.com", 100)])
def test_address_space_forms(text, domain, cost):
    space = AddressSpace.parse(text)
    assert (space.domain, space.cost, str(space)) == (domain, cost, f"SMTP:{domain};{cost}")


@pytest.mark.parametrize("text", ["*contoso.com", "contoso.com;0", "contoso.com;101", "X400:c=US;1", "con toso.com",
                                  "contoso..com"])
def test_address_space_rejects(text):
    with pytest.raises(ConfigError):
        AddressSpace.parse(text)


def test_unknown_property_lists_allowed_names():
    with pytest.raises(ConfigError) as err:
        SendConnector.from_mapping({"Name": "x", "AddressSpaces": "*", "SmartHost": "a"})
    assert "SmartHosts" in err.value.allowed and "unknown send connector property 'SmartHost'" in str(err.value)


@pytest.mark.parametrize("props, text", [
    ({"SmartHosts": "relay.contoso.com"}, "the DNSRoutingEnabled parameter must be $false"),
    ({"DNSRoutingEnabled": False}, "SmartHosts is required"),
    ({"RequireTLS": True, "IgnoreSTARTTLS": True}, "IgnoreSTARTTLS must be set to $false"),
    ({"TlsAuthLevel": "CertificateValidation"}, "TlsAuthLevel can't be set"),
    ({"RequireTLS": True, "TlsAuthLevel": "DomainValidation"},
     "421 TLSAuthLevel cannot be DomainValidation with out a valid TLS Domain."),
    ({"RequireTLS": True, "TlsAuthLevel": "CertificateValidation", "TlsDomain": "x.com"},
     "421 TLS Domain can only be specified with TLSAuthLevel set to DomainValidation."),
    ({"TlsCertificateName": "CN=mail.contoso.com"}, "not in the form <I>issuer<S>subject"),
    ({"Port": 0}, "from 1 to 65535"),
])
def test_cross_field_rules(props, text):
    with pytest.raises(ConfigError) as err:
        conn("x", "*", **props)
    assert text in str(err.value)


def test_round_trip_mapping():
    c = conn("To O365", "*", DNSRoutingEnabled="$false", SmartHosts="contoso-com.mail.protection.outlook.com",
             RequireTLS="$true", TlsAuthLevel="certificatevalidation", CloudServicesMailEnabled=True,
             TlsCertificateName="<I>CN=Lab CA<S>CN=mail.contoso.com", MaxMessageSize="35 MB")
    again = SendConnector.from_mapping(c.to_mapping())
    assert again == c and c.tls_auth_level == "CertificateValidation" and c.max_message_size == 35 * 1024 ** 2
    assert c.delivery_type == "SmartHostConnectorDelivery"


def test_most_specific_then_cost_then_name():
    star, wild, exact = conn("Star", "*"), conn("Wild", "*.contoso.com"), conn("Exact", "marketing.contoso.com;50")
    assert select_send_connector([star, wild, exact], "marketing.contoso.com", "EX01").result is exact
    assert select_send_connector([star, wild, exact], "sales.contoso.com", "EX01").result is wild
    assert select_send_connector([star, wild, exact], "fabrikam.com", "EX01").result is star
    cheap, dear = conn("B", "*;1"), conn("A", "*;5")
    assert select_send_connector([dear, cheap], "x.com", "EX01").result is cheap
    a, b = conn("b-conn", "*"), conn("A-conn", "*")
    assert select_send_connector([a, b], "x.com", "EX01").result is b


def test_filters_disabled_scope_and_size():
    off = conn("Off", "*", Enabled=False)
    other = conn("Other", "*", SourceTransportServers="EX02")
    small = conn("Small", "*", MaxMessageSize="1 KB")
    d = select_send_connector([off, other, small], "x.com", "EX01", 5000)
    assert d.result is None and len(d.reasons) == 4
    assert select_send_connector([small], "x.com", "ex01", 10).result is small


@given(st.lists(st.tuples(st.sampled_from(["*", "*.com", "contoso.com", "*.contoso.com", "a.contoso.com"]),
                          st.integers(1, 100)), min_size=1, max_size=6),
       st.sampled_from(["contoso.com", "a.contoso.com", "b.contoso.com", "x.com", "x.org"]))
def test_selection_is_order_independent(spaces, domain):
    conns = [conn(f"c{i}", f"{d};{cost}") for i, (d, cost) in enumerate(spaces)]
    first = select_send_connector(conns, domain, "EX01").result
    assert select_send_connector(list(reversed(conns)), domain, "EX01").result == first
    if first is not None:
        assert first.address_spaces[0].matches(domain)


def test_next_hop_kinds():
    directory = Directory.build(
        [{"DomainName": "contoso.com", "DomainType": "Authoritative", "Default": True},
         {"DomainName": "relay.contoso.com", "DomainType": "InternalRelay"}],
        [{"PrimarySmtpAddress": "alice@contoso.com", "Database": "DB01"}],
        [{"PrimarySmtpAddress": "user02@contoso.com", "RemoteRoutingAddress": "user02@contoso.mail.onmicrosoft.com"}])
    internet = conn("Internet", "*")
    hop = next_hop(directory, [internet], "Alice@contoso.com", "EX01").result
    assert (hop.delivery_type, hop.next_hop_domain) == ("SmtpDeliveryToMailbox", "DB01")
    hop = next_hop(directory, [internet], "ghost@contoso.com", "EX01").result
    assert hop.failure is not None and hop.failure.line() == "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"
    hop = next_hop(directory, [internet], "x@relay.contoso.com", "EX01").result
    assert (hop.delivery_type, hop.next_hop_domain, hop.connector) == ("DnsConnectorDelivery", "relay.contoso.com",
                                                                       "Internet")
    hop = next_hop(directory, [internet], "user02@contoso.com", "EX01").result
    assert hop.recipient == "user02@contoso.mail.onmicrosoft.com"
    smart = conn("Smart", "*", DNSRoutingEnabled=False, SmartHosts="relay1.contoso.com,[10.0.0.5]")
    hop = next_hop(directory, [smart], "b@fabrikam.com", "EX01").result
    assert (hop.delivery_type, hop.next_hop_domain) == ("SmartHostConnectorDelivery", "relay1.contoso.com,[10.0.0.5]")
    hop = next_hop(directory, [], "b@fabrikam.com", "EX01").result
    assert (hop.delivery_type, hop.next_hop_domain) == ("Unreachable", "Unreachable Domain")
