"""model.build writes a value's Place only when its parser refuses the value: the same objects and the
same errors (message, place, allowed values, code, cause and context) as building the Place for every
value, which the reference below does (model.build before stop 17)."""
from __future__ import annotations

from typing import Any, Mapping

import pytest

from lab.core.eop.model import InboundConnector, OutboundConnector
from lab.core.errors import ConfigError, Place
from lab.core.exchange import model
from lab.core.exchange.connectors import ExtendedRight, ReceiveConnector
from lab.core.exchange.model import AcceptedDomain, ExchangeServer, Mailbox, Organization, _fields_of


def reference_build(cls: type, mapping: Any, path: str, defaults: Mapping[str, Any] | None = None) -> Any:
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"expected a mapping of {cls.__name__} properties, got {type(mapping).__name__}",
                          Place(path=path))
    by_lower, required = _fields_of(cls)
    values: dict[str, Any] = dict(defaults or {})
    for key, raw in mapping.items():
        spec = by_lower.get(str(key).lower())
        if spec is None:
            raise ConfigError(f"unknown {cls.__name__} property {key!r}", Place(path=f"{path}.{key}"),
                              allowed=sorted(f.metadata["ps"] for f in by_lower.values()))
        parse = spec.metadata["parse"]
        place = Place(path=f"{path}.{spec.metadata['ps']}")
        values[spec.name] = parse(raw, place) if parse else raw
    for spec in required:
        if spec.name not in values:
            raise ConfigError(f"{cls.__name__} property {spec.metadata.get('ps', spec.name)!r} is required",
                              Place(path=path))
    return cls(**values)


_RC = {"Name": "Relay", "Server": "EX01", "Bindings": "0.0.0.0:25", "RemoteIPRanges": "10.0.0.1"}
CASES: list[tuple[type, dict[str, Any]]] = [
    (ReceiveConnector, _RC),
    (ReceiveConnector, {**_RC, "Bindings": "0.0.0.0:99999"}),
    (ReceiveConnector, {**_RC, "Bindings": "nowhere:25"}),
    (ReceiveConnector, {**_RC, "Bindings": []}),
    (ReceiveConnector, {**_RC, "RemoteIPRanges": "10.0.0.9-10.0.0.1"}),
    (ReceiveConnector, {**_RC, "AuthMechanism": "Tls, Bogus"}),
    (ReceiveConnector, {**_RC, "AuthMechanism": "None, Tls"}),
    (ReceiveConnector, {**_RC, "PermissionGroups": "AnonymousUsers, ExchangeServers"}),
    (ReceiveConnector, {**_RC, "MaxMessageSize": "36MB", "RequireTLS": "$true"}),
    (ReceiveConnector, {**_RC, "MaxMessageSize": "lots"}),
    (ReceiveConnector, {**_RC, "RequireTLS": "perhaps"}),
    (ReceiveConnector, {**_RC, "Banner": "hello"}),
    (ReceiveConnector, {**_RC, "TlsDomainCapabilities": "mail.protection.outlook.com:AcceptCloudServicesMail"}),
    (ReceiveConnector, {**_RC, "TlsDomainCapabilities": "no-capability"}),
    (ReceiveConnector, {**_RC, "Fqdn": "not a domain"}),
    (ReceiveConnector, {**_RC, "Usage": "Sideways"}),
    (ReceiveConnector, {**_RC, "ExtendedRights": [{"User": "NT AUTHORITY\\ANONYMOUS LOGON",
                                                   "ExtendedRights": "ms-Exch-SMTP-Accept-Any-Recipient"}]}),
    (ReceiveConnector, {**_RC, "ExtendedRights": [{"User": "x", "ExtendedRights": "ms-Exch-Bogus"}]}),
    (ReceiveConnector, {**_RC, "ExtendedRights": [{"User": "x"}]}),
    (ReceiveConnector, {**_RC, "Unknown": 1}),
    (ExtendedRight, {"User": "x", "ExtendedRights": ""}),
    (AcceptedDomain, {"DomainName": "contoso.com", "DomainType": "InternalRelay"}),
    (AcceptedDomain, {"DomainName": "contoso.com", "DomainType": "Sideways"}),
    (AcceptedDomain, {"DomainName": ""}),
    (Mailbox, {"Name": "Ann", "PrimarySmtpAddress": "ann@contoso.com", "EmailAddresses": "a@contoso.com"}),
    (Mailbox, {"Name": "Ann", "PrimarySmtpAddress": "ann@contoso.com", "EmailAddresses": "a@, b@contoso.com"}),
    (Mailbox, {"Name": "Ann", "PrimarySmtpAddress": "ann"}),
    (ExchangeServer, {"Name": "EX01", "Fqdn": "ex01.contoso.com", "Version": "2019", "Build": "15.2.1.1"}),
    (ExchangeServer, {"Name": "EX01", "Fqdn": "ex01.contoso.com", "Version": "2007"}),
    (ExchangeServer, {"Name": "EX01", "Fqdn": "ex01.contoso.com", "Build": "fifteen"}),
    (Organization, {"Name": "Contoso", "AcceptedDomains": ["contoso.com", {"DomainName": "fabrikam.com"}],
                    "Mailboxes": [{"Name": "Ann", "PrimarySmtpAddress": "ann@contoso.com"}],
                    "Servers": [{"Name": "EX01", "Fqdn": "ex01.contoso.com"}]}),
    (Organization, {"Name": "Contoso", "AcceptedDomains": ["contoso.com", {"DomainName": "bad domain"}]}),
    (Organization, {"Name": "Contoso", "Mailboxes": [{"Name": "Ann", "PrimarySmtpAddress": "ann@contoso.com"},
                                                     {"Name": "Bob", "PrimarySmtpAddress": "bob"}]}),
    (Organization, {"Name": "Contoso", "Servers": [{"Name": "EX01", "Fqdn": "ex01.contoso.com", "Version": "x"}]}),
    (InboundConnector, {"Name": "In", "ConnectorType": "OnPremises", "SenderDomains": "contoso.com",
                        "SenderIPAddresses": "203.0.113.0/24"}),
    (InboundConnector, {"Name": "In", "SenderDomains": "*.contoso.com"}),
    (InboundConnector, {"Name": "In", "SenderIPAddresses": "203.0.113.0/8"}),
    (InboundConnector, {"Name": "In", "SenderIPAddresses": "2001:db8::1"}),
    (InboundConnector, {"Name": "In", "TlsSenderCertificateName": "bad name!"}),
    (OutboundConnector, {"Name": "Out", "RecipientDomains": "*", "SmartHosts": "[203.0.113.5]", "UseMXRecord": "$false",
                         "TlsSettings": "DomainValidation", "TlsDomain": "mail.contoso.com"}),
    (OutboundConnector, {"Name": "Out", "RecipientDomains": "*.contoso.com", "UseMXRecord": "$true"}),
    (OutboundConnector, {"Name": "Out", "SmartHosts": "bad host!", "UseMXRecord": "$false"}),
    (OutboundConnector, {"Name": "Out", "TlsSettings": "Sideways"}),
    (OutboundConnector, {"Name": "Out", "Enabled": 3}),
]


