"""Unit tests of lab.core.dns: records, zones, authoritative answers and MX resolution (pure)."""
from __future__ import annotations

import pytest

from lab.core.dns import (
    MX_LOOPBACK, NO_RECORDS, NON_EXISTENT_DOMAIN, NULL_MX, SERVER_FAILURE, TIMEOUT, HostResolution,
    MxResolution, Record, Soa, Target, Zone, ZoneSet, must_truncate, normalise_name, ptr_name, resolve_host,
    resolve_mx, udp_limit)
from lab.core.errors import ConfigError, Place


def zones() -> ZoneSet:
    return ZoneSet((
        Zone("xutonglin.com", (
            Record("xutonglin.com", "MX", (10, "mail.xutonglin.com")),
            Record("mail.xutonglin.com", "A", "127.0.10.1"),
            Record("www.xutonglin.com", "CNAME", "mail.xutonglin.com"),
            Record("host.sub.xutonglin.com", "A", "127.0.10.2"),
            Record("xutonglin.com", "TXT", "v=spf1 -all"),
        ), Soa("ns1.xutonglin.com", "hostmaster.xutonglin.com", 7, 3600, 600, 86400, 120)),
        Zone("contoso.com", (
            Record("contoso.com", "MX", (20, "b.contoso.com")),
            Record("contoso.com", "MX", (10, "z.contoso.com")),
            Record("contoso.com", "MX", (20, "a.contoso.com")),
            Record("contoso.com", "MX", (30, "noaddr.contoso.com")),
            Record("a.contoso.com", "A", "127.0.20.1"),
            Record("b.contoso.com", "A", "127.0.20.2"),
            Record("b.contoso.com", "A", "127.0.20.3"),
            Record("z.contoso.com", "A", "127.0.20.9"),
            Record("noaddr.contoso.com", "TXT", "no address here"),
        )),
        Zone("implicit.test", (Record("implicit.test", "A", "127.0.30.1"),)),
        Zone("nullmx.test", (Record("nullmx.test", "MX", (0, ".")),)),
        Zone("alias.test", (Record("to.alias.test", "CNAME", "xutonglin.com"),
                            Record("loop1.alias.test", "CNAME", "loop2.alias.test"),
                            Record("loop2.alias.test", "CNAME", "loop1.alias.test"),
                            Record("dangling.alias.test", "CNAME", "gone.xutonglin.com"))),
        Zone("nomail.test", (Record("nomail.test", "MX", (10, "ghost.nomail.test")),
                             Record("nomail.test", "MX", (20, "bare.nomail.test")),
                             Record("bare.nomail.test", "TXT", "x"))),
        Zone("0.0.127.in-addr.arpa", (Record(ptr_name("127.0.0.5"), "PTR", "mail.xutonglin.com"),)),
    ))


# ---- records ---------------------------------------------------------------------------------

def test_names_are_normalised():
    rec = Record("Mail.Contoso.COM.", "a", "127.0.0.1", 60)
    assert (rec.name, rec.rtype, rec.value, rec.ttl) == ("mail.contoso.com", "A", "127.0.0.1", 60)
    assert Record("contoso.com", "MX", (5, "Mail.Contoso.com.")).value == (5, "mail.contoso.com")
    assert Record("_dmarc.contoso.com", "TXT", "v=DMARC1; p=reject").name == "_dmarc.contoso.com"
    assert normalise_name(".", root_ok=True) == ""
    assert str(Record("contoso.com", "MX", (0, "."))) == "contoso.com 3600 IN MX 0 ."


@pytest.mark.parametrize("name,rtype,value,message", [
    ("mail.contoso.com", "A", "300.1.1.1", "'300.1.1.1' is not an IPv4 address"),
    ("mail.contoso.com", "A", "1.2.3", "'1.2.3' is not an IPv4 address"),
    ("contoso.com", "MX", (70000, "mail.contoso.com"), "MX preference 70000 must be a whole number from 0 to 65535"),
    ("contoso.com", "MX", (-1, "mail.contoso.com"), "MX preference -1 must be a whole number from 0 to 65535"),
    ("contoso.com", "MX", "mail.contoso.com", "MX value must be (preference, exchange)"),
    ("contoso.com", "MX", (10, "bad_-.contoso.com."), "MX exchange 'bad_-.contoso.com.' has an invalid label 'bad_-'"),
    ("-bad.contoso.com", "A", "1.2.3.4", "record name '-bad.contoso.com' has an invalid label '-bad'"),
    ("a..contoso.com", "A", "1.2.3.4", "record name 'a..contoso.com' has an invalid label ''"),
    ("", "A", "1.2.3.4", "record name is empty"),
    ("www.contoso.com", "CNAME", "has space.com", "CNAME target 'has space.com' has an invalid label 'has space'"),
    ("contoso.com", "TXT", 5, "TXT value must be text"),
    ("contoso.com", "SOA", ("a", "b", 1), "SOA value must be"),
])
def test_bad_values_are_config_errors_with_place(name, rtype, value, message):
    place = Place(file="topology.yaml", line=12)
    with pytest.raises(ConfigError) as info:
        Record(name, rtype, value, place=place)
    assert message in info.value.message
    assert str(info.value).startswith("topology.yaml:12: ")


