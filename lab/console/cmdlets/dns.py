"""DnsServer cmdlets over the lab's public DNS zones (pure configuration on the World)."""
from __future__ import annotations

from lab.console import records as R
from lab.console.cmdlets._common import changed, exchange, register_all
from lab.console.host import ConsoleHost
from lab.console.registry import ANY, SWITCH, CmdletError, Invocation, Param, Registry
from lab.core.catalogue import cmdlets as M
from lab.core.dns import Record
from lab.core.errors import ConfigError


def _fqdn(name: str, zone: str) -> str:
    name = name.strip().rstrip(".")
    return zone if name in ("@", "") else (name if name.lower().endswith("." + zone) else f"{name}.{zone}")


def _record(rec: Record, zone: str) -> R.ExRecord:
    host = "@" if rec.name == zone else rec.name[: -len(zone) - 1]
    props = [("HostName", host), ("RecordType", rec.rtype), ("Type", 0), ("Timestamp", None),
             ("TimeToLive", f"{rec.ttl // 3600:02d}:{rec.ttl % 3600 // 60:02d}:{rec.ttl % 60:02d}"),
             ("RecordData", rec.rdata_text())]
    return R.generic(props, ["HostName", "RecordType", "Type", "Timestamp", "TimeToLive", "RecordData"],
                     "Microsoft.Management.Infrastructure.CimInstance#DnsServerResourceRecord", rec)


_SERVER = "DNS01"


def _fail(message: str, category: str, task: str) -> CmdletError:
    return CmdletError(message, category, "", f"{task},{task}", "CimException")


def _zone_of(host: ConsoleHost, inv: Invocation, task: str):
    origin = str(inv.params["ZoneName"]).lower().rstrip(".")
    zone = next((z for z in host.world.zones.zones if z.origin == origin), None)
    if zone is None:
        raise _fail(M.DNS_ZONE_NOT_FOUND.format(zone=origin, server=_SERVER), "ObjectNotFound", task)
    return zone


def _adder(rtype: str, value_of):
    task = f"Add-DnsServerResourceRecord{rtype}"

    def fn(inv: Invocation) -> None:
        host = inv.console_host
        zone = _zone_of(host, inv, task)
        name = _fqdn(str(inv.params["Name"]), zone.origin)
        try:
            zones = host.world.zones.with_record(Record(name, rtype, value_of(inv)))
        except ConfigError:
            raise _fail(M.DNS_RECORD_EXISTS.format(name=inv.params["Name"], zone=zone.origin, server=_SERVER),
                        "ResourceExists", task) from None
        changed(inv, host, host.world.evolve(zones=zones))
    return fn


def remove(inv: Invocation) -> None:
    host = inv.console_host
    task = "Remove-DnsServerResourceRecord"
    zone = _zone_of(host, inv, task)
    name = _fqdn(str(inv.params["Name"]), zone.origin)
    rtype = str(inv.params["RRType"]).upper()
    data = inv.params.get("RecordData")
    matches = [r for r in zone.records_of(name, rtype) if data is None or r.rdata_text().lower().rstrip(".")
               .endswith(str(data).lower().rstrip("."))]
    if not matches:
        raise _fail(M.DNS_RECORD_NOT_FOUND.format(name=inv.params["Name"], zone=zone.origin, server=_SERVER),
                    "ObjectNotFound", task)
    zones = host.world.zones
    for rec in matches:
        zones = zones.without_record(rec.name, rec.rtype, rec.value)
    changed(inv, host, host.world.evolve(zones=zones))


def get(inv: Invocation) -> list[R.ExRecord]:
    zone = _zone_of(inv.console_host, inv, "Get-DnsServerResourceRecord")
    rtype = inv.params.get("RRType")
    name = inv.params.get("Name")
    recs = zone.records_of(_fqdn(str(name), zone.origin) if name else None, str(rtype) if rtype else None)
    if name and not recs:
        raise _fail(M.DNS_RECORD_NOT_FOUND.format(name=name, zone=zone.origin, server=_SERVER), "ObjectNotFound",
                    "Get-DnsServerResourceRecord")
    return [_record(r, zone.origin) for r in recs]


def resolve(inv: Invocation) -> list[R.ExRecord]:
    name = str(inv.params["Name"]).rstrip(".").lower()
    answer = inv.console_host.world.zones.answer(name, str(inv.params.get("Type") or "A").upper())
    if answer.rcode == "NXDOMAIN":
        raise CmdletError(M.DNS_NAME_DOES_NOT_EXIST.format(name=name), "ResourceUnavailable", name,
                          M.DNS_NAME_ERROR_ID, "Win32Exception")
    out = []
    for rec in answer.answer:
        props = [("Name", rec.name), ("Type", rec.rtype), ("TTL", rec.ttl), ("Section", "Answer")]
        if rec.rtype == "MX":
            props += [("NameExchange", rec.value[1]), ("Preference", rec.value[0])]
        else:
            props += [("IPAddress" if rec.rtype == "A" else "NameHost", str(rec.value))]
        out.append(R.generic(props, [p for p, _ in props], "Microsoft.DnsClient.Commands.DnsRecord", rec))
    return out


def register(registry: Registry, host: ConsoleHost) -> None:
    """Register Add-/Remove-/Get-DnsServerResourceRecord* and Resolve-DnsName (acting on ``host``)."""
    register_all(registry, host, COMMANDS)


# The cmdlets' parameters, declared once (frozen: every console's registry shares them).
_ZONE, _NAME = Param("ZoneName", mandatory=True), Param("Name", mandatory=True)
_ADD_A = (_ZONE, _NAME, Param("IPv4Address", mandatory=True))
_ADD_MX = (_ZONE, _NAME, Param("MailExchange", mandatory=True), Param("Preference", int))
_ADD_CNAME = (_ZONE, _NAME, Param("HostNameAlias", mandatory=True))
_REMOVE = (_ZONE, _NAME, Param("RRType", mandatory=True), Param("RecordData", ANY), Param("Force", SWITCH))
_GET = (_ZONE, Param("Name"), Param("RRType"))
_RESOLVE = (Param("Name", mandatory=True, position=0), Param("Type"), Param("Server"))


#: the module's commands, declared once: every console's registry shares them
COMMANDS = (
    exchange("Add-DnsServerResourceRecordA", _adder("A", lambda i: str(i.params["IPv4Address"])), _ADD_A,
             remote=False),
    exchange("Add-DnsServerResourceRecordMX",
             _adder("MX", lambda i: (int(i.params.get("Preference", 10)), str(i.params["MailExchange"]).rstrip("."))),
             _ADD_MX, remote=False),
    exchange("Add-DnsServerResourceRecordCName", _adder("CNAME", lambda i: str(i.params["HostNameAlias"])),
             _ADD_CNAME, remote=False),
    exchange("Remove-DnsServerResourceRecord", remove, _REMOVE, remote=False),
    exchange("Get-DnsServerResourceRecord", get, _GET, remote=False),
    exchange("Resolve-DnsName", resolve, _RESOLVE, remote=False),
)
