"""The lab's public DNS, pure: records, zones, authoritative answers and RFC 5321 MX resolution.

Names are absolute, lower-case and carry no trailing dot (``"Mail.Contoso.com."`` becomes
``"mail.contoso.com"``); the root is ``""`` (shown as ``"."``), which only a null MX points to.

:class:`ZoneSet.answer` is what an authoritative server says (RFC 1034/2308): NXDOMAIN or
NOERROR/NODATA with the zone SOA in AUTHORITY, CNAME chains chased through every zone the
lab serves, REFUSED outside them. :class:`MxResolution` and :class:`HostResolution` are
sans-I/O resolutions: the caller asks :meth:`next_query`, performs it any way it likes and
hands the answer to :meth:`feed` until :attr:`result` is set.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from functools import cached_property

from lab.core.dns_resolution import (  # re-exported: callers import everything DNS from here
    INVALID_DATA, MAX_CNAME_CHAIN, MX_LOOPBACK, NO_RECORDS, NON_EXISTENT_DOMAIN, NULL_MX, SERVER_FAILURE,
    TIMEOUT, HostResolution, MxResolution, MxResult, Target, display, qname as _qname, resolve_host,
    resolve_mx)
from lab.core.errors import ConfigError, Place

RTYPES = ("A", "MX", "CNAME", "TXT", "PTR", "SOA", "NS")
_NAME_VALUED = ("CNAME", "PTR", "NS")
_LABEL = re.compile(r"^(?:[a-z0-9_]|[a-z0-9_][a-z0-9_-]{0,61}[a-z0-9_])$")
DNS_UDP_MIN = 512
DNS_UDP_MAX = 4096  # the largest UDP reply this server sends, whatever a client advertises
_ANSWER_MEMO = 4096  # questions remembered per zone set
_MAX_SERIAL = 2**32 - 1


def normalise_name(name: str, place: Place | None = None, what: str = "name", root_ok: bool = False) -> str:
    """Validate a DNS name and return it absolute, lower-case and without the trailing dot.

    Args:
        name: The name as typed, e.g. ``"Mail.Contoso.com."``.
        place: Where the name came from, for the error.
        what: What the name is, for the error (``"MX exchange"``, ...).
        root_ok: Accept the root ``"."`` (returned as ``""``).

    Raises:
        ConfigError: The name is empty, too long, or has a bad label.
    """
    if not isinstance(name, str):
        raise ConfigError(f"{what} must be a DNS name, not {name!r}", place)
    text = name.strip().lower()
    if text == "." and root_ok:
        return ""
    text = text[:-1] if text.endswith(".") else text
    if not text:
        raise ConfigError(f"{what} is empty", place)
    if len(text) > 253:
        raise ConfigError(f"{what} {name!r} is longer than 253 characters", place)
    for label in text.split("."):
        if not _LABEL.match(label):
            raise ConfigError(f"{what} {name!r} has an invalid label {label!r} "
                              "(letters, digits, '-' and '_', 1-63 characters, no '-' at either end)", place)
    return text


def in_domain(name: str, origin: str) -> bool:
    """True when ``name`` is ``origin`` or below it."""
    return name == origin or not origin or name.endswith("." + origin)


def ptr_name(ip: str) -> str:
    """The reverse-lookup name of an IPv4 address: ``"1.2.3.4"`` -> ``"4.3.2.1.in-addr.arpa"``.

    Raises:
        ConfigError: ``ip`` is not an IPv4 address.
    """
    return _ipv4(ip, None).reverse_pointer


def _ipv4(value: object, place: Place | None) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        raise ConfigError(f"{value!r} is not an IPv4 address (expected four decimal numbers like 192.0.2.10)",
                          place) from None


@dataclass(frozen=True)
class Soa:
    """The fields of an SOA record."""

    mname: str
    rname: str
    serial: int = 1
    refresh: int = 3600
    retry: int = 600
    expire: int = 86400
    minimum: int = 300

    @staticmethod
    def default(origin: str) -> "Soa":
        """The SOA the lab gives a zone that names none: ``ns1.<origin>`` / ``hostmaster.<origin>``."""
        return Soa(f"ns1.{origin}", f"hostmaster.{origin}")


@dataclass(frozen=True)
class Record:
    """One resource record. The value depends on the type.

    - A: ``"192.0.2.10"``
    - MX: ``(preference, exchange)``; the null MX is ``(0, ".")``
    - CNAME, PTR, NS: the target name
    - TXT: the text (any length; it is split into 255-byte strings on the wire)
    - SOA: a :class:`Soa` or the 7-tuple ``(mname, rname, serial, refresh, retry, expire, minimum)``

    Raises:
        ConfigError: Unknown type, or a value that does not fit the type (with ``place``).
    """

    name: str
    rtype: str
    value: object
    ttl: int = 3600
    place: Place | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        p = self.place
        rtype = str(self.rtype).strip().upper()
        if rtype not in RTYPES:
            raise ConfigError(f"unknown record type {self.rtype!r}", p, allowed=RTYPES)
        set_ = object.__setattr__
        set_(self, "rtype", rtype)
        set_(self, "name", normalise_name(self.name, p, "record name"))
        if isinstance(self.ttl, bool) or not isinstance(self.ttl, int) or not 0 <= self.ttl <= 2**31 - 1:
            raise ConfigError(f"TTL {self.ttl!r} must be a whole number of seconds from 0 to 2147483647", p)
        set_(self, "value", _value(rtype, self.value, p))

    def rdata_text(self) -> str:
        """The value as a zone file shows it (``10 mail.contoso.com``, ``"v=spf1 -all"``)."""
        v = self.value
        if self.rtype == "MX":
            return f"{v[0]} {display(v[1])}"
        if self.rtype == "TXT":
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if self.rtype == "SOA":
            return f"{v.mname} {v.rname} {v.serial} {v.refresh} {v.retry} {v.expire} {v.minimum}"
        return str(v)

    def __str__(self) -> str:
        return f"{self.name} {self.ttl} IN {self.rtype} {self.rdata_text()}"


def _number(value: object, low: int, high: int, what: str, place: Place | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{what} {value!r} must be a whole number from {low} to {high}", place)
    return value


def _value(rtype: str, value: object, p: Place | None) -> object:
    if rtype == "A":
        return str(_ipv4(value, p))
    if rtype in _NAME_VALUED:
        return normalise_name(value, p, f"{rtype} target")
    if rtype == "TXT":
        if not isinstance(value, str):
            raise ConfigError(f"TXT value must be text, not {value!r}", p)
        return value
    if rtype == "MX":
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise ConfigError(f"MX value must be (preference, exchange), not {value!r}", p)
        return (_number(value[0], 0, 65535, "MX preference", p),
                normalise_name(value[1], p, "MX exchange", root_ok=True))
    if isinstance(value, (tuple, list)) and len(value) == 7:
        value = Soa(*value)
    if not isinstance(value, Soa):
        raise ConfigError("SOA value must be (mname, rname, serial, refresh, retry, expire, minimum)", p)
    numbers = [_number(getattr(value, f), 0, 2**32 - 1, f"SOA {f}", p)
               for f in ("serial", "refresh", "retry", "expire", "minimum")]
    return Soa(normalise_name(value.mname, p, "SOA mname"), normalise_name(value.rname, p, "SOA rname"), *numbers)


@dataclass(frozen=True)
class Zone:
    """An immutable zone: its origin, its SOA and its records (the SOA is kept apart).

    ``records`` is the tuple of records; :meth:`records_of` filters it (``ZoneSet.records``
    does the same across zones). Edits return a new zone with the SOA serial bumped.

    Raises:
        ConfigError: A record outside the origin, a duplicate, or a CNAME beside other data.
    """

    origin: str
    records: tuple[Record, ...] = ()
    soa: Soa | None = None
    place: Place | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        origin = normalise_name(self.origin, self.place, "zone origin")
        object.__setattr__(self, "origin", origin)
        soa = self.soa or Soa.default(origin)
        object.__setattr__(self, "soa", _value("SOA", soa, self.place))
        records: list[Record] = []
        for rec in self.records:
            self._check(rec, records)
            records.append(rec)
        object.__setattr__(self, "records", tuple(records))

    def _check(self, rec: Record, existing: list[Record] | tuple[Record, ...]) -> None:
        where = rec.place or self.place
        if not in_domain(rec.name, self.origin):
            raise ConfigError(f"{rec.name} is outside the zone {self.origin}", where)
        if rec.rtype == "SOA":
            raise ConfigError(f"zone {self.origin}: give the SOA as the zone's soa, not as a record", where)
        same = [r for r in existing if r.name == rec.name]
        if any(r.rtype == rec.rtype and r.value == rec.value for r in same):
            raise ConfigError(f"record already exists: {rec.name} {rec.rtype} {rec.rdata_text()}", where)
        if rec.rtype == "CNAME" and (same or rec.name == self.origin):
            raise ConfigError(f"{rec.name} already has records (or is the zone apex): a CNAME cannot sit "
                              "beside other data", where)
        if any(r.rtype == "CNAME" for r in same):
            raise ConfigError(f"{rec.name} is a CNAME: it cannot have other records", where)

    @property
    def soa_record(self) -> Record:
        """The SOA as a record at the apex (``Record(self.origin, "SOA", self.soa, self.soa.minimum)``)."""
        soa = self.soa
        minimum = soa.minimum
        if (type(self) is not Zone or type(soa) is not Soa or type(minimum) is not int or not 0 <= minimum <= 2**31 - 1
                or self.origin[-1:] == "\n" or soa.mname[-1:] == "\n" or soa.rname[-1:] == "\n"):
            return Record(self.origin, "SOA", soa, minimum)  # (raises what it raises)
        # What Record.__post_init__ would find: __post_init__ (or _bumped) of this zone normalised the
        # origin and the SOA (names that normalise_name gives back as they are unless they end with a
        # newline its label pattern lets through, numbers in range), and the TTL is in range: the
        # record holds the same values. (tests/unit/test_dns_soa_record.py holds it to Record.)
        rec = object.__new__(Record)
        rec.__dict__.update(name=self.origin, rtype="SOA", value=soa, ttl=minimum, place=None)
        return rec

    def _bumped(self, records: tuple[Record, ...]) -> "Zone":
        """This zone with ``records`` (this zone's records with one more that passed :meth:`_check`
        against them, or some of them) and the SOA serial bumped."""
        soa = self.soa
        serial = soa.serial + 1
        if type(self) is not Zone or type(soa) is not Soa or serial > _MAX_SERIAL:
            return replace(self, records=records, soa=replace(soa, serial=serial))  # (raises what it raises)
        # What __post_init__ would find: the origin and the SOA names are normalised already, the
        # serial is in range, and each record passed _check against the ones before it when this
        # zone was built (or when it was added): removing records or adding a checked one at the
        # end leaves every check as it was. (tests/unit/test_smtp_memos.py holds it to replace.)
        zone = object.__new__(Zone)
        zone.__dict__.update(origin=self.origin, records=records,
                             soa=Soa(soa.mname, soa.rname, serial, soa.refresh, soa.retry, soa.expire, soa.minimum),
                             place=self.place)
        return zone

    def with_record(self, rec: Record) -> "Zone":
        """A new zone with ``rec`` added (and the SOA serial bumped).

        Raises:
            ConfigError: Outside the zone, a duplicate, or a CNAME conflict.
        """
        self._check(rec, self.records)
        return self._bumped(self.records + (rec,))

    def without_record(self, name: str, rtype: str, value: object = None) -> "Zone":
        """A new zone without the matching records (all of that name and type when ``value`` is None).

        Raises:
            ConfigError: No record matches.
        """
        probe = None if value is None else Record(name, rtype, value)
        name, rtype = normalise_name(name), str(rtype).upper()
        keep = tuple(r for r in self.records if not (
            r.name == name and r.rtype == rtype and (probe is None or r.value == probe.value)))
        if len(keep) == len(self.records):
            shown = "" if probe is None else " " + probe.rdata_text()
            raise ConfigError(f"no such record in {self.origin}: {name} {rtype}{shown}")
        return self._bumped(keep)

    def records_of(self, name: str | None = None, rtype: str | None = None) -> tuple[Record, ...]:
        """The records matching ``name`` and ``rtype`` (either may be None = any)."""
        rtype = None if rtype is None else rtype.upper()
        found = self.records if name is None else self._by_name.get(_qname(name), ())
        return found if rtype is None else tuple(r for r in found if r.rtype == rtype)

    @cached_property
    def _by_name(self) -> dict[str, tuple[Record, ...]]:
        # owner name -> its records, in zone order: worked out once per zone (a zone never changes)
        out: dict[str, list[Record]] = {}
        for rec in self.records:
            out.setdefault(rec.name, []).append(rec)
        return {name: tuple(recs) for name, recs in out.items()}

    def exists(self, name: str) -> bool:
        """True when ``name`` owns records, is the apex, or is an empty non-terminal above records."""
        return name == self.origin or any(in_domain(r.name, name) for r in self.records)


@dataclass(frozen=True)
class Answer:
    """What the authoritative server answers (``rcode`` is NOERROR, NXDOMAIN or REFUSED)."""

    rcode: str
    answer: tuple[Record, ...] = ()
    authority: tuple[Record, ...] = ()
    authoritative: bool = False


@dataclass(frozen=True)
class ZoneSet:
    """Every zone the lab's public DNS is authoritative for. Immutable: edits return a new set."""

    zones: tuple[Zone, ...] = ()

    def __post_init__(self) -> None:
        zones = tuple(self.zones)
        object.__setattr__(self, "zones", zones)
        origins = [z.origin for z in zones]
        for z in zones:
            if origins.count(z.origin) > 1:
                raise ConfigError(f"zone {z.origin} is defined more than once", z.place)
            for rec in z.records:
                owner = self.zone_for(rec.name)
                if owner is not z:
                    raise ConfigError(f"{rec.name} belongs to the more specific zone {owner.origin}, "
                                      f"not {z.origin}", rec.place or z.place)

    def zone_for(self, name: str) -> Zone | None:
        """The zone with the longest origin containing ``name``, or None: the first origin met
        going up from ``name`` one label at a time (ending at the root, ``""``)."""
        by_origin = self._by_origin
        name = _qname(name)
        while True:
            zone = by_origin.get(name)
            if zone is not None or not name:
                return zone
            name = name.partition(".")[2]

    @cached_property
    def _by_origin(self) -> dict[str, Zone]:
        # origin -> zone, once per set (a set never changes; origins are unique, __post_init__ checks)
        by_origin: dict[str, Zone] = {}
        for z in self.zones:
            by_origin.setdefault(z.origin, z)
        return by_origin

    def _owner(self, name: str) -> Zone:
        zone = self.zone_for(name)
        if zone is None:
            raise ConfigError(f"no zone of the lab contains {name}", allowed=tuple(z.origin for z in self.zones))
        return zone

    def _swap(self, old: Zone, new: Zone) -> "ZoneSet":
        zones = tuple([new if z is old else z for z in self.zones])
        if type(self) is not ZoneSet or new.origin != old.origin or self._by_origin.get(old.origin) is not old:
            return ZoneSet(zones)
        # The same origins, so every other zone still owns its records (__post_init__ found so when
        # this set was built): only the new zone's records are checked, as __post_init__ checks them.
        for rec in new.records:
            owner = self.zone_for(rec.name)
            if owner is not old:
                return ZoneSet(zones)  # (raises what it raises)
        edited = object.__new__(ZoneSet)
        edited.__dict__["zones"] = zones
        return edited

    def with_zone(self, zone: Zone) -> "ZoneSet":
        """A new set with ``zone`` added (ConfigError if its origin exists or it holds others' names)."""
        return ZoneSet(self.zones + (zone,))

    def without_zone(self, origin: str) -> "ZoneSet":
        """A new set without the zone ``origin`` (ConfigError if there is none)."""
        origin = _qname(origin)
        if not any(z.origin == origin for z in self.zones):
            raise ConfigError(f"no zone {origin}", allowed=tuple(z.origin for z in self.zones))
        return ZoneSet(tuple(z for z in self.zones if z.origin != origin))

    def with_record(self, rec: Record) -> "ZoneSet":
        """A new set with ``rec`` added to the zone that holds its name."""
        zone = self._owner(rec.name)
        return self._swap(zone, zone.with_record(rec))

    def without_record(self, name: str, rtype: str, value: object = None) -> "ZoneSet":
        """A new set without the matching records (see :meth:`Zone.without_record`)."""
        zone = self._owner(_qname(name))
        return self._swap(zone, zone.without_record(name, rtype, value))

    def records(self, name: str | None = None, rtype: str | None = None) -> tuple[Record, ...]:
        """The records of every zone matching ``name`` and ``rtype`` (None = any)."""
        return tuple(r for z in self.zones for r in z.records_of(name, rtype))

    def answer(self, qname: str, qtype: str) -> Answer:
        """The authoritative answer to one question.

        CNAMEs are chased through every zone of the set (the CNAME, then the target's records);
        the rcode and the SOA in AUTHORITY belong to the last name of the chain (RFC 6604). A
        CNAME loop ends the chain with NOERROR. ``qtype`` ANY returns every record of the name.
        """
        # remembered per question in this set: a pure function of the set (which never changes)
        # and the question's text; an Answer is frozen, so one serves every asker
        answers = self._answers
        found = answers.get((qname, qtype))
        if found is None:
            if len(answers) >= _ANSWER_MEMO:
                answers.clear()
            found = answers[(qname, qtype)] = self._answer(qname, qtype)
        return found

    @cached_property
    def _answers(self) -> dict[tuple[str, str], Answer]:
        return {}

    @cached_property
    def resolutions(self) -> dict[tuple, MxResult]:
        """Where :func:`resolve_mx` / :func:`resolve_host` remember their results against this set
        (pure functions of the set, which never changes, and the question)."""
        return {}

    def _answer(self, qname: str, qtype: str) -> Answer:
        name, qtype = _qname(qname), qtype.upper()
        zone = self.zone_for(name)
        if zone is None:
            return Answer("REFUSED")
        answer: list[Record] = []
        seen = {name}
        while True:
            here = zone.records_of(name)
            hits = [r for r in here if qtype in (r.rtype, "ANY")]
            if name == zone.origin and qtype in ("SOA", "ANY"):
                hits.insert(0, zone.soa_record)
            if hits:
                return Answer("NOERROR", tuple(answer + hits), (), True)
            cname = [r for r in here if r.rtype == "CNAME"]
            if not cname or qtype == "CNAME":
                break
            answer.append(cname[0])
            target = cname[0].value
            target_zone = self.zone_for(target)
            if target in seen or target_zone is None or len(seen) > MAX_CNAME_CHAIN:
                return Answer("NOERROR", tuple(answer), (), True)
            seen.add(target)
            name, zone = target, target_zone
        soa = zone.soa_record
        # (replace(soa, ttl=min(soa.ttl, zone.soa.minimum)): the SOA record's TTL is that minimum, so the
        # copy holds the same values as this record just made, which nothing else holds)
        negative = soa if soa.ttl == zone.soa.minimum and type(soa) is Record else replace(
            soa, ttl=min(soa.ttl, zone.soa.minimum))
        return Answer("NOERROR" if zone.exists(name) else "NXDOMAIN", tuple(answer), (negative,), True)


def udp_limit(advertised: int | None) -> int:
    """The largest UDP reply allowed: 512 without EDNS0, else what the client advertises (512..4096)."""
    if advertised is None:
        return DNS_UDP_MIN
    return max(DNS_UDP_MIN, min(advertised, DNS_UDP_MAX))


def must_truncate(size: int, advertised: int | None) -> bool:
    """True when a UDP reply of ``size`` bytes must go out as TC=1 (question kept, no records)."""
    return size > udp_limit(advertised)


__all__ = [
    "INVALID_DATA", "MX_LOOPBACK", "NO_RECORDS", "NON_EXISTENT_DOMAIN", "NULL_MX", "SERVER_FAILURE", "TIMEOUT",
    "Answer", "HostResolution", "MxResolution", "MxResult", "Record", "Soa", "Target", "Zone", "ZoneSet",
    "display", "in_domain", "must_truncate", "normalise_name", "ptr_name", "resolve_host", "resolve_mx",
    "udp_limit",
]
