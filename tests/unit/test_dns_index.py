"""ZoneSet.zone_for and Zone.records_of look names up in per-object indexes; the plain scans they
replaced are kept here as the oracle, over every name of a set of nested zones (and some outside)."""
from __future__ import annotations

import itertools

from lab.core.dns import Record, Zone, ZoneSet, in_domain
from lab.core.dns_resolution import qname


def scan_zone_for(zoneset: ZoneSet, name: str) -> Zone | None:
    name, best = qname(name), None
    for z in zoneset.zones:
        if in_domain(name, z.origin) and (best is None or len(z.origin) > len(best.origin)):
            best = z
    return best


def scan_records_of(zone: Zone, name: str | None, rtype: str | None) -> tuple[Record, ...]:
    name = None if name is None else qname(name)
    rtype = None if rtype is None else rtype.upper()
    return tuple(r for r in zone.records if (name is None or r.name == name) and (rtype is None or r.rtype == rtype))


def nested() -> ZoneSet:
    return ZoneSet((
        Zone("example", (Record("example", "A", "127.0.0.1"), Record("www.example", "A", "127.0.0.2"))),
        Zone("b.example", (Record("b.example", "MX", (10, "mx.b.example")), Record("mx.b.example", "A", "127.0.0.3"),
                           Record("mx.b.example", "TXT", "t"), Record("x.y.b.example", "A", "127.0.0.4"))),
        Zone("c.b.example", (Record("c.b.example", "A", "127.0.0.5"), Record("d.c.b.example", "CNAME", "example"))),
        Zone("other.test", (Record("other.test", "MX", (0, ".")),)),
    ))


def names_of(zoneset: ZoneSet) -> list[str]:
    found = {r.name for z in zoneset.zones for r in z.records} | {z.origin for z in zoneset.zones}
    extra = ["", "nothing.here", "example.", "WWW.Example", " www.example ", "a.b.c.b.example", "b-example",
             "xb.example", "test", "deep.er.other.test", "in-addr.arpa"]
    return sorted(found) + extra


def test_zone_for_is_the_longest_containing_origin():
    for zoneset in (nested(), ZoneSet(()), ZoneSet((Zone("example", ()),))):
        for name in names_of(zoneset):
            assert zoneset.zone_for(name) is scan_zone_for(zoneset, name), name


def test_records_of_matches_the_scan():
    for zoneset in (nested(),):
        for zone, name, rtype in itertools.product(zoneset.zones, [None] + names_of(zoneset),
                                                   [None, "A", "mx", "TXT", "CNAME", "SOA"]):
            assert zone.records_of(name, rtype) == scan_records_of(zone, name, rtype), (zone.origin, name, rtype)


def test_an_edited_zone_is_indexed_afresh():
    zoneset = nested()
    assert zoneset.zone_for("q.c.b.example").origin == "c.b.example"  # indexes built
    edited = zoneset.without_zone("c.b.example").with_record(Record("new.b.example", "A", "127.0.0.9"))
    assert edited.zone_for("q.c.b.example").origin == "b.example"
    assert edited.zone_for("new.b.example").records_of("new.b.example", "A")[0].value == "127.0.0.9"
    assert zoneset.zone_for("b.example").records_of("new.b.example") == ()
