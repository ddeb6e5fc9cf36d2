"""DnsServer cmdlets: article 003's record changes on the lab's public DNS."""
from __future__ import annotations

from cmdlets_support import console


def test_article_003_mx_records_removed_and_added_back():
    c = console()
    assert not c.run('Remove-DnsServerResourceRecord -ZoneName contoso.com -Name "@" -RRType MX -Force').errors
    assert c.run("Resolve-DnsName contoso.com -Type MX").objects == []
    assert not c.run('Add-DnsServerResourceRecordMX -ZoneName contoso.com -Name "@" '
                     "-MailExchange mail.contoso.com -Preference 10").errors
    out = c.run("Resolve-DnsName contoso.com -Type MX").output_text
    assert "contoso.com MX   3600 Answer  mail.contoso.com         10" in out
    assert len(c.lines) == 2


def test_duplicate_record_and_unknown_zone_change_nothing():
    c = console()
    before = c.host.world
    result = c.run("Add-DnsServerResourceRecordA -ZoneName contoso.com -Name mail -IPv4Address 100.100.100.10")
    assert result.errors[0].startswith("Add-DnsServerResourceRecordA : Failed to create resource record mail in "
                                       "contoso.com zone on server DNS01.")
    assert c.run("Add-DnsServerResourceRecordA -ZoneName nowhere.example -Name x -IPv4Address 1.2.3.4").errors
    assert c.host.world is before


def test_resolve_nxdomain():
    result = console().run("Resolve-DnsName nope.contoso.com")
    assert result.errors[0].startswith("Resolve-DnsName : nope.contoso.com : DNS name does not exist")