def test_unknown_type_and_bad_ttl():
    with pytest.raises(ConfigError) as info:
        Record("contoso.com", "AAAA", "::1")
    assert info.value.allowed == ("A", "MX", "CNAME", "TXT", "PTR", "SOA", "NS")
    with pytest.raises(ConfigError, match="TTL -5 must be a whole number"):
        Record("contoso.com", "A", "1.2.3.4", -5)
    with pytest.raises(ConfigError, match="is longer than 253"):
        normalise_name("a." * 127 + "com")


def test_ptr_name():
    assert ptr_name("192.0.2.10") == "10.2.0.192.in-addr.arpa"
    with pytest.raises(ConfigError):
        ptr_name("example.com")


# ---- zones: immutable edits ------------------------------------------------------------------

def test_zone_edits_return_new_objects_and_bump_the_serial():
    zone = Zone("contoso.com")
    assert zone.soa == Soa("ns1.contoso.com", "hostmaster.contoso.com", 1, 3600, 600, 86400, 300)
    bigger = zone.with_record(Record("mail.contoso.com", "A", "127.0.0.9"))
    assert zone.records == () and len(bigger.records) == 1 and bigger.soa.serial == 2
    smaller = bigger.without_record("MAIL.contoso.com.", "a")
    assert smaller.records == () and smaller.soa.serial == 3
    with pytest.raises(Exception):
        zone.origin = "x.com"  # frozen


def test_zone_edit_errors():
    zone = Zone("contoso.com", (Record("mail.contoso.com", "A", "127.0.0.9"),))
    with pytest.raises(ConfigError, match="record already exists: mail.contoso.com A 127.0.0.9"):
        zone.with_record(Record("mail.contoso.com", "A", "127.0.0.9"))
    with pytest.raises(ConfigError, match="fabrikam.com is outside the zone contoso.com"):
        zone.with_record(Record("fabrikam.com", "A", "127.0.0.9"))
    with pytest.raises(ConfigError, match="a CNAME cannot sit beside other data"):
        zone.with_record(Record("mail.contoso.com", "CNAME", "other.contoso.com"))
    with pytest.raises(ConfigError, match="a CNAME cannot sit beside other data"):
        zone.with_record(Record("contoso.com", "CNAME", "other.contoso.com"))
    aliased = zone.with_record(Record("www.contoso.com", "CNAME", "mail.contoso.com"))
    with pytest.raises(ConfigError, match="www.contoso.com is a CNAME: it cannot have other records"):
        aliased.with_record(Record("www.contoso.com", "TXT", "x"))
    with pytest.raises(ConfigError, match="no such record in contoso.com: mail.contoso.com A 127.0.0.1"):
        zone.without_record("mail.contoso.com", "A", "127.0.0.1")
    with pytest.raises(ConfigError, match="give the SOA as the zone's soa"):
        zone.with_record(Record("contoso.com", "SOA", ("a.b", "c.d", 1, 2, 3, 4, 5)))


def test_without_record_by_value_keeps_the_others():
    zs = zones().without_record("b.contoso.com", "A", "127.0.20.2")
    assert [r.value for r in zs.records("b.contoso.com", "A")] == ["127.0.20.3"]
    assert len(zones().records("b.contoso.com", "A")) == 2  # the original is untouched


def test_zoneset_longest_match_and_edits():
    zs = ZoneSet((Zone("contoso.com"), Zone("eu.contoso.com")))
    assert zs.zone_for("mail.eu.contoso.com").origin == "eu.contoso.com"
    assert zs.zone_for("Mail.Contoso.com.").origin == "contoso.com"
    assert zs.zone_for("contoso.org") is None and zs.zone_for("xcontoso.com") is None
    added = zs.with_record(Record("mx.eu.contoso.com", "A", "127.0.0.2"))
    assert added.zone_for("eu.contoso.com").records[0].name == "mx.eu.contoso.com"
    assert zs.records() == ()
    with pytest.raises(ConfigError, match="no zone of the lab contains mail.fabrikam.com"):
        zs.with_record(Record("mail.fabrikam.com", "A", "127.0.0.2"))
    with pytest.raises(ConfigError, match="zone contoso.com is defined more than once"):
        zs.with_zone(Zone("contoso.com"))
    with pytest.raises(ConfigError, match="belongs to the more specific zone eu.contoso.com"):
        ZoneSet((Zone("contoso.com", (Record("x.eu.contoso.com", "A", "1.2.3.4"),)), Zone("eu.contoso.com")))
    assert [z.origin for z in zs.without_zone("EU.contoso.com").zones] == ["contoso.com"]
    with pytest.raises(ConfigError, match="no zone fabrikam.com"):
        zs.without_zone("fabrikam.com")


