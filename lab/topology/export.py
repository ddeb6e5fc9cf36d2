"""A World back to a topology file (``lab export``), with Exchange's property names.

The file the world was loaded from is the starting point (its ``raw`` data: networks, hosts,
PKI authorities, settings are kept as written); everything the console can change is written
from the world: DNS zones, each Exchange server's receive connectors (as changes to its
version's defaults, the way topology files write them) and certificates, each organization's
accepted domains, mailboxes, remote mailboxes and send connectors, each tenant's objects and
EOP's banned IPs. Loading the result gives the same configuration (``lab validate`` accepts it).

Certificates made at run time (New-ExchangeCertificate + a CA's answer) are written as PKI
certificate entries with the same issuer, names, validity and services; their keys are not
exported, so a lab started from the file mints new keys (new thumbprints). Requests still
pending are left out (their keys live only in the running lab).
"""
from __future__ import annotations

import copy
import re
from datetime import datetime, timezone
from typing import Any, Mapping

import yaml

from lab.core.dns import Record, Zone
from lab.core.exchange.connectors import default_receive_connectors
from lab.core.world import InstalledCertificate, ServerState, World

#: properties a receive connector override may not carry when it changes an existing connector.
_CREATE_ONLY = ("Usage",)


def export_world(world: World) -> dict[str, Any]:
    """The topology file's data for ``world`` (a plain dict, ready for YAML)."""
    data = copy.deepcopy(dict(world.topology.raw))
    nodes = data["topology"]["nodes"]
    pki = data.setdefault("pki", {})
    certificates = pki.setdefault("certificates", [])
    for node, state in world.servers.items():
        spec = nodes[node]
        overrides = receive_connector_overrides(state)
        if overrides:
            spec["receive_connectors"] = overrides
        else:
            spec.pop("receive_connectors", None)
        spec["certificates"] = _server_certificates(world, state, certificates)
    for node, banned in world.banned_ips.items():
        if node in nodes:
            nodes[node]["banned_ips"] = sorted(banned)
    if world.topology.dns is not None:
        data["dns"] = {"server": data["dns"]["server"], "zones": _zones(world, data["dns"].get("zones") or {})}
    data["organizations"] = {name: _organization(org) for name, org in world.orgs.items()}
    validation = any(o.organization.recipient_validation_enabled for o in world.orgs.values())
    if validation or (data.get("settings") or {}).get("recipient_validation") is not None:
        data.setdefault("settings", {})["recipient_validation"] = validation
    if world.tenants:
        data["tenants"] = {name: _tenant(t) for name, t in world.tenants.items()}
    return data


def export_yaml(world: World) -> str:
    """The topology file text for ``world``."""
    header = (f"# Exported from the running lab {world.topology.name!r} (revision {world.revision}).\n"
              "# Exchange objects use Exchange's own property names; check it with `lab validate`.\n")
    return header + yaml.safe_dump(export_world(world), sort_keys=False, allow_unicode=True, width=120)


