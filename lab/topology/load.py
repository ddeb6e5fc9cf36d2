"""topology.yaml -> the frozen :class:`~lab.core.model.Topology`, every error with file:line.

Order of work (containerlab's): read YAML with marks -> check the structure against the
schema -> resolve node properties (node -> kind -> defaults) -> build the network, DNS, PKI,
organizations and tenants -> check the references between them. Errors are collected per
stage and raised together (``ConfigErrors``) so a user fixes a file in one pass; each names
the file, the line and, where there is a choice, the allowed values.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from lab.core.dns import Record, Zone, ZoneSet
from lab.core.errors import ConfigError, ConfigErrors, Place
from lab.core.model import (
    DEFAULT_CLOCK_START, DEFAULT_PORTS, AuthoritySpec, CertificateSpec, DnsSpec, Host, OrganizationSpec,
    PkiSpec, Settings, TenantSpec, Topology)
from lab.core.network import NetworkModel
from lab.core.eop.model import Tenant
from lab.core.world import receive_connectors_of

from . import exchange_objects
from .schema import fingerprint, validate_structure
from .source import Source, read_yaml

_NETWORK_KEYS = ("kind", "interfaces", "gateway", "nat", "firewall", "firewall_default")
_KIND_ONLY = {
    "org": ("exchange",), "version": ("exchange",), "build": ("exchange",), "receive_connectors": ("exchange",),
    "nat": ("firewall",), "firewall": ("firewall",), "firewall_default": ("firewall",),
    "endpoints": ("eop",), "frontend_host": ("eop",), "banned_ips": ("eop",),
}


def load_topology(path: str | Path, text: str | None = None, *, cache_dir: str | Path | None = None) -> Topology:
    """Read and validate a topology file.

    Args:
        path: The file (also the name shown in errors when ``text`` is given).
        text: The file's content, if already read.
        cache_dir: a directory remembering the fingerprints (text + schema) of files that passed
            the schema check: the same text is not checked against the schema again (``lab up``
            starts faster). Every other check runs each time.

    Raises:
        ConfigError: The first problem, or ConfigErrors listing all problems found in a stage.
    """
    if text is None:
        src = read_yaml(path)
        text = Path(path).read_text(encoding="utf-8")
    else:
        src = read_yaml(path, text)
    if not isinstance(src.data, dict):
        raise src.error((), "the top level must be a mapping with name, topology, ...")
    stamp = Path(cache_dir) / "schema-checked" / fingerprint(text) if cache_dir is not None else None
    if stamp is None or not stamp.exists():
        validate_structure(src)
    topology = _Builder(src).build()
    if stamp is not None:
        try:  # remember that this exact text passed this exact schema; a cache, so failure is harmless
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.touch()
        except OSError:
            pass
    return topology


class _Builder:
    def __init__(self, src: Source):
        self.src = src
        self.data: dict[str, Any] = src.data
        self.errors: list[ConfigError] = []

    # -- error plumbing -------------------------------------------------------------------
    def relocate(self, err: ConfigError) -> ConfigError:
        """Give an error raised with only a YAML path the file and line of that path."""
        if isinstance(err, ConfigErrors):
            return ConfigErrors([self.relocate(e) for e in err.errors])
        place = err.place
        if place is not None and place.line is not None and place.file:
            return err
        path = place.path if place and place.path else ""
        new_place = self.src.place(path) if path else Place(file=self.src.file)
        return ConfigError(err.message, new_place, err.allowed)

    def guard(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ConfigErrors as errs:
            self.errors.extend(self.relocate(e) for e in errs.errors)
        except ConfigError as err:
            self.errors.append(self.relocate(err))
        return None

    def checkpoint(self) -> None:
        if self.errors:
            errs, self.errors = self.errors, []
            raise errs[0] if len(errs) == 1 else ConfigErrors(errs)

    def err(self, path: tuple, message: str, allowed=None) -> None:
        self.errors.append(self.src.error(path, message, allowed))

    # -- stages ---------------------------------------------------------------------------
    def build(self) -> Topology:
        topo = self.data["topology"]
        nodes = self.resolve_nodes(topo)
        self.checkpoint()
        network = self.guard(lambda: NetworkModel.from_dict(
            {"networks": topo["networks"], "nodes": {n: {k: v for k, v in spec.items() if k in _NETWORK_KEYS}
                                                     for n, spec in nodes.items()}}))
        settings = self.settings(nodes)
        hosts = {name: self.host(name, spec) for name, spec in nodes.items()}
        self.checkpoint()
        pki = self.pki()
        dns = self.dns(hosts)
        self.checkpoint()
        orgs = self.organizations(hosts)
        tenants = self.tenants(hosts)
        self.check_hosts(hosts, pki, orgs)
        self.checkpoint()
        return Topology(
            name=self.data["name"], source=self.src.file, settings=settings, network=network,
            hosts=hosts, dns=dns, pki=pki, organizations=orgs, tenants=tenants,
            description=self.data.get("description", ""), probes=tuple(self.data.get("probes", ())),
            raw=self.data)

    def resolve_nodes(self, topo: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        defaults = topo.get("defaults", {}) or {}
        kinds = topo.get("kinds", {}) or {}
        resolved: dict[str, dict[str, Any]] = {}
        for name, spec in topo["nodes"].items():
            merged = {**defaults, **kinds.get(spec["kind"], {}), **spec}
            resolved[name] = merged
            for key, only in _KIND_ONLY.items():
                if key in spec and spec["kind"] not in only:
                    self.err(("topology", "nodes", name, key),
                             f"{key!r} is for {' and '.join(only)} nodes, not {spec['kind']}")
            for key in merged:
                if key not in spec and key in _KIND_ONLY and merged["kind"] not in _KIND_ONLY[key]:
                    merged.pop(key)
                    break
        return resolved

    def settings(self, nodes: Mapping[str, Any]) -> Settings:
        s = self.data.get("settings", {}) or {}
        start = DEFAULT_CLOCK_START
        text = (s.get("clock") or {}).get("start")
        if text is not None:
            start = self.datetime(("settings", "clock", "start"), text) or start
        ports = dict(DEFAULT_PORTS)
        for key, value in (s.get("ports") or {}).items():
            try:
                well_known = int(key)
            except (TypeError, ValueError):
                self.err(("settings", "ports", key), f"{key!r} is not a port number")
                continue
            if not 1 <= well_known <= 65535:
                self.err(("settings", "ports", key), f"{key!r} is not a port number (1-65535)")
            ports[well_known] = value
        base = s.get("loopback_base", "127.42.0.0/16")
        import ipaddress  # noqa: PLC0415 (stdlib; only needed here)
        try:
            net = ipaddress.IPv4Network(base, strict=True)
            if not net.subnet_of(ipaddress.IPv4Network("127.0.0.0/8")) or net.num_addresses < 256:
                self.err(("settings", "loopback_base"),
                         f"{base} must be a block of at least 256 addresses inside 127.0.0.0/8")
        except ValueError as exc:
            self.err(("settings", "loopback_base"), f"{base!r} is not a network: {exc}")
        outside = s.get("outside_host")
        if outside is not None and outside not in nodes:
            self.err(("settings", "outside_host"), f"unknown node {outside!r}", sorted(nodes))
        return Settings(clock_start=start, loopback_base=base, ports=ports, outside_host=outside,
                        key_type=s.get("key_type", "ec"), recipient_validation=bool(s.get("recipient_validation", False)))

    def datetime(self, path: tuple, text: Any) -> datetime | None:
        try:
            value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError:
            self.err(path, f"{text!r} is not an ISO 8601 date or date-time (e.g. 2026-11-23T09:00:00+00:00)")
            return None
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    def host(self, name: str, spec: Mapping[str, Any]) -> Host:
        kind = spec["kind"]
        path = ("topology", "nodes", name)
        if kind == "exchange":
            for key in ("org", "fqdn"):
                if key not in spec:
                    self.err(path, f"an exchange node needs {key!r}")
            if "version" not in spec:
                self.err(path, "an exchange node needs 'version' (here or in topology.kinds.exchange)",
                         ["2010", "2013", "2016", "2019"])
        if kind == "eop":
            endpoints = spec.get("endpoints") or {}
            for role in ("mx", "submission"):
                if role not in endpoints:
                    self.err(path + ("endpoints",), f"an eop node needs endpoints.{role}")
            addresses = {a for v in (spec.get("interfaces") or {}).values() for a in ([v] if isinstance(v, str) else v)}
            for role, ip in endpoints.items():
                if ip not in addresses:
                    self.err(path + ("endpoints", role), f"{ip} is not one of the node's addresses", sorted(addresses))
        return Host(
            name=name, kind=kind, fqdn=spec.get("fqdn"), description=spec.get("description", ""),
            certificates=tuple(spec.get("certificates", ())), org=spec.get("org"), version=spec.get("version"),
            build=spec.get("build"), receive_connector_overrides=tuple(spec.get("receive_connectors", ())),
            endpoints=dict(spec.get("endpoints") or {}), frontend_host=spec.get("frontend_host"),
            banned_ips=tuple(spec.get("banned_ips", ())))

    def dns(self, hosts: Mapping[str, Host]) -> DnsSpec | None:
        d = self.data.get("dns")
        if d is None:
            return None
        server = d["server"]
        if server not in hosts:
            self.err(("dns", "server"), f"unknown node {server!r}", sorted(n for n, h in hosts.items() if h.kind == "dns"))
        elif hosts[server].kind != "dns":
            kind = hosts[server].kind
            self.err(("dns", "server"), f"node {server!r} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} node, "
                     "not a dns node", sorted(n for n, h in hosts.items() if h.kind == "dns"))
        zones: list[Zone] = []
        for origin, zspec in d["zones"].items():
            zpath = ("dns", "zones", origin)
            records: list[Record] = []
            for i, r in enumerate((zspec or {}).get("records", ())):
                rpath = zpath + ("records", i)
                rec = self.guard(lambda r=r, rpath=rpath: self.record(origin, r, rpath, (zspec or {}).get("ttl", 3600)))
                if rec is not None:
                    records.append(rec)
            zone = self.guard(lambda origin=origin, records=records, zpath=zpath: Zone(
                origin, tuple(records), place=self.src.place(zpath)))
            if zone is not None:
                zones.append(zone)
        zoneset = self.guard(lambda: ZoneSet(tuple(zones)))
        if zoneset is None or len(zones) < len(d["zones"]):
            return None  # a zone failed: its records are reported, not the targets left pointing into it
        self.check_mx_targets(d, zoneset)
        return DnsSpec(server=server, zones=zoneset)

    def record(self, origin: str, r: Mapping[str, Any], path: tuple, ttl: int) -> Record:
        name = str(r["name"])
        if name == "@":
            fqdn = origin
        elif name.endswith("."):
            fqdn = name[:-1]
        else:
            fqdn = f"{name}.{origin}"
        rtype = r["type"]
        place = self.src.place(path)
        value: Any = r["value"]
        if rtype == "MX":
            if "preference" not in r:
                raise ConfigError("an MX record needs a preference (0-65535)", place)
            value = (r["preference"], str(value))
        elif "preference" in r:
            raise ConfigError(f"'preference' is for MX records, not {rtype}", self.src.place(path + ("preference",)))
        return Record(fqdn, rtype, value, r.get("ttl", ttl), place=place)

    def check_mx_targets(self, d: Mapping[str, Any], zones: ZoneSet) -> None:
        """An MX (or CNAME) whose target the lab's DNS cannot resolve points nowhere."""
        for origin, zspec in d["zones"].items():
            for i, r in enumerate((zspec or {}).get("records", ())):
                if r["type"] not in ("MX", "CNAME"):
                    continue
                target = str(r["value"]).rstrip(".").lower()
                if r["type"] == "MX" and target in ("", "."):
                    continue  # null MX (RFC 7505)
                ans = zones.answer(target, "A")
                if ans.rcode != "NOERROR" or not any(rec.rtype == "A" for rec in ans.answer):
                    what = "MX" if r["type"] == "MX" else "CNAME"
                    why = "is outside every zone of the lab" if ans.rcode == "REFUSED" else "has no A record"
                    self.err(("dns", "zones", origin, "records", i, "value"),
                             f"{what} points nowhere: {target} {why}")

    def pki(self) -> PkiSpec:
        p = self.data.get("pki") or {}
        orgs = set((self.data.get("organizations") or {}).keys())
        authorities: list[AuthoritySpec] = []
        names: dict[str, tuple] = {}
        for i, a in enumerate(p.get("authorities", ())):
            path = ("pki", "authorities", i)
            if a["name"] in names:
                self.err(path + ("name",), f"duplicate certificate or authority name {a['name']!r}")
            names[a["name"]] = path
            for j, who in enumerate(a.get("trusted_by", ())):
                if who != "internet" and who not in orgs:
                    self.err(path + ("trusted_by", j), f"unknown trust holder {who!r}", ["internet", *sorted(orgs)])
            if a["kind"] == "intermediate" and not a.get("issuer"):
                self.err(path, "an intermediate authority needs an 'issuer'")
            if a["kind"] == "root" and a.get("issuer"):
                self.err(path + ("issuer",), "a root authority signs itself: remove 'issuer'")
            authorities.append(AuthoritySpec(
                name=a["name"], kind=a["kind"], common_name=a["common_name"], issuer=a.get("issuer"),
                organization=a.get("organization"), country=a.get("country"), trusted_by=tuple(a.get("trusted_by", ())),
                key_type=a.get("key_type", "ec"), valid_from=self.date_opt(path + ("valid_from",), a.get("valid_from")),
                valid_days=a.get("valid_days")))
        by_name = {a.name: a for a in authorities}
        for i, a in enumerate(authorities):
            if a.issuer and a.issuer not in by_name:
                self.err(("pki", "authorities", i, "issuer"), f"unknown authority {a.issuer!r}", sorted(by_name))
            seen, cur = set(), a
            while cur and cur.issuer and cur.issuer in by_name:
                if cur.name in seen:
                    self.err(("pki", "authorities", i, "issuer"), f"authority {a.name!r} is part of an issuer loop")
                    break
                seen.add(cur.name)
                cur = by_name[cur.issuer]
        certs: list[CertificateSpec] = []
        for i, c in enumerate(p.get("certificates", ())):
            path = ("pki", "certificates", i)
            if c["name"] in names:
                self.err(path + ("name",), f"duplicate certificate or authority name {c['name']!r}")
            names[c["name"]] = path
            if c["issuer"] != "self" and c["issuer"] not in by_name:
                self.err(path + ("issuer",), f"unknown authority {c['issuer']!r}", ["self", *sorted(by_name)])
            certs.append(CertificateSpec(
                name=c["name"], issuer=c["issuer"], common_name=c["common_name"], sans=tuple(c.get("sans", ())),
                organization=c.get("organization"), key_type=c.get("key_type", (self.data.get("settings") or {}).get("key_type", "ec")),
                valid_from=self.date_opt(path + ("valid_from",), c.get("valid_from")), valid_days=c.get("valid_days"),
                services=tuple(c.get("services", ("SMTP",)))))
        return PkiSpec(tuple(authorities), tuple(certs))

    def date_opt(self, path: tuple, text: Any) -> datetime | None:
        return None if text is None else self.datetime(path, text)

    def organizations(self, hosts: Mapping[str, Host]) -> dict[str, OrganizationSpec]:
        out: dict[str, OrganizationSpec] = {}
        for name, spec in (self.data.get("organizations") or {}).items():
            path = ("organizations", name)
            built = {key: self.exchange_list(path + (key,), spec.get(key, ()), kind)
                     for key, kind in exchange_objects.ORG_OBJECTS.items()}
            org = OrganizationSpec(name=name, **built)
            out[name] = org
            servers = {h.name for h in hosts.values() if h.kind == "exchange" and h.org == name}
            for i, mbx in enumerate(spec.get("mailboxes", ())):
                server = mbx.get("Server")
                if server is not None and server not in servers:
                    self.err(path + ("mailboxes", i, "Server"), f"{server!r} is not an Exchange server of {name}",
                             sorted(servers))
            for i, conn in enumerate(spec.get("send_connectors", ())):
                for j, server in enumerate(conn.get("SourceTransportServers", ()) or ()):
                    if server not in servers:
                        self.err(path + ("send_connectors", i, "SourceTransportServers", j),
                                 f"{server!r} is not an Exchange server of {name}", sorted(servers))
        return out

    def exchange_list(self, path: tuple, items: Any, kind: str) -> tuple[Any, ...]:
        built = []
        seen: dict[str, int] = {}
        for i, item in enumerate(items or ()):
            ipath = path + (i,)
            obj = self.guard(lambda item=item, ipath=ipath: exchange_objects.build(kind, item, _dotted(ipath)))
            if obj is not None:
                built.append(obj)
            key = str(item.get("Name") or item.get("DomainName") or item.get("PrimarySmtpAddress") or "").lower()
            if key and key in seen:
                self.err(ipath, f"duplicate {kind} {key!r} (also entry {seen[key]})")
            seen.setdefault(key, i)
        return tuple(built)

    def tenants(self, hosts: Mapping[str, Host]) -> dict[str, TenantSpec]:
        out: dict[str, TenantSpec] = {}
        orgs = set((self.data.get("organizations") or {}).keys())
        for name, spec in (self.data.get("tenants") or {}).items():
            path = ("tenants", name)
            eop = spec["eop"]
            if eop not in hosts or hosts[eop].kind != "eop":
                self.err(path + ("eop",), f"{eop!r} is not an eop node",
                         sorted(n for n, h in hosts.items() if h.kind == "eop"))
            hybrid = spec.get("hybrid_organization")
            if hybrid is not None and hybrid not in orgs:
                self.err(path + ("hybrid_organization",), f"unknown organization {hybrid!r}", sorted(orgs))
            built = {key: self.exchange_list(path + (key,), spec.get(key, ()), kind)
                     for key, kind in exchange_objects.TENANT_OBJECTS.items()}
            out[name] = TenantSpec(name=name, initial_domain=spec["initial_domain"], eop=eop,
                                   hybrid_organization=hybrid, **built)
            self.guard(lambda t=out[name], path=path: Tenant.from_spec(t, _dotted(path)))
        return out

    def check_hosts(self, hosts: Mapping[str, Host], pki: PkiSpec, orgs: Mapping[str, OrganizationSpec]) -> None:
        certs = {c.name for c in pki.certificates}
        for name, host in hosts.items():
            path = ("topology", "nodes", name)
            for i, cert in enumerate(host.certificates):
                if cert not in certs:
                    self.err(path + ("certificates", i), f"unknown certificate {cert!r}", sorted(certs))
            if host.kind == "exchange" and host.org is not None and host.org not in orgs:
                self.err(path + ("org",), f"unknown organization {host.org!r}", sorted(orgs))
            if host.kind == "exchange" and host.org in orgs and not self.errors:
                self.guard(lambda host=host: receive_connectors_of(host))


def _dotted(path: tuple) -> str:
    from .source import dotted  # noqa: PLC0415
    return dotted(path)