# ---- authoritative answers -------------------------------------------------------------------

def test_positive_answer_is_authoritative():
    ans = zones().answer("XUTONGLIN.com.", "mx")
    assert ans.rcode == "NOERROR" and ans.authoritative and ans.authority == ()
    assert ans.answer == (Record("xutonglin.com", "MX", (10, "mail.xutonglin.com")),)


def test_nxdomain_carries_the_soa_with_negative_ttl():
    ans = zones().answer("nope.xutonglin.com", "A")
    assert (ans.rcode, ans.answer, ans.authoritative) == ("NXDOMAIN", (), True)
    (soa,) = ans.authority
    assert soa.rtype == "SOA" and soa.name == "xutonglin.com" and soa.value.serial == 7
    assert soa.ttl == 120  # RFC 2308: min(SOA TTL, minimum)


def test_nodata_when_the_name_exists_without_that_type():
    ans = zones().answer("mail.xutonglin.com", "MX")
    assert ans.rcode == "NOERROR" and ans.answer == () and ans.authority[0].rtype == "SOA"
    assert zones().answer("mail.xutonglin.com", "AAAA").rcode == "NOERROR"


def test_empty_non_terminal_is_nodata_not_nxdomain():
    ans = zones().answer("sub.xutonglin.com", "A")
    assert ans.rcode == "NOERROR" and ans.answer == () and ans.authority[0].rtype == "SOA"
    assert zones().answer("other.sub.xutonglin.com", "A").rcode == "NXDOMAIN"


def test_cname_is_chased_in_zone():
    ans = zones().answer("www.xutonglin.com", "A")
    assert ans.rcode == "NOERROR"
    assert [(r.name, r.rtype, r.value) for r in ans.answer] == [
        ("www.xutonglin.com", "CNAME", "mail.xutonglin.com"), ("mail.xutonglin.com", "A", "127.0.10.1")]
    only = zones().answer("www.xutonglin.com", "CNAME")
    assert [r.rtype for r in only.answer] == ["CNAME"]


def test_cname_chain_ending_nowhere_is_nxdomain_of_the_target():
    ans = zones().answer("dangling.alias.test", "A")
    assert ans.rcode == "NXDOMAIN" and [r.rtype for r in ans.answer] == ["CNAME"]
    assert ans.authority[0].name == "xutonglin.com"


def test_cname_loop_stops():
    ans = zones().answer("loop1.alias.test", "A")
    assert ans.rcode == "NOERROR" and [r.value for r in ans.answer] == ["loop2.alias.test", "loop1.alias.test"]


def test_outside_every_zone_is_refused_and_not_authoritative():
    ans = zones().answer("example.org", "A")
    assert ans == type(ans)("REFUSED", (), (), False)


def test_soa_and_any_at_the_apex():
    soa = zones().answer("xutonglin.com", "SOA")
    assert soa.answer[0].rtype == "SOA" and soa.answer[0].value.serial == 7
    every = zones().answer("xutonglin.com", "ANY")
    assert [r.rtype for r in every.answer] == ["SOA", "MX", "TXT"]


def test_reverse_zone_answers_ptr():
    ans = zones().answer(ptr_name("127.0.0.5"), "PTR")
    assert ans.answer[0].value == "mail.xutonglin.com"


# ---- truncation decision ---------------------------------------------------------------------

def test_truncation_limits():
    assert udp_limit(None) == 512 and udp_limit(1232) == 1232 and udp_limit(100) == 512 and udp_limit(65000) == 4096
    assert not must_truncate(512, None) and must_truncate(513, None)
    assert not must_truncate(1000, 1232) and must_truncate(1233, 1232)


# ---- MX resolution (RFC 5321 §5.1) ------------------------------------------------------------

def test_mx_resolution_and_trace():
    res = resolve_mx(zones(), "xutonglin.com")
    assert res.ok and res.targets == (Target("mail.xutonglin.com", 10, ("127.0.10.1",)),)
    assert res.steps == ("MX xutonglin.com -> NOERROR 10 mail.xutonglin.com",
                         "A mail.xutonglin.com -> NOERROR 127.0.10.1",
                         "result: 10 mail.xutonglin.com [127.0.10.1]")