def _outcome(build, cls: type, mapping: dict[str, Any]) -> tuple:
    try:
        return ("built", build(cls, mapping, "topology.things[3]"))
    except ConfigError as e:
        return ("refused", type(e), e.message, e.place, e.allowed, e.code, str(e), type(e.__cause__),
                type(e.__context__), e.__suppress_context__)


@pytest.mark.parametrize("cls, mapping", CASES)
def test_build_matches_the_reference(monkeypatch: pytest.MonkeyPatch, cls: type, mapping: dict[str, Any]) -> None:
    got = _outcome(model.build, cls, mapping)
    monkeypatch.setattr(model, "build", reference_build)  # nested builds (from_mapping) too
    want = _outcome(reference_build, cls, mapping)
    assert got == want


def test_the_cases_refuse_values_with_a_place() -> None:
    refused = [o for o in (_outcome(model.build, c, m) for c, m in CASES) if o[0] == "refused"]
    assert len(refused) > 25
    assert all(o[3] is not None and o[3].path and o[3].path.startswith("topology.things[3]") for o in refused)
    assert any("[1]" in o[3].path for o in refused)  # a nested mapping's place


def test_a_valid_mapping_builds_no_place(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict[str, Any]] = []

    def counting(**kwargs: Any) -> Place:
        made.append(kwargs)
        return Place(**kwargs)

    monkeypatch.setattr(model, "Place", counting)
    assert model.build(ReceiveConnector, {**_RC, "RequireTLS": "$true"}, "x").require_tls is True
    assert made == []
    with pytest.raises(ConfigError):
        model.build(ReceiveConnector, {**_RC, "RequireTLS": "perhaps"}, "x")
    assert made == [{"path": "x.RequireTLS"}]
