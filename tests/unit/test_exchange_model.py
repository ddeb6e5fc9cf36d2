"""Exchange organisation and receive connector model: Exchange property names, validation,
defaults (fidelity §3.2, §3.3) and New-/Set-ReceiveConnector overrides."""
from __future__ import annotations

import copy

import pytest

from lab.core.errors import ConfigError
from lab.core.exchange.connectors import (
    PERMISSION_GROUP_RIGHTS, R_ACCEPT_ANY_RECIPIENT, R_SUBMIT, ReceiveConnector, apply_receive_connector_overrides,
    default_receive_connectors,
)
from lab.core.exchange.model import AcceptedDomain, ExchangeServer, Mailbox, Organization

MAIL1 = ExchangeServer.from_mapping({"Name": "MAIL1", "Fqdn": "mail1.office26.com", "Version": 2016}, "servers[0]")
EX2010 = ExchangeServer.from_mapping({"Name": "EX2010", "Fqdn": "mail.xutonglin.com", "Version": "2010"}, "s")


def test_server_defaults_build_by_version():
    assert MAIL1.build.startswith("15.1.")
    assert EX2010.build.startswith("14.")
    assert MAIL1.to_mapping() == {"Name": "MAIL1", "Fqdn": "mail1.office26.com", "Version": 2016,
                                  "Build": MAIL1.build}


def test_unknown_property_names_it_and_lists_allowed():
    with pytest.raises(ConfigError) as err:
        ExchangeServer.from_mapping({"Name": "X", "Fqdn": "x.contoso.com", "Verison": 2016}, "servers[1]")
    assert "Verison" in str(err.value)
    assert err.value.place.path == "servers[1].Verison"
    assert "Version" in err.value.allowed


def test_bad_enum_lists_allowed_values():
    with pytest.raises(ConfigError) as err:
        AcceptedDomain.from_mapping({"DomainName": "contoso.com", "DomainType": "Authorative"}, "ad[0]")
    assert err.value.allowed == ("Authoritative", "InternalRelay", "ExternalRelay")
    with pytest.raises(ConfigError) as err:
        ExchangeServer.from_mapping({"Name": "X", "Fqdn": "x.com", "Version": 2007}, "s")
    assert "2019" in err.value.allowed


def test_enum_values_are_case_insensitive_and_stored_in_exchange_spelling():
    domain = AcceptedDomain.from_mapping({"domainname": "Office26.COM", "domaintype": "internalrelay"}, "ad")
    assert (domain.domain_name, domain.domain_type, domain.name) == ("office26.com", "InternalRelay", "office26.com")


def test_mailbox_addresses_and_logon_names():
    mbx = Mailbox.from_mapping({"Name": "Administrator", "PrimarySmtpAddress": "administrator@office26.com",
                                "EmailAddresses": ["smtp:admin@office26.com"], "Password": "pw"}, "mbx")
    assert mbx.email_addresses == ("administrator@office26.com", "admin@office26.com")
    assert mbx.alias == "administrator"
    assert mbx.to_mapping()["EmailAddresses"] == ["SMTP:administrator@office26.com", "smtp:admin@office26.com"]
    org = Organization.from_mapping({"Name": "o", "Mailboxes": [mbx.to_mapping()]}, "org")
    assert org.mailbox_by_logon("OFFICE26\\administrator") == org.mailboxes[0]
    assert org.mailbox_by_logon("admin@office26.com") == org.mailboxes[0]


def test_organization_rejects_duplicates_and_finds_wildcard_domains():
    with pytest.raises(ConfigError):
        Organization.from_mapping({"Name": "o", "AcceptedDomains": ["a.com", "A.com"]}, "org")
    org = Organization.from_mapping({"Name": "o", "AcceptedDomains": ["*.contoso.com", "sales.contoso.com"]}, "org")
    assert org.accepted_domain_for("sales.contoso.com").domain_name == "sales.contoso.com"
    assert org.accepted_domain_for("eu.contoso.com").domain_name == "*.contoso.com"
    assert org.accepted_domain_for("fabrikam.com") is None


@pytest.mark.parametrize("value, message", [
    ("None, Tls", "None can't be combined"),
    ("BasicAuthRequireTLS, Tls", "requires BasicAuth and Tls"),
    ("ExternalAuthoritative", "requires Tls"),
    ("Tls, Kerberos", "not a valid value"),
])
def test_auth_mechanism_rules(value, message):
    with pytest.raises(ConfigError, match=message):
        ReceiveConnector.from_mapping({"Name": "R", "Server": "MAIL1", "AuthMechanism": value}, "rc")


def test_cross_property_rules_and_banner():
    with pytest.raises(ConfigError, match="RequireTLS"):
        ReceiveConnector.from_mapping({"Name": "R", "Server": "S", "AuthMechanism": "BasicAuth",
                                       "RequireTLS": "$true"}, "rc")
    with pytest.raises(ConfigError, match="ExchangeServers"):
        ReceiveConnector.from_mapping({"Name": "R", "Server": "S", "AuthMechanism": "Tls, ExternalAuthoritative",
                                       "PermissionGroups": "AnonymousUsers"}, "rc")
    with pytest.raises(ConfigError, match="must start with 220"):
        ReceiveConnector.from_mapping({"Name": "R", "Server": "S", "Banner": "Hello"}, "rc")
    ok = ReceiveConnector.from_mapping({"Name": "R", "Server": "S", "Banner": "220 relay ready",
                                        "MaxMessageSize": "36 MB (37,748,736 bytes)"}, "rc")
    assert ok.banner == "220 relay ready" and ok.max_message_size == 37748736


