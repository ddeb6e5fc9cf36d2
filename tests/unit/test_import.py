"""`lab import`: cmdlet JSON (tests/import/contoso, shaped as ConvertTo-Json -Depth 4 prints it) -> topology.yaml.

The contoso org: EX01 (Exchange 2016) and EX02 (2019), the setup receive connectors plus a custom
anonymous relay connector for a scanner (192.168.20.31) and an ERP subnet, a hybrid send
connector to contoso.mail.onmicrosoft.com (TlsCertificateName of a Let's Encrypt certificate),
certificates, and Exchange Online with the Hybrid Configuration Wizard's connectors.

UNCONFIRMED shapes (docs/import.md): the JSON of Bindings/RemoteIPRanges objects and enum numbers
were not captured from a live server; the tests pin what the importer accepts.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lab.adapters.pki_world import Pki
from lab.core.errors import ConfigError
from lab.core.exchange import connectors as rc
from lab.core.exchange.receive import ANONYMOUS, rights_for, select_receive_connector
from lab.core.exchange.routing import select_send_connector
from lab.core.world import World
from lab.runtime import pki_specs
from lab.topology import import_map as M
from lab.topology.cli_import import import_command
from lab.topology.importer import INVENTED_NOTE, import_directory, write_topology
from lab.topology.load import load_topology

CONTOSO = Path(__file__).resolve().parents[1] / "import" / "contoso"
TABLES = {  # file -> (table of modelled properties, kind as the warnings name it)
    "exchange-servers.json": (M.EXCHANGE_SERVER, "ExchangeServer"),
    "accepted-domains.json": (M.ACCEPTED_DOMAIN, "AcceptedDomain"),
    "remote-domains.json": ({}, "RemoteDomain"),
    "send-connectors.json": (M.SEND_CONNECTOR, "SendConnector"),
    "receive-connectors.json": (M.RECEIVE_CONNECTOR, "ReceiveConnector"),
    "certificates.json": (M.CERTIFICATE, "ExchangeCertificate"),
    "mailboxes.json": (M.MAILBOX, "Mailbox"),
    "remote-mailboxes.json": (M.REMOTE_MAILBOX, "RemoteMailbox"),
    "exo-accepted-domains.json": (M.EXO_ACCEPTED_DOMAIN, "AcceptedDomain"),
    "inbound-connectors.json": (M.INBOUND_CONNECTOR, "InboundConnector"),
    "outbound-connectors.json": (M.OUTBOUND_CONNECTOR, "OutboundConnector"),
    "exo-mailboxes.json": (M.MAILBOX, "Mailbox (EXO)"),
    "exo-mail-users.json": (M.MAIL_USER, "MailUser"),
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    topology, warnings = import_directory(CONTOSO)
    path = tmp_path_factory.mktemp("import") / "topology.yaml"
    write_topology(topology, path)
    return topology, warnings, path, load_topology(path)


@pytest.fixture(scope="module")
def world(imported):
    topo = imported[3]
    specs, stores = pki_specs(topo)
    pki = Pki.build(specs, stores, now=topo.settings.clock_start)
    return World.from_topology(topo, {name: c.facts for name, c in pki.certificates.items()})


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "contoso"
    shutil.copytree(CONTOSO, target)
    return target


def _load(path: Path) -> list[dict]:
    raw = path.read_bytes()
    return json.loads(raw.decode("utf-16") if raw.startswith(b"\xff\xfe") else raw.decode("utf-8-sig"))


# --- the result validates and keeps what the cmdlets said ----------------------------------------------

def test_the_imported_world_validates(imported):
    topo = imported[3]
    assert {"ex01", "ex02", "eop", "contoso-fw", "public-dns", "internet-client"} <= set(topo.hosts)
    assert topo.hosts["ex01"].version == 2016 and topo.hosts["ex01"].build == "15.1.2507.6"
    assert topo.hosts["ex02"].version == 2019
    assert topo.tenants["contoso"].hybrid_organization == "contoso"
    assert topo.tenants["contoso"].initial_domain == "contoso.onmicrosoft.com"


def test_every_unmodelled_property_is_a_warning(imported):
    warnings = set(imported[1])
    missing = []
    for name, (table, kind) in TABLES.items():
        lowered = {k.lower() for k in table}
        for obj in _load(CONTOSO / name):
            for key, value in obj.items():
                if key.lower() in lowered or key.lower() in M.BOOKKEEPING:
                    continue
                if not any(w.startswith(f"{kind} '") and f"property {key} = {M.render(value)} is not modelled" in w
                           for w in warnings):
                    missing.append(f"{name}: {key}")
        if any(k.lower() in M.BOOKKEEPING for obj in _load(CONTOSO / name) for k in obj):
            assert any(w.startswith(f"{name}: directory bookkeeping not imported") for w in warnings), name
    assert not missing
    assert "SendConnector 'To Internet': property ConnectionInactivityTimeOut = 00:10:00 is not modelled" in warnings


def test_values_that_are_modelled_but_cannot_be_kept_are_warnings_too(imported):
    warnings = imported[1]
    assert any("X500:/o=Contoso" in w and "Mailbox 'Alice Martin'" in w for w in warnings)
    assert any("service Federation is not modelled" in w for w in warnings)
    assert any("ms-Exch-SMTP-Accept-XShadow is not modelled" in w for w in warnings)
    assert any("MaxProtocolErrors Unlimited" in w for w in warnings)
    # an OV certificate's Subject carries L/S/C, which the lab's PKI cannot issue
    assert any("CN=owa.contoso.com, O=Contoso Ltd, L=Redmond" in w and "cannot issue" in w for w in warnings)


def test_exchange_properties_are_mapped_under_their_own_names(imported):
    topology = imported[0]
    ex01 = topology["topology"]["nodes"]["ex01"]
    relay = next(c for c in ex01["receive_connectors"] if c["Name"] == "Relay Printers EX01")
    assert relay["RemoteIPRanges"] == ["192.168.20.31", "192.168.30.0/24"]
    assert relay["Bindings"] == ["0.0.0.0:25"]
    assert relay["MaxMessageSize"] == 26214400
    assert relay["PermissionGroups"] == "AnonymousUsers"
    # the grants PermissionGroups already make are not repeated; the explicit relay grant is kept
    assert relay["ExtendedRights"] == [{"User": "NT AUTHORITY\\ANONYMOUS LOGON",
                                        "ExtendedRights": ["ms-Exch-SMTP-Accept-Any-Recipient"]}]
    hybrid = topology["organizations"]["contoso"]["send_connectors"][0]
    assert hybrid["AddressSpaces"] == ["smtp:contoso.mail.onmicrosoft.com;1"]
    assert hybrid["TlsCertificateName"] == "<I>CN=R11, O=Let's Encrypt, C=US<S>CN=mail.contoso.com"
    assert hybrid["SourceTransportServers"] == ["ex01", "ex02"]
    assert hybrid["MaxMessageSize"] == 36700160


def test_invented_addresses_are_marked_and_real_ones_are_not(imported):
    lines = imported[2].read_text(encoding="utf-8").splitlines()
    assert all(INVENTED_NOTE in line for line in lines if "10.200.0.10" in line)
    assert any("198.51.100.10" in line and INVENTED_NOTE in line for line in lines)
    assert all(INVENTED_NOTE not in line for line in lines if "192.168.20.31" in line)


# --- the imported world behaves as the org would --------------------------------------------------------

def test_the_scanner_lands_on_the_relay_connector_and_may_relay(world, imported):
    topo = imported[3]
    sender = topo.hosts["relay-printers-ex01-sender"]
    assert topo.network.node(sender.name).addresses == ("192.168.20.31",)
    ex01 = world.server("ex01")
    lan_ip = topo.network.node("ex01").addresses[0]
    chosen = select_receive_connector(ex01.receive_connectors, lan_ip, 25, "192.168.20.31").value
    assert chosen.name == "Relay Printers EX01"
    assert rc.R_ACCEPT_ANY_RECIPIENT in rights_for(chosen, ANONYMOUS)
    other = select_receive_connector(ex01.receive_connectors, lan_ip, 25, "203.0.113.50").value
    assert other.name == "Default Frontend EX01"
    assert rc.R_ACCEPT_ANY_RECIPIENT not in rights_for(other, ANONYMOUS)


def test_the_hybrid_domain_routes_over_the_hybrid_connector_with_its_certificate(world, imported):
    now = imported[3].settings.clock_start
    org = world.org_of("ex01")
    for server in ("EX01", "EX02"):
        chosen = select_send_connector(org.send_connectors, "contoso.mail.onmicrosoft.com", server).result
        assert chosen.name.startswith("Outbound to Office 365")
        cert = world.server(server.lower()).client_certificate(chosen.tls_certificate_name, now)
        assert cert is not None and cert.facts.issuer == "CN=R11, O=Let's Encrypt, C=US"
    assert select_send_connector(org.send_connectors, "fabrikam.com", "EX01").result.name == "To Internet"


def test_starttls_on_the_hcw_connector_presents_the_named_certificate(world, imported):
    now = imported[3].settings.clock_start
    ex01 = world.server("ex01")
    frontend = next(c for c in ex01.receive_connectors if c.name == "Default Frontend EX01")
    cert = ex01.starttls_certificate(frontend, now)
    assert cert.facts.subject == "CN=mail.contoso.com"
    assert set(cert.facts.san_dns) == {"mail.contoso.com", "autodiscover.contoso.com"}


def test_public_dns_points_the_hybrid_domain_at_eop_and_the_smart_host_at_the_firewall(world):
    mx = world.zones.answer("contoso.com", "MX").answer
    assert [r.value for r in mx] == [(0, "contoso-com.mail.protection.outlook.com")]
    eop = world.zones.answer("contoso-com.mail.protection.outlook.com", "A").answer
    assert [r.value for r in eop] == ["40.107.22.10"]
    smart_host = world.zones.answer("mail.contoso.com", "A").answer
    assert [r.value for r in smart_host] == ["198.51.100.10"]
    coexistence = world.zones.answer("contoso.mail.onmicrosoft.com", "MX").answer
    assert [r.value for r in coexistence] == [(0, "contoso.mail.protection.outlook.com")]


def test_the_tenant_keeps_the_hcw_connectors(world):
    tenant = world.tenants["contoso"]
    inbound = tenant.inbound_connectors[0]
    assert inbound.is_on_premises and inbound.tls_sender_certificate_name == "mail.contoso.com"
    outbound = tenant.outbound_connectors[0]
    assert outbound.smart_hosts == ("mail.contoso.com",) and outbound.tls_settings == "DomainValidation"
    assert tenant.mail_user_for("alice@contoso.com") is not None


# --- bad input: a ConfigError naming the file (and the JSON path) ---------------------------------------

def test_broken_json_names_the_file_and_line(tmp_path):
    folder = _copy(tmp_path)
    (folder / "send-connectors.json").write_text('[\n  {"Name": "To Internet",\n  "Port": 25\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        import_directory(folder)
    assert info.value.place.file.endswith("send-connectors.json")
    assert info.value.place.line is not None and "not valid JSON" in info.value.message


def test_an_unreadable_value_names_the_json_path(tmp_path):
    folder = _copy(tmp_path)
    data = _load(folder / "send-connectors.json")
    data[1]["MaxMessageSize"] = "a lot"
    (folder / "send-connectors.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        import_directory(folder)
    assert info.value.place.file.endswith("send-connectors.json")
    assert info.value.place.path == "$[1].MaxMessageSize"


def test_a_value_the_model_refuses_names_the_json_path(tmp_path):
    folder = _copy(tmp_path)
    data = _load(folder / "receive-connectors.json")
    data[-1]["PermissionGroups"] = "AnonymousUsers, Everyone"
    (folder / "receive-connectors.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        import_directory(folder)
    assert info.value.place.path == f"$[{len(data) - 1}].PermissionGroups"
    assert "AnonymousUsers" in info.value.allowed


def test_an_unknown_enum_number_is_an_error_not_a_guess(tmp_path):
    folder = _copy(tmp_path)
    data = _load(folder / "accepted-domains.json")
    data[0]["DomainType"] = 7
    (folder / "accepted-domains.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        import_directory(folder)
    assert info.value.place.path == "$[0].DomainType" and "unknown" in info.value.message


def test_a_directory_without_collection_files_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="no collection files"):
        import_directory(tmp_path)


def test_a_default_connector_missing_from_the_export_is_disabled_with_a_warning(tmp_path):
    folder = _copy(tmp_path)
    data = [c for c in _load(folder / "receive-connectors.json") if c["Name"] != "Client Proxy EX02"]
    (folder / "receive-connectors.json").write_text(json.dumps(data), encoding="utf-8")
    topology, warnings = import_directory(folder)
    overrides = topology["topology"]["nodes"]["ex02"]["receive_connectors"]
    assert {"Name": "Client Proxy EX02", "Enabled": False} in overrides
    assert any("'Client Proxy EX02'" in w and "disabled" in w for w in warnings)


# --- the shapes the same property takes -----------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("36 MB (37,748,736 bytes)", 37748736), (37748736, 37748736), ("36MB", 37748736),
    ({"IsUnlimited": False, "Value": "35 MB (36,700,160 bytes)"}, 36700160),
    ({"IsUnlimited": True, "Value": None}, "Unlimited"), ("Unlimited", "Unlimited"),
])
def test_sizes(value, expected):
    assert M.size(value) == expected


@pytest.mark.parametrize("prop, number, expected", [
    ("PermissionGroups", 1 | 4 | 8, "AnonymousUsers, ExchangeServers, ExchangeLegacyServers"),
    ("AuthMechanism", 1, "Tls"), ("DomainType", 2, "InternalRelay"), ("Services", 8 | 16, "IIS, SMTP"),
    ("TransportRole", 16384, "FrontendTransport"),
])
def test_enum_numbers_are_decoded(prop, number, expected):
    assert M.enum_value(prop)(number) == expected


def test_enum_names_are_kept():
    assert M.enum_value("AuthMechanism")("Tls, BasicAuth") == "Tls, BasicAuth"
    with pytest.raises(M.ImportValueError):
        M.enum_value("PermissionGroups")(1024)


@pytest.mark.parametrize("value, expected", [
    ("/Date(1767225600000)/", "2026-01-01T00:00:00+00:00"), ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00"),
    ({"value": "/Date(1767225600000)/", "DisplayHint": 2}, "2026-01-01T00:00:00+00:00"),
])
def test_dates(value, expected):
    assert M.date(value).isoformat() == expected


def test_addresses_ranges_and_identities():
    assert M.binding({"Address": {"IPAddressToString": "::"}, "Port": 25}) == "[::]:25"
    assert M.binding("0.0.0.0:587") == "0.0.0.0:587"
    assert M.ip_range({"LowerBound": "10.0.0.1", "UpperBound": "10.0.0.9", "RangeFormat": "LoHi"}) == "10.0.0.1-10.0.0.9"
    assert M.ip_text({"Address": 16885952, "AddressFamily": 2}) == "192.168.1.1"
    assert M.address_space({"Address": "*", "Type": "SMTP", "Cost": 5}) == "SMTP:*;5"
    assert M.identity({"Name": "EX01", "DistinguishedName": "CN=EX01,..."}) == "EX01"
    assert M.tls_certificate_name({"CertificateIssuer": "CN=CA", "CertificateSubject": "CN=x"}) == "<I>CN=CA<S>CN=x"
    assert M.version_build("Version 15.2 (Build 1544.4)") == (2019, "15.2.1544.4")


def test_utf16_files_are_read(imported):
    # receive-connector-permissions.json is UTF-16 LE with a BOM, as Windows PowerShell's `>` writes it
    assert (CONTOSO / "receive-connector-permissions.json").read_bytes()[:2] == b"\xff\xfe"
    relay = next(c for c in imported[3].hosts["ex01"].receive_connector_overrides if c["Name"] == "Relay Printers EX01")
    assert relay["ExtendedRights"]


# --- the command ----------------------------------------------------------------------------------------

def test_cli_writes_a_valid_file_and_prints_warnings(tmp_path):
    out = tmp_path / "t.yaml"
    result = CliRunner().invoke(import_command, [str(CONTOSO), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning: SendConnector 'To Internet': property ConnectionInactivityTimeOut" in result.output
    load_topology(out)
    again = CliRunner().invoke(import_command, [str(CONTOSO), "-o", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    assert CliRunner().invoke(import_command, [str(CONTOSO), "-o", str(out), "--force"]).exit_code == 0


def test_cli_reports_bad_input_without_a_traceback(tmp_path):
    folder = _copy(tmp_path)
    (folder / "certificates.json").write_text("{ not json", encoding="utf-8")
    out = tmp_path / "t.yaml"
    result = CliRunner().invoke(import_command, [str(folder), "-o", str(out)])
    assert result.exit_code == 2
    assert "certificates.json" in result.output and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit) and not out.exists()
