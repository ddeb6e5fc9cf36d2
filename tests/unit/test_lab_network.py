"""Get-/Remove-/Add-LabPublishingRule: TMG's SMTP publishing rule of article 003 over World.network."""
from __future__ import annotations

import pytest

from cmdlets_support import console
from lab.console.cmdlets.lab_network import parse_endpoint
from lab.core.catalogue import lab as L

RULE = "SMTP Server Publishing"
ADD = f'Add-LabPublishingRule -Firewall tmg -Name "{RULE}" -External 100.100.100.254:25 -Internal 192.168.8.10:25'


def test_lists_the_firewalls_rules():
    c = console("contoso-ex")
    text = c.run("Get-LabPublishingRule -Firewall tmg").output_text
    assert RULE in text and "100.100.100.254:25" in text and "192.168.8.10:25" in text and "Internet Access" in text
    everything = c.run("Get-LabPublishingRule").output_text
    assert "office26-fw" in everything and "ixmsoft-fw" in everything


def test_removing_the_rule_unpublishes_xutonglin_and_adding_it_back_publishes_it_again():
    c = console("contoso-ex")
    network = c.host.world.network
    assert network.connect("contoso-ex", "100.100.100.254", 25).dest_node == "xutonglin-ex"
    assert not c.run(f'Remove-LabPublishingRule -Firewall tmg -Name "{RULE}"').errors
    removed = c.host.world.network
    assert RULE not in [r.name for r in removed.node("tmg").nat]
    assert removed.connect("contoso-ex", "100.100.100.254", 25).dest_node == "tmg"  # TMG itself, nothing behind
    assert not c.run(ADD).errors
    rule = next(r for r in c.host.world.network.node("tmg").nat if r.name == RULE)
    assert (rule.type, rule.external_ip, rule.external_port, rule.internal_ip, rule.internal_port) == \
        ("publish", "100.100.100.254", 25, "192.168.8.10", 25)
    route = c.host.world.network.connect("contoso-ex", "100.100.100.254", 25)
    assert route.ok and route.dest_node == "xutonglin-ex"


def test_refusals_leave_the_world_unchanged():
    c = console("contoso-ex")
    before = c.host.world
    dup = c.run(ADD).errors
    assert dup and L.PUBLISHING_RULE_EXISTS.format(firewall="tmg", name=RULE) in dup[0]
    missing = c.run('Remove-LabPublishingRule -Firewall tmg -Name "Web Publishing"').errors
    assert missing and L.PUBLISHING_RULE_MISSING.format(firewall="tmg", name="Web Publishing") in missing[0]
    not_fw = c.run('Remove-LabPublishingRule -Firewall ex01 -Name x').errors
    assert not_fw and L.NOT_A_FIREWALL.format(name="ex01", names="ixmsoft-fw, office26-fw, tmg") in not_fw[0]
    bad = c.run('Add-LabPublishingRule -Firewall tmg -Name x -External 100.100.100.254 -Internal 192.168.8.10:25')
    assert bad.errors and L.BAD_ENDPOINT.format(value="100.100.100.254") in bad.errors[0]
    nowhere = c.run('Add-LabPublishingRule -Firewall tmg -Name x -External 100.100.100.254:26 -Internal 10.99.8.10:25')
    assert nowhere.errors
    assert c.host.world is before


@pytest.mark.parametrize("text", ["100.100.100.254", "100.100.100.254:0", "100.100.100.254:70000", "host:25",
                                  "100.100.100.254:smtp", ":25"])
def test_bad_endpoints(text):
    with pytest.raises(ValueError):
        parse_endpoint(text)


def test_good_endpoint():
    assert parse_endpoint(" 100.100.100.254:25 ") == ("100.100.100.254", 25)
