"""lab export: a changed World back to a topology file that loads to the same configuration."""
from __future__ import annotations

from cmdlets_support import base, console

from lab.core.world import World
from lab.topology.export import export_yaml, receive_connector_overrides, same_configuration
from lab.topology.load import load_topology

ARTICLE_004 = [
    'New-ReceiveConnector -Name "ANONYMOUS RELAY MAIL1" -TransportRole FrontendTransport -Custom '
    "-Bindings 0.0.0.0:25 -RemoteIPRanges 192.168.0.3",
    'Set-ReceiveConnector "ANONYMOUS RELAY MAIL1" -PermissionGroups AnonymousUsers',
    "Get-ReceiveConnector \"ANONYMOUS RELAY MAIL1\" | Add-ADPermission -User 'NT AUTHORITY\\Anonymous Logon' "
    "-ExtendedRights MS-Exch-SMTP-Accept-Any-Recipient",
    "New-AcceptedDomain -Name partner -DomainName partner.office26.com",
]


def reload(world: World, tmp_path) -> World:
    path = tmp_path / "exported.yaml"
    path.write_text(export_yaml(world), encoding="utf-8")
    topology = load_topology(path)
    _, pki = base()
    return World.from_topology(topology, {c.name: pki.certificate(c.name).facts for c in topology.pki.certificates})


def test_the_default_world_exports_to_itself(tmp_path):
    world, _ = base()
    assert same_configuration(reload(world, tmp_path), world) == []


def test_article_004_changes_survive_export(tmp_path):
    c = console("mail1")
    for line in ARTICLE_004:
        assert not c.run(line).errors
    changed = c.host.world
    again = reload(changed, tmp_path)
    assert same_configuration(again, changed) == []
    assert same_configuration(again, base()[0]) == ["organizations", "server mail1"]
    relay = next(cn for cn in again.server("mail1").receive_connectors if cn.name == "ANONYMOUS RELAY MAIL1")
    assert relay.permission_groups == ("AnonymousUsers",)


def test_tenant_connectors_survive_export(tmp_path):
    c = console("ex01")
    c.run("Connect-ExchangeOnline")
    assert not c.run('Set-OutboundConnector "Outbound to*" -TlsSettings $null -TlsDomain $null').errors
    again = reload(c.host.world, tmp_path)
    assert same_configuration(again, c.host.world) == []
    assert again.tenants["ixmsoft"].outbound_connectors[0].tls_settings is None


def test_only_changed_properties_of_default_connectors_are_written():
    c = console("mail1")
    assert not c.run('Set-ReceiveConnector "Default Frontend MAIL1" -MaxMessageSize 10MB').errors
    overrides = receive_connector_overrides(c.host.world.server("mail1"))
    frontend = next(o for o in overrides if o["Name"] == "Default Frontend MAIL1")
    assert set(frontend) == {"Name", "MaxMessageSize"}


def test_export_is_yaml_with_exchange_property_names():
    text = export_yaml(base()[0])
    assert "DomainName: ixmsoft.com" in text and "TlsCertificateName:" in text
    assert "CA 沃通免费ssl证书 G2" in text