def test_default_connectors_2016():
    conns = {c.name: c for c in default_receive_connectors(MAIL1)}
    assert list(conns) == ["Default Frontend MAIL1", "Outbound Proxy Frontend MAIL1", "Client Frontend MAIL1",
                           "Default MAIL1", "Client Proxy MAIL1"]
    fe = conns["Default Frontend MAIL1"]
    assert [str(b) for b in fe.bindings] == ["[::]:25", "0.0.0.0:25"]
    assert fe.permission_groups == ("AnonymousUsers", "ExchangeServers", "ExchangeLegacyServers")
    assert fe.auth_mechanism == ("Tls", "Integrated", "BasicAuth", "BasicAuthRequireTLS", "ExchangeServer")
    assert fe.max_message_size == 37748736 and fe.protocol_logging_level == "Verbose"
    assert conns["Client Frontend MAIL1"].bindings[1].port == 587
    assert conns["Default MAIL1"].transport_role == "HubTransport"
    assert conns["Default MAIL1"].bindings[1].port == 2525


def test_default_connectors_2010_have_no_anonymous_users():
    conns = default_receive_connectors(EX2010)
    assert [c.name for c in conns] == ["Default EX2010", "Client EX2010"]
    assert "AnonymousUsers" not in conns[0].permission_groups
    assert conns[0].bindings[0].port == 25 and conns[1].bindings[0].port == 587


def test_override_patches_default_and_adds_custom_relay_connector():
    defaults = default_receive_connectors(MAIL1)
    overrides = [
        {"Name": "ANONYMOUS RELAY MAIL1", "Bindings": "0.0.0.0:25", "RemoteIPRanges": "192.168.0.3",
         "PermissionGroups": "AnonymousUsers",
         "ExtendedRights": [{"User": "NT AUTHORITY\\Anonymous Logon",
                             "ExtendedRights": "MS-Exch-SMTP-Accept-Any-Recipient"}]},
        {"Name": "client frontend mail1", "Fqdn": "mail.office26.com", "TlsCertificateName": "<I>CN=CA<S>CN=mail"},
    ]
    before = copy.deepcopy(overrides)
    result = apply_receive_connector_overrides(defaults, overrides, "exchange.receive_connectors")
    assert overrides == before and len(defaults) == 5
    by_name = {c.name: c for c in result}
    relay = by_name["ANONYMOUS RELAY MAIL1"]
    assert relay.usage == "Custom" and relay.server == "MAIL1" and relay.transport_role == "FrontendTransport"
    assert relay.extended_rights[0].rights == (R_ACCEPT_ANY_RECIPIENT,)
    assert by_name["Client Frontend MAIL1"].fqdn == "mail.office26.com"
    assert by_name["Client Frontend MAIL1"].permission_groups == ("ExchangeUsers",)


def test_override_errors_change_nothing():
    defaults = default_receive_connectors(MAIL1)
    with pytest.raises(ConfigError, match="Bindings parameter is required") as err:
        apply_receive_connector_overrides(defaults, [{"Name": "Relay", "RemoteIPRanges": "10.0.0.1"}], "rc")
    assert err.value.place.path == "rc[0].Bindings"
    with pytest.raises(ConfigError, match="Usage can be given only"):
        apply_receive_connector_overrides(defaults, [{"Name": "Default Frontend MAIL1", "Usage": "Internet"}], "rc")
    with pytest.raises(ConfigError, match="same binding"):
        apply_receive_connector_overrides(defaults, [{"Name": "Second", "Usage": "Internet",
                                                      "RemoteIPRanges": ["::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                                                                         "0.0.0.0-255.255.255.255"],
                                                      "Bindings": ["[::]:25", "0.0.0.0:25"]}], "rc")
    with pytest.raises(ConfigError, match="not an IP address"):
        apply_receive_connector_overrides(defaults, [{"Name": "X", "Bindings": "0.0.0.0:25",
                                                      "RemoteIPRanges": "192.168.1.300"}], "rc")
    assert default_receive_connectors(MAIL1) == defaults


def test_usage_client_preset_and_round_trip():
    result = apply_receive_connector_overrides(default_receive_connectors(MAIL1),
                                               [{"Name": "Apps", "Usage": "Client", "Bindings": "10.0.0.5:587"}], "rc")
    apps = result[-1]
    assert apps.permission_groups == ("ExchangeUsers",)
    assert apps.auth_mechanism == ("Tls", "Integrated", "BasicAuth", "BasicAuthRequireTLS")
    again = ReceiveConnector.from_mapping(apps.to_mapping(), "rc")
    assert again == apps


def test_permission_table_matches_fidelity():
    assert PERMISSION_GROUP_RIGHTS["AnonymousUsers"][0] == "NT AUTHORITY\\ANONYMOUS LOGON"
    assert R_ACCEPT_ANY_RECIPIENT not in PERMISSION_GROUP_RIGHTS["AnonymousUsers"][1]
    assert R_ACCEPT_ANY_RECIPIENT in PERMISSION_GROUP_RIGHTS["ExchangeUsers"][1]
    assert {R_SUBMIT} <= PERMISSION_GROUP_RIGHTS["Partners"][1]
