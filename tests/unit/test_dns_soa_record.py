"""Zone.soa_record is Record(origin, "SOA", soa, soa.minimum), and a negative answer's SOA is what
replace(soa_record, ttl=min(...)) gives: the same values, types and errors on odd zones too."""
from __future__ import annotations

import random
from dataclasses import fields, replace

import pytest

from lab.core.dns import Record, Soa, Zone, ZoneSet
from lab.core.errors import ConfigError


class _Int(int):
    pass


def _shape(make):
    try:
        rec = make()
    except ConfigError as e:
        return ("error", str(e))
    values = tuple(getattr(rec, f.name) for f in fields(rec))
    return ("ok", type(rec), values, tuple(type(v) for v in values),
            tuple(type(getattr(rec.value, f.name)) for f in fields(rec.value)))


def _zones(rng: random.Random):
    origins = ["contoso.com", "Contoso.COM.", "a.com\n.", "x\n.org", "fabrikam.com"]
    names = ["ns1.contoso.com", "NS1.Contoso.com.", "ns.a.com\n.", "h.x.org"]
    minimums = [300, 0, 2**31 - 1, 2**31, 2**32 - 1, _Int(60)]
    while True:
        soa = rng.choice([None, Soa(rng.choice(names), rng.choice(names), rng.randrange(1, 5), 3600, 600, 86400,
                                     rng.choice(minimums)),
                          (rng.choice(names), "h.contoso.com", 2**32 - 1, 1, 2, 3, rng.choice(minimums))])
        try:
            zone = Zone(rng.choice(origins), (), soa)
        except ConfigError:
            continue
        yield zone
        rec = Record(f"www.{zone.origin.rstrip()}", "A", "192.0.2.1")
        try:
            bigger = zone.with_record(rec)
        except ConfigError:
            continue
        yield bigger
        yield bigger.without_record(rec.name, "A")


@pytest.mark.parametrize("seed", range(4))
def test_soa_record_is_the_record_built_from_the_zone(seed: int) -> None:
    rng = random.Random(seed)
    zones = _zones(rng)
    for _ in range(300):
        zone = next(zones)
        assert _shape(lambda: zone.soa_record) == _shape(
            lambda: Record(zone.origin, "SOA", zone.soa, zone.soa.minimum)), zone
        try:
            soa = zone.soa_record
        except ConfigError:
            continue
        assert _shape(lambda: soa) == _shape(lambda: replace(soa, ttl=min(soa.ttl, zone.soa.minimum)))


def test_negative_answer_carries_the_soa_record() -> None:
    zones = ZoneSet((Zone("contoso.com", (Record("www.contoso.com", "A", "192.0.2.1"),), Soa(
        "ns1.contoso.com", "hostmaster.contoso.com", 7, 3600, 600, 86400, 120)),))
    for qname, qtype, rcode in (("nope.contoso.com", "A", "NXDOMAIN"), ("www.contoso.com", "MX", "NOERROR")):
        answer = zones.answer(qname, qtype)
        assert answer.rcode == rcode and answer.answer == ()
        (soa,) = answer.authority
        assert _shape(lambda: soa) == _shape(lambda: Record("contoso.com", "SOA", zones.zones[0].soa, 120))