# -- Exchange objects ---------------------------------------------------------------------------
def compact(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """An object's Exchange mapping without empty values (None, ``[]``)."""
    return {k: _plain(v) for k, v in mapping.items() if v is not None and v != [] and v != ()}


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _objects(items: Any) -> list[dict[str, Any]]:
    return [compact(i.to_mapping()) for i in items]


def _organization(org: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"accepted_domains": _objects(org.organization.accepted_domains),
                           "mailboxes": _objects(org.organization.mailboxes)}
    if org.remote_mailboxes:
        out["remote_mailboxes"] = _objects(org.remote_mailboxes)
    if org.send_connectors:
        out["send_connectors"] = _objects(org.send_connectors)
    return out


def _tenant(tenant: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"initial_domain": tenant.initial_domain, "eop": tenant.eop}
    if tenant.hybrid_organization:
        out["hybrid_organization"] = tenant.hybrid_organization
    for key in ("accepted_domains", "mailboxes", "mail_users", "inbound_connectors", "outbound_connectors"):
        items = getattr(tenant, key)
        if items:
            out[key] = _objects(items)
    return out


def receive_connector_overrides(state: ServerState) -> list[dict[str, Any]]:
    """A server's receive connectors as topology overrides: changed properties of its version's
    default connectors, then every property of the connectors it added."""
    defaults = {c.name.lower(): c for c in default_receive_connectors(state.server)}
    out: list[dict[str, Any]] = []
    for conn in state.receive_connectors:
        base = defaults.get(conn.name.lower())
        mapping = conn.to_mapping()
        if base is None:
            out.append(compact(mapping))
            continue
        before = base.to_mapping()
        changed = {k: _plain(v) for k, v in mapping.items()
                   if k not in _CREATE_ONLY and k != "Name" and v != before.get(k)}
        if changed:
            out.append({"Name": conn.name, **changed})
    return out


# -- certificates -----------------------------------------------------------------------------------
def _server_certificates(world: World, state: ServerState, certificates: list[dict[str, Any]]) -> list[str]:
    specs = {c["name"]: c for c in certificates}
    names: list[str] = []
    for cert in state.certificates:
        if cert.status != "Valid" or cert.facts is None:
            continue  # a pending request: its key lives only in the running lab
        name = cert.name if cert.name in specs else _runtime_name(state.node, cert)
        if name not in specs:
            specs[name] = _certificate_spec(world, name, cert)
            certificates.append(specs[name])
        specs[name]["services"] = list(cert.services)
        names.append(name)
    return names


def _runtime_name(node: str, cert: InstalledCertificate) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", f"{node}-{cert.thumbprint[:12]}".lower())


def _certificate_spec(world: World, name: str, cert: InstalledCertificate) -> dict[str, Any]:
    facts = cert.facts
    assert facts is not None
    issuer = "self" if facts.self_signed else next(
        (a.name for a in world.topology.pki.authorities if f"CN={a.common_name}" in facts.issuer), "self")
    spec: dict[str, Any] = {"name": name, "issuer": issuer, "common_name": facts.subject_cn or facts.san_dns[0]}
    if facts.san_dns:
        spec["sans"] = list(facts.san_dns)
    org = re.search(r"(?:^|, )O=([^,]+)", facts.subject)
    if org:
        spec["organization"] = org.group(1)
    spec["valid_from"] = facts.not_before.astimezone(timezone.utc).isoformat()
    spec["valid_days"] = max(1, round((facts.not_after - facts.not_before).total_seconds() / 86400))
    return spec


# -- DNS ------------------------------------------------------------------------------------------
def _zones(world: World, raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for zone in world.zones.zones:
        written = raw.get(zone.origin) or {}
        ttl = written.get("ttl", 3600) if isinstance(written, Mapping) else 3600
        entry: dict[str, Any] = {"ttl": ttl} if isinstance(written, Mapping) and "ttl" in written else {}
        entry["records"] = [_record(zone, r, ttl) for r in zone.records if r.rtype != "SOA"]
        out[zone.origin] = entry
    return out


def _record(zone: Zone, record: Record, ttl: int) -> dict[str, Any]:
    if record.name == zone.origin:
        name = "@"
    elif record.name.endswith("." + zone.origin):
        name = record.name[: -len(zone.origin) - 1]
    else:
        name = record.name + "."
    out: dict[str, Any] = {"name": name, "type": record.rtype}
    if record.rtype == "MX":
        preference, exchange = record.value  # type: ignore[misc]
        out["preference"], out["value"] = preference, exchange
    else:
        out["value"] = record.value
    if record.ttl != ttl:
        out["ttl"] = record.ttl
    return out


def same_configuration(a: World, b: World) -> list[str]:
    """What differs between two worlds' configurations (empty: the same); SOA serials, key
    material and runtime certificate names are not configuration the file can carry."""
    diffs: list[str] = []
    if [(z.origin, z.records) for z in a.zones.zones] != [(z.origin, z.records) for z in b.zones.zones]:
        diffs.append("dns zones")
    if dict(a.orgs) != dict(b.orgs):
        diffs.append("organizations")
    if dict(a.tenants) != dict(b.tenants):
        diffs.append("tenants")
    if {k: v for k, v in a.banned_ips.items() if v} != {k: v for k, v in b.banned_ips.items() if v}:
        diffs.append("banned ips")
    for node in sorted(set(a.servers) | set(b.servers)):
        sa, sb = a.servers.get(node), b.servers.get(node)
        if sa is None or sb is None:
            diffs.append(f"server {node}")
            continue
        if sa.server != sb.server or sa.receive_connectors != sb.receive_connectors:
            diffs.append(f"server {node}")
        if _cert_view(sa) != _cert_view(sb):
            diffs.append(f"certificates of {node}")
    return diffs


def _cert_view(state: ServerState) -> list[tuple[Any, ...]]:
    return [(c.services, c.facts.subject, c.facts.issuer, c.facts.san_dns, c.facts.not_before, c.facts.not_after)
            for c in state.certificates if c.status == "Valid" and c.facts is not None]