def test_mx_order_by_preference_then_host_and_unusable_skipped():
    res = resolve_mx(zones(), "contoso.com")
    assert [(t.preference, t.host) for t in res.targets] == [(10, "z.contoso.com"), (20, "a.contoso.com"),
                                                             (20, "b.contoso.com")]
    assert res.targets[2].addresses == ("127.0.20.2", "127.0.20.3")
    assert res.addresses == ("127.0.20.9", "127.0.20.1", "127.0.20.2", "127.0.20.3")
    assert "noaddr.contoso.com has no A record: noaddr.contoso.com skipped" in res.steps


def test_nxdomain_is_an_error():
    res = resolve_mx(zones(), "nope.xutonglin.com")
    assert (res.error, res.targets) == (NON_EXISTENT_DOMAIN, ())
    assert res.steps[-1] == "result: NonExistentDomain"


def test_implicit_mx():
    res = resolve_mx(zones(), "implicit.test")
    assert res.targets == (Target("implicit.test", 0, ("127.0.30.1",)),)
    assert "no MX records: implicit MX 0 implicit.test (RFC 5321 §5.1)" in res.steps


def test_implicit_mx_without_address_is_no_records():
    res = resolve_mx(zones(), "sub.xutonglin.com")
    assert res.error == NO_RECORDS


def test_null_mx():
    res = resolve_mx(zones(), "nullmx.test")
    assert res.error == NULL_MX and "null MX (RFC 7505): nullmx.test accepts no mail" in res.steps


def test_null_mx_beside_others_is_ignored():
    zs = zones().with_record(Record("nullmx.test", "MX", (10, "mail.xutonglin.com")))
    res = resolve_mx(zs, "nullmx.test")
    assert [t.host for t in res.targets] == ["mail.xutonglin.com"]


def test_mx_targets_without_addresses_are_no_records():
    res = resolve_mx(zones(), "nomail.test")
    assert res.error == NO_RECORDS
    assert "ghost.nomail.test does not exist: ghost.nomail.test skipped" in res.steps
    assert "bare.nomail.test has no A record: bare.nomail.test skipped" in res.steps


def test_cname_domain_is_followed():
    res = resolve_mx(zones(), "to.alias.test")
    assert res.targets == (Target("mail.xutonglin.com", 10, ("127.0.10.1",)),)
    assert res.steps[0] == "MX to.alias.test -> NOERROR CNAME xutonglin.com, 10 mail.xutonglin.com"


def test_cname_loop_is_mx_loopback():
    assert resolve_mx(zones(), "loop1.alias.test").error == MX_LOOPBACK


def test_self_pruning_with_local_hosts():
    res = resolve_mx(zones(), "contoso.com", local_hosts=["A.contoso.com"])
    assert [t.host for t in res.targets] == ["z.contoso.com"]
    assert resolve_mx(zones(), "contoso.com", local_hosts=["z.contoso.com"]).error == MX_LOOPBACK


def test_outside_zones_is_server_failure():
    assert resolve_mx(zones(), "example.org").error == SERVER_FAILURE


def test_driving_by_hand_timeouts_and_wrong_answers():
    res = MxResolution("contoso.com")
    assert res.next_query() == ("contoso.com", "MX")
    with pytest.raises(ValueError):
        res.feed("fabrikam.com", "MX", "NOERROR", ())
    res.feed("contoso.com", "MX", "NOERROR", (Record("contoso.com", "MX", (10, "a.contoso.com")),
                                              Record("contoso.com", "MX", (20, "b.contoso.com"))))
    assert res.next_query() == ("a.contoso.com", "A")
    res.feed("a.contoso.com", "A", "TIMEOUT", ())
    res.feed("b.contoso.com", "A", "NOERROR", (Record("b.contoso.com", "A", "127.0.0.2"),))
    assert res.next_query() is None and [t.host for t in res.result.targets] == ["b.contoso.com"]
    assert "A a.contoso.com -> no reply (timeout)" in res.result.steps
    with pytest.raises(ValueError):
        res.feed("b.contoso.com", "A", "NOERROR", ())


def test_all_targets_failing_transiently_is_that_error():
    res = MxResolution("contoso.com")
    res.feed("contoso.com", "MX", "NOERROR", (Record("contoso.com", "MX", (10, "a.contoso.com")),))
    res.feed("a.contoso.com", "A", "TIMEOUT", ())
    assert res.result.error == TIMEOUT
    first = MxResolution("contoso.com")
    first.feed("contoso.com", "MX", "SERVFAIL", ())
    assert first.result.error == SERVER_FAILURE


def test_host_resolution():
    assert resolve_host(zones(), "www.xutonglin.com").targets == (Target("www.xutonglin.com", 0, ("127.0.10.1",)),)
    assert resolve_host(zones(), "nope.xutonglin.com").error == NON_EXISTENT_DOMAIN
    assert resolve_host(zones(), "noaddr.contoso.com").error == NO_RECORDS
    host = HostResolution("smart.contoso.com")
    host.feed("smart.contoso.com", "A", "TIMEOUT", ())
    assert host.result.error == TIMEOUT
