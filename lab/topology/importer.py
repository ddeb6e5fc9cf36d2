"""``lab import DIR``: the JSON files of tools/collect-*.ps1 -> a topology.yaml of the same organization.

:func:`import_directory` maps every property the lab models onto topology.yaml's Exchange
property names (each object is validated by its model's ``from_mapping`` and the result by
``load_topology``), reports every property it does not model as a warning, and builds the parts
the cmdlets cannot tell (addresses, firewall, public DNS, the CAs, EOP, the Internet) as editable
defaults from documented ranges (docs/import.md). :func:`write_topology` writes the file and
marks every invented address with a comment.
"""
from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import yaml

from lab.core.errors import ConfigError, Place
from lab.core.exchange.connectors import (EXTENDED_RIGHTS, EXTERNALLY_SECURED_RIGHTS, PERMISSION_GROUP_RIGHTS,
                                          default_receive_connectors)
from lab.core.exchange.connectors import ReceiveConnector, apply_receive_connector_overrides
from lab.core.exchange.model import ExchangeServer
from lab.core.tls import parse_tls_certificate_name, parse_x500, x500_key
from lab.textfiles import read_text

from . import exchange_objects
from . import import_map as M

#: file name -> what the collection scripts put in it (docs/import.md).
EXCHANGE_FILES = {
    "manifest.json": "collection metadata (collect-exchange.ps1)",
    "exchange-servers.json": "Get-ExchangeServer",
    "accepted-domains.json": "Get-AcceptedDomain",
    "remote-domains.json": "Get-RemoteDomain",
    "send-connectors.json": "Get-SendConnector",
    "receive-connectors.json": "Get-ReceiveConnector",
    "receive-connector-permissions.json": "Get-ReceiveConnector | Get-ADPermission (explicit grants)",
    "certificates.json": "Get-ExchangeCertificate (metadata only)",
    "mailboxes.json": "Get-Mailbox (addresses only)",
    "remote-mailboxes.json": "Get-RemoteMailbox (addresses only)",
}
EXO_FILES = {
    "exo-manifest.json": "collection metadata (collect-exo.ps1)",
    "exo-accepted-domains.json": "Get-AcceptedDomain (Exchange Online)",
    "inbound-connectors.json": "Get-InboundConnector",
    "outbound-connectors.json": "Get-OutboundConnector",
    "exo-mailboxes.json": "Get-Mailbox (Exchange Online, addresses only)",
    "exo-mail-users.json": "Get-MailUser (Exchange Online, addresses only)",
}
LAB_SERVICES = ("SMTP", "IIS", "IMAP", "POP")


class ImportedTopology(dict):
    """The topology mapping, plus the addresses and ranges the importer invented (``invented``)."""

    invented: set[str]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.invented = set()


@dataclass
class Collected:
    """What the files say, already mapped to topology.yaml's property names."""

    org: str | None = None
    clock: str | None = None
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)  # node -> node spec
    accepted_domains: list[dict[str, Any]] = field(default_factory=list)
    send_connectors: list[dict[str, Any]] = field(default_factory=list)
    mailboxes: list[dict[str, Any]] = field(default_factory=list)
    remote_mailboxes: list[dict[str, Any]] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)  # see _certificates
    tenant: dict[str, Any] | None = None


# --- reading files -------------------------------------------------------------------------------------

def read_json(path: Path) -> list[dict[str, Any]]:
    """The objects of one ``ConvertTo-Json`` file (one object or an array; empty file: none).

    Handles UTF-8 (with or without BOM) and UTF-16 (Windows PowerShell's ``>`` writes UTF-16 LE).

    Raises:
        ConfigError: unreadable file, not JSON, or not objects — naming the file (and line/JSON path).
    """
    textual = read_text(path)
    if not textual.strip():
        return []
    try:
        data = json.loads(textual)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc.msg}", Place(file=str(path), line=exc.lineno, column=exc.colno)) from None
    data = [data] if isinstance(data, dict) else data
    if not isinstance(data, list):
        raise ConfigError("expected a JSON object or an array of objects", Place(file=str(path), path="$"))
    for i, obj in enumerate(data):
        if not isinstance(obj, dict):
            raise ConfigError(f"expected an object, got {M.render(obj)}", Place(file=str(path), path=f"$[{i}]"))
    return data


class _Reader:
    """Reads the files of one directory, collecting warnings."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.warnings: list[str] = []

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def has(self, name: str) -> bool:
        return (self.dir / name).is_file()

    def objects(self, name: str) -> list[dict[str, Any]]:
        return read_json(self.dir / name) if self.has(name) else []

    def error(self, name: str, where: str, message: str, allowed: Any = None) -> ConfigError:
        return ConfigError(message, Place(file=str(self.dir / name), path=where), allowed)

    def each(self, name: str, table: Mapping[str, Callable[[Any], Any]], kind: str,
             label: Callable[[dict[str, Any]], str] | None = None) -> Iterable[tuple[str, str, dict[str, Any]]]:
        """Yield (json path, label, modelled properties) per object; warn the rest."""
        bookkeeping: set[str] = set()
        for i, obj in enumerate(self.objects(name)):
            where = f"$[{i}]"
            try:
                known, other = M.read_properties(obj, dict(table))
            except M.ImportValueError as exc:
                raise self.error(name, f"{where}.{exc.path}", exc.message) from None
            title = label(obj) if label else str(known.get("Name") or obj.get("Name") or obj.get("Identity") or where)
            for key, value in other.items():
                if str(key).lower() in M.BOOKKEEPING:
                    bookkeeping.add(str(key))
                else:
                    self.warn(f"{kind} '{title}': property {key} = {M.render(value)} is not modelled")
            yield where, title, known
        if bookkeeping:
            self.warn(f"{name}: directory bookkeeping not imported (not configuration): "
                      + ", ".join(sorted(bookkeeping, key=str.lower)))

    def validate(self, name: str, where: str, kind: str, mapping: Mapping[str, Any]) -> None:
        """Check one object with its model, the error naming file and JSON path."""
        try:
            exchange_objects.build(kind, mapping, where)
        except ConfigError as exc:
            raise self.error(name, exc.place.path if exc.place and exc.place.path else where, exc.message,
                             exc.allowed) from None


def import_directory(directory: str | Path) -> tuple[ImportedTopology, list[str]]:
    """Turn a directory of collection files into a topology mapping.

    Returns:
        ``(topology, warnings)``: the mapping loads with :func:`lab.topology.load.load_topology`
        once written; every property not modelled and every invented part is in ``warnings``.

    Raises:
        ConfigError: a missing directory, no collection files, or an unreadable/invalid file
            (naming the file and the JSON path).
    """
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError("not a directory of collection files", Place(file=str(root)))
    reader = _Reader(root)
    known = set(EXCHANGE_FILES) | set(EXO_FILES)
    if not any(reader.has(n) for n in ("exchange-servers.json", "inbound-connectors.json", "exo-accepted-domains.json")):
        raise ConfigError("no collection files here: expected exchange-servers.json (tools/collect-exchange.ps1) "
                          "and/or exo-accepted-domains.json (tools/collect-exo.ps1)", Place(file=str(root)),
                          sorted(known))
    for extra in sorted(p.name for p in root.glob("*.json") if p.name not in known):
        reader.warn(f"{extra}: not a file the importer reads (see docs/import.md); ignored")
    got = Collected()
    if reader.has("exchange-servers.json"):
        _on_premises(reader, got)
    if reader.has("exo-accepted-domains.json") or reader.has("inbound-connectors.json"):
        got.tenant = _tenant(reader, got)
    topology = ImportedTopology(build_world(got, reader.warn))
    topology.invented = set(topology.pop("_invented", ()))
    return topology, reader.warnings


# --- on-premises -------------------------------------------------------------------------------------

def slug(text: str) -> str:
    """A node/organization/certificate name: lower-case letters, digits and dashes."""
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out or "x"


def _on_premises(reader: _Reader, got: Collected) -> None:
    manifest = _manifest(reader, "manifest.json", got)
    _servers(reader, got)
    _accepted_domains(reader, got)
    org = manifest.get("OrganizationName")
    default = next((d["DomainName"] for d in got.accepted_domains if d.get("Default")), None)
    got.org = slug(str(org)) if org else slug((default or "onprem").split(".")[0])
    _certificates(reader, got)
    _receive_connectors(reader, got)
    _send_connectors(reader, got)
    _recipients(reader, got)
    for _where, _title, _known in reader.each("remote-domains.json", {}, "RemoteDomain"):
        pass  # every property of a remote domain is reported as not modelled


def _manifest(reader: _Reader, name: str, got: Collected) -> dict[str, Any]:
    """The collection metadata; its CollectedAt starts the lab clock."""
    manifest = next(iter(reader.objects(name)), {})
    if manifest.get("CollectedAt") and got.clock is None:
        try:
            got.clock = M.date(manifest["CollectedAt"]).isoformat()
        except M.ImportValueError as exc:
            raise reader.error(name, "$.CollectedAt", exc.message) from None
    return manifest


def _servers(reader: _Reader, got: Collected) -> None:
    name = "exchange-servers.json"
    for where, title, known in reader.each(name, M.EXCHANGE_SERVER, "ExchangeServer"):
        if "Name" not in known or "Fqdn" not in known or "AdminDisplayVersion" not in known:
            raise reader.error(name, where, "an Exchange server needs Name, Fqdn and AdminDisplayVersion")
        if "Edge" in str(known.get("ServerRole", "")):
            reader.warn(f"ExchangeServer '{title}': Edge Transport servers are not modelled; skipped")
            continue
        version, build = known["AdminDisplayVersion"]
        node = slug(known["Name"])
        if node.upper() != known["Name"].upper():
            raise reader.error(name, f"{where}.Name", f"server name {known['Name']!r} cannot be a lab node name "
                               "(the lab names a server's connectors after the node name in capitals)")
        ExchangeServer.from_mapping({"Name": known["Name"], "Fqdn": known["Fqdn"], "Version": version,
                                     "Build": build}, where)
        got.servers[node] = {"kind": "exchange", "version": version, "build": build, "fqdn": known["Fqdn"].lower(),
                             "certificates": [], "receive_connectors": []}
    if not got.servers:
        raise reader.error(name, "$", "no Exchange server (other than Edge) in the file")


def _accepted_domains(reader: _Reader, got: Collected) -> None:
    name = "accepted-domains.json"
    for where, _title, known in reader.each(name, M.ACCEPTED_DOMAIN, "AcceptedDomain",
                                            label=lambda o: str(o.get("Name") or o.get("DomainName"))):
        reader.validate(name, where, "AcceptedDomain", known)
        got.accepted_domains.append(known)


def _unlimited(reader: _Reader, kind: str, title: str, known: dict[str, Any], prop: str) -> None:
    if known.get(prop) == "Unlimited":
        known[prop] = M.UNLIMITED_INT
        reader.warn(f"{kind} '{title}': {prop} Unlimited is modelled as {M.UNLIMITED_INT} bytes/items")


def _receive_connectors(reader: _Reader, got: Collected) -> None:
    name = "receive-connectors.json"
    grants = _permissions(reader)
    per_node: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for where, title, known in reader.each(name, M.RECEIVE_CONNECTOR, "ReceiveConnector"):
        server = known.pop("Server", None)
        if server is None:
            raise reader.error(name, where, "a receive connector needs Server (Get-ReceiveConnector prints it)")
        node = slug(server)
        if node not in got.servers:
            reader.warn(f"ReceiveConnector '{title}': server {server} is not in exchange-servers.json; skipped")
            continue
        for prop in ("MaxMessageSize", "MaxProtocolErrors", "MaxRecipientsPerMessage"):
            _unlimited(reader, "ReceiveConnector", title, known, prop)
        rights = grants.pop(f"{server}\\{known.get('Name', '')}".lower(), [])
        if rights:
            known["ExtendedRights"] = _implied_removed(rights, known, reader, title)
            if not known["ExtendedRights"]:
                del known["ExtendedRights"]
        try:
            ReceiveConnector.from_mapping({**known, "Server": node.upper()}, where)
        except ConfigError as exc:
            raise reader.error(name, exc.place.path if exc.place else where, exc.message, exc.allowed) from None
        per_node.setdefault(node, []).append((where, known))
    for identity in grants:
        reader.warn(f"receive-connector-permissions.json: grants on {identity!r}, a connector not imported, skipped")
    for node, entries in per_node.items():
        spec = got.servers[node]
        server = ExchangeServer(node.upper(), spec["fqdn"], spec["version"], spec["build"])
        defaults = default_receive_connectors(server)
        names = {k["Name"].lower() for _, k in entries}
        overrides = [k for _, k in entries]
        for conn in defaults:
            if conn.name.lower() not in names:
                overrides.append({"Name": conn.name, "Enabled": False})
                reader.warn(f"ReceiveConnector '{conn.name}': a default connector of Exchange {server.version} "
                            "is not in the export (removed?); disabled in the lab")
        try:
            apply_receive_connector_overrides(defaults, overrides, "$")
        except ConfigError as exc:
            raise reader.error(name, "$", f"server {node.upper()}: {exc.message}", exc.allowed) from None
        spec["receive_connectors"] = overrides
    for node, spec in got.servers.items():
        if node not in per_node:
            reader.warn(f"ExchangeServer '{node.upper()}': no receive connectors in {name}; "
                        "the version's defaults are used")


def _permissions(reader: _Reader) -> dict[str, list[dict[str, Any]]]:
    """Explicit Add-ADPermission grants by connector identity (``server\\name``, lower-case)."""
    name = "receive-connector-permissions.json"
    out: dict[str, list[dict[str, Any]]] = {}
    for _where, title, known in reader.each(name, M.PERMISSION, "ADPermission",
                                            label=lambda o: f"{o.get('Identity')} / {o.get('User')}"):
        if known.get("IsInherited"):
            reader.warn(f"ADPermission '{title}': inherited permissions are not modelled; skipped")
            continue
        if known.get("Deny"):
            reader.warn(f"ADPermission '{title}': Deny entries are not modelled; skipped")
            continue
        rights = []
        for right in known.get("ExtendedRights") or ():
            match = next((r for r in EXTENDED_RIGHTS if r.lower() == str(right).lower()), None)
            if match:
                rights.append(match)
            else:
                reader.warn(f"ADPermission '{title}': extended right {right} is not modelled; skipped")
        if rights and known.get("Identity") and known.get("User"):
            out.setdefault(known["Identity"].replace("/", "\\").lower(), []).append(
                {"User": known["User"], "ExtendedRights": rights})
    return out


def _implied_removed(grants: list[dict[str, Any]], known: dict[str, Any], reader: _Reader,
                     title: str) -> list[dict[str, Any]]:
    """Drop grants the connector's PermissionGroups already make (Get-ADPermission lists those too)."""
    groups = [g.strip() for g in str(known.get("PermissionGroups", "")).split(",")]
    implied = [PERMISSION_GROUP_RIGHTS[g] for g in groups if g in PERMISSION_GROUP_RIGHTS]
    if "ExchangeServers" in groups:  # the group's ACEs name Externally Secured Servers too (M-RCV)
        implied.append(EXTERNALLY_SECURED_RIGHTS)
    out = []
    for grant in grants:
        rest = [r for r in grant["ExtendedRights"]
                if not any(user.lower() == grant["User"].lower() and r in rights for user, rights in implied)]
        if rest:
            out.append({"User": grant["User"], "ExtendedRights": rest})
    return out


def _send_connectors(reader: _Reader, got: Collected) -> None:
    name = "send-connectors.json"
    for where, title, known in reader.each(name, M.SEND_CONNECTOR, "SendConnector"):
        spaces = []
        for space in known.get("AddressSpaces", []):
            if space.split(":", 1)[0].strip().upper() == "SMTP" or ":" not in space:
                spaces.append(space)
            else:
                reader.warn(f"SendConnector '{title}': address space {space} is not SMTP; not modelled")
        if not spaces:
            reader.warn(f"SendConnector '{title}': no SMTP address space; skipped")
            continue
        known["AddressSpaces"] = spaces
        servers = known.get("SourceTransportServers") or []
        nodes = [slug(s) for s in servers if slug(s) in got.servers]
        for server in servers:
            if slug(server) not in got.servers:
                reader.warn(f"SendConnector '{title}': source server {server} is not imported; dropped from "
                            "SourceTransportServers")
        if servers and not nodes:
            reader.warn(f"SendConnector '{title}': none of its source servers is imported; skipped")
            continue
        known["SourceTransportServers"] = nodes
        _unlimited(reader, "SendConnector", title, known, "MaxMessageSize")
        if known.get("Usage") is None:
            known.pop("Usage", None)
        reader.validate(name, where, "SendConnector", known)
        got.send_connectors.append(known)


def _addresses(reader: _Reader, kind: str, title: str, known: dict[str, Any]) -> None:
    smtp, other = known.pop("EmailAddresses", ([], []))
    if other:
        reader.warn(f"{kind} '{title}': non-SMTP addresses are not modelled: {', '.join(other)}")
    if smtp:
        known["EmailAddresses"] = smtp


def _recipients(reader: _Reader, got: Collected) -> None:
    for where, title, known in reader.each("mailboxes.json", M.MAILBOX, "Mailbox"):
        _addresses(reader, "Mailbox", title, known)
        server = known.pop("ServerName", None)
        if server and slug(server) in got.servers:
            known["Server"] = slug(server)
        elif server:
            reader.warn(f"Mailbox '{title}': server {server} is not imported; the mailbox has no Server")
        reader.validate("mailboxes.json", where, "Mailbox", known)
        got.mailboxes.append(known)
    for where, title, known in reader.each("remote-mailboxes.json", M.REMOTE_MAILBOX, "RemoteMailbox"):
        _addresses(reader, "RemoteMailbox", title, known)
        reader.validate("remote-mailboxes.json", where, "RemoteMailbox", known)
        got.remote_mailboxes.append(known)
    if got.mailboxes:
        reader.warn("mailboxes: no passwords are collected; set Password on a mailbox in topology.yaml to "
                    "rehearse SMTP AUTH with it")


# --- certificates ------------------------------------------------------------------------------------

def _certificates(reader: _Reader, got: Collected) -> None:
    """Group certificates by thumbprint: one lab certificate per real one, installed on its servers."""
    name = "certificates.json"
    by_thumb: dict[str, dict[str, Any]] = {}
    for where, title, known in reader.each(name, M.CERTIFICATE, "ExchangeCertificate",
                                           label=lambda o: str(o.get("Thumbprint"))):
        for prop in ("Thumbprint", "Subject", "Issuer", "NotBefore", "NotAfter"):
            if prop not in known:
                raise reader.error(name, where, f"a certificate needs {prop}")
        try:
            subject, issuer = parse_x500(known["Subject"]), parse_x500(known["Issuer"])
        except ValueError as exc:
            raise reader.error(name, where, f"Subject/Issuer: {exc}") from None
        server = known.get("Server")
        nodes = [slug(server)] if server else list(got.servers)
        if server and slug(server) not in got.servers:
            reader.warn(f"ExchangeCertificate '{title}': server {server} is not imported; skipped")
            continue
        cert = by_thumb.setdefault(known["Thumbprint"].upper(), {
            "thumbprint": known["Thumbprint"].upper(), "subject": subject, "issuer": issuer,
            "subject_text": known["Subject"], "issuer_text": known["Issuer"],
            "self_signed": bool(known.get("IsSelfSigned")) or x500_key(known["Subject"]) == x500_key(known["Issuer"]),
            "not_before": known["NotBefore"], "not_after": known["NotAfter"],
            "domains": known.get("CertificateDomains") or [], "services": set(), "nodes": [],
            "root_ca_type": known.get("RootCAType")})
        services = {s.strip() for s in str(known.get("Services", "None")).split(",") if s.strip()}
        for service in sorted(services - set(LAB_SERVICES) - {"None"}):
            reader.warn(f"ExchangeCertificate '{title}': service {service} is not modelled")
        cert["services"] |= services & set(LAB_SERVICES)
        if known.get("Status") not in (None, "Valid"):
            reader.warn(f"ExchangeCertificate '{title}': Status {known['Status']} is not modelled; the lab "
                        "certificate is valid between NotBefore and NotAfter")
        for node in nodes:
            if node not in cert["nodes"]:
                cert["nodes"].append(node)
    got.certificates = list(by_thumb.values())
    for cert in got.certificates:
        _check_names(reader, cert)


_LEAF_KEYS, _CA_KEYS = ("CN", "O"), ("CN", "O", "C")


def reproducible(name: tuple[tuple[str, str], ...], keys: tuple[str, ...]) -> bool:
    """Can the lab issue a certificate with exactly this X.500 name (its PKI spec has only ``keys``)?"""
    wanted = [k for k, _ in name]
    return len(set(wanted)) == len(wanted) and set(wanted) <= set(keys) and wanted == [k for k in keys if k in wanted]


def _check_names(reader: _Reader, cert: dict[str, Any]) -> None:
    title = cert["thumbprint"]
    if not reproducible(cert["subject"], _LEAF_KEYS):
        reader.warn(f"ExchangeCertificate '{title}': Subject {cert['subject_text']} has parts the lab's PKI cannot "
                    "issue (it writes CN and O only); a TlsCertificateName naming this Subject will not match")
    if not cert["self_signed"] and not reproducible(cert["issuer"], _CA_KEYS):
        reader.warn(f"ExchangeCertificate '{title}': Issuer {cert['issuer_text']} has parts the lab's CAs cannot "
                    "carry (CN, O and C only); a TlsCertificateName naming this Issuer will not match")


def tls_name_targets(got: Collected) -> list[tuple[str, str, list[str]]]:
    """(what, TlsCertificateName, nodes) of every connector that names a certificate."""
    out = []
    for node, spec in got.servers.items():
        for conn in spec["receive_connectors"]:
            if conn.get("TlsCertificateName"):
                out.append((f"ReceiveConnector '{conn['Name']}'", conn["TlsCertificateName"], [node]))
    for conn in got.send_connectors:
        if conn.get("TlsCertificateName"):
            out.append((f"SendConnector '{conn['Name']}'", conn["TlsCertificateName"],
                        conn.get("SourceTransportServers") or list(got.servers)))
    return out


def check_tls_names(got: Collected, warn: Callable[[str], None]) -> None:
    """Warn about a TlsCertificateName that names no collected certificate of its server(s)."""
    for what, value, nodes in tls_name_targets(got):
        wanted = parse_tls_certificate_name(value)
        for node in nodes:
            if not any(node in c["nodes"] and x500_key(c["issuer_text"]) == x500_key(wanted.issuer)
                       and x500_key(c["subject_text"]) == x500_key(wanted.subject) for c in got.certificates):
                warn(f"{what}: TlsCertificateName names no certificate of {node.upper()} in certificates.json; "
                     "the lab behaves as the server would (no such certificate)")


# --- Exchange Online ----------------------------------------------------------------------------------

def _tenant(reader: _Reader, got: Collected) -> dict[str, Any]:
    _manifest(reader, "exo-manifest.json", got)
    domains, initial = [], None
    for where, _title, known in reader.each("exo-accepted-domains.json", M.EXO_ACCEPTED_DOMAIN, "AcceptedDomain",
                                            label=lambda o: f"{o.get('Name') or o.get('DomainName')} (EXO)"):
        if known.pop("InitialDomain", False):
            initial = known["DomainName"]
        reader.validate("exo-accepted-domains.json", where, "AcceptedDomain", known)
        domains.append(known)
    if initial is None:
        initial = next((d["DomainName"] for d in domains if d["DomainName"].endswith(".onmicrosoft.com")
                        and not d["DomainName"].endswith(".mail.onmicrosoft.com")), None)
    if initial is None:
        raise reader.error("exo-accepted-domains.json", "$", "no initial domain (InitialDomain $true, "
                           "<tenant>.onmicrosoft.com) among the Exchange Online accepted domains")
    tenant: dict[str, Any] = {"initial_domain": initial.lower(), "accepted_domains": domains}
    for file, table, kind, key in (("inbound-connectors.json", M.INBOUND_CONNECTOR, "InboundConnector",
                                    "inbound_connectors"),
                                   ("outbound-connectors.json", M.OUTBOUND_CONNECTOR, "OutboundConnector",
                                    "outbound_connectors"),
                                   ("exo-mailboxes.json", M.MAILBOX, "Mailbox", "mailboxes"),
                                   ("exo-mail-users.json", M.MAIL_USER, "MailUser", "mail_users")):
        objects = []
        for where, title, known in reader.each(file, table, f"{kind} (EXO)" if kind == "Mailbox" else kind):
            if "EmailAddresses" in known:
                _addresses(reader, kind, title, known)
            if known.get("ServerName"):
                reader.warn(f"{kind} (EXO) '{title}': property ServerName = {known['ServerName']} is not modelled")
            known.pop("ServerName", None)
            if kind == "InboundConnector" and known.get("SenderDomains"):
                known["SenderDomains"] = [s if ":" in s else f"smtp:{s};1" for s in known["SenderDomains"]]
            reader.validate(file, where, kind, known)
            objects.append(known)
        if objects:
            tenant[key] = objects
    return tenant


# --- the parts the cmdlets cannot tell: editable defaults (docs/import.md, "Invented parts") ------------

PUBLISHED_BASE = ipaddress.ip_address("198.51.100.10")  # the firewall's public addresses, one per server
INTERNET_CIDRS = ["198.51.100.0/24", "203.0.113.0/24"]
DNS_IP, EXTERNAL_IP, CLIENT_IP = "203.0.113.2", "203.0.113.25", "203.0.113.50"
EOP_CIDRS, EOP_MX_IP, EOP_SUBMISSION_IP = ["40.107.0.0/16", "52.96.0.0/14"], "40.107.22.10", "52.97.10.10"
EXTERNAL_DOMAINS = ("fabrikam.com", "tailspintoys.com", "wingtiptoys.com")
LAB_ROOT = {"name": "lab-public-root", "kind": "root", "common_name": "Lab Public Root CA",
            "organization": "Hybrid Mail Lab", "trusted_by": ["internet"]}
MICROSOFT_CAS = [
    {"name": "digicert-root", "kind": "root", "common_name": "DigiCert Global Root G2", "organization": "DigiCert Inc",
     "country": "US", "trusted_by": ["internet"]},
    {"name": "digicert-cloud", "kind": "intermediate", "issuer": "digicert-root",
     "common_name": "DigiCert Cloud Services CA-1", "organization": "DigiCert Inc", "country": "US"}]


class _World:
    """Builds the topology mapping around what was collected."""

    def __init__(self, got: Collected, warn: Callable[[str], None]):
        self.got, self.warn = got, warn
        self.invented: list[str] = []
        self.used: set[str] = set()
        self.networks: dict[str, dict[str, Any]] = {}
        self.nodes: dict[str, dict[str, Any]] = {}
        self.authorities: list[dict[str, Any]] = []
        self.certificates: list[dict[str, Any]] = []
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.published: dict[str, str] = {}  # server node -> its public address

    def invent(self, value: str) -> str:
        self.invented.append(value)
        self.used.add(value.split("/")[0])
        return value

    # -- network ---------------------------------------------------------------------------------------
    def network(self) -> None:
        self.networks["internet"] = {"kind": "public", "description": "the Internet of the lab",
                                     "cidrs": [self.invent(c) for c in INTERNET_CIDRS]}
        if self.got.tenant is not None:
            self.networks["internet"]["cidrs"] += EOP_CIDRS
        self.nodes["public-dns"] = {"kind": "dns", "description": "the public DNS of the lab (invented address)",
                                    "interfaces": {"internet": self.invent(DNS_IP)}}
        self.nodes["internet-client"] = {"kind": "client", "description": "a computer on the Internet; connections "
                                         "from outside the lab come from here (invented address)",
                                         "interfaces": {"internet": self.invent(CLIENT_IP)}}
        if self.got.servers:
            self.lan()

    def lan(self) -> None:
        org, servers = self.got.org, self.got.servers
        real = [n for n in self._real_networks() if n.version == 4 and n.is_private]
        base = next(n for i in range(200, 256) if not any(
            (n := ipaddress.ip_network(f"10.{i}.0.0/24")).overlaps(r) for r in real))
        lan, fw = f"{org}-lan", f"{org}-fw"
        self.networks[lan] = {"kind": "private", "description": f"the LAN of {org} (invented range)",
                              "cidrs": [self.invent(str(base))]}
        public = []
        for i, (node, spec) in enumerate(servers.items()):
            ip = self.invent(str(base.network_address + 10 + i))
            extra = self._binding_ips(spec, lan)
            spec["interfaces"] = {lan: [ip, *extra] if extra else ip}
            spec["gateway"] = fw
            self.published[node] = self.invent(str(PUBLISHED_BASE + i))
            public.append(self.published[node])
        nat = []
        for node, spec in servers.items():
            ip = spec["interfaces"][lan] if isinstance(spec["interfaces"][lan], str) else spec["interfaces"][lan][0]
            for port, what in ((25, "SMTP"), (587, "SMTP Submission")):
                nat.append({"type": "publish", "name": f"{what} {node.upper()}",
                            "external": f"{self.published[node]}:{port}", "internal": f"{ip}:{port}"})
        nat.append({"type": "masquerade", "name": "Outbound", "from": lan, "external": public[0]})
        self.nodes[fw] = {"kind": "firewall", "description": f"{org}'s firewall publishing SMTP (invented addresses)",
                          "interfaces": {"internet": public if len(public) > 1 else public[0],
                                         lan: self.invent(str(base.network_address + 1))}, "nat": nat}
        for node, spec in servers.items():
            self.nodes[node] = {"kind": "exchange", "org": org, **{k: v for k, v in spec.items() if v != []}}
        self.relay_senders(lan, fw)

    def _real_networks(self) -> list[Any]:
        out = []
        for spec in self.got.servers.values():
            for conn in spec["receive_connectors"]:
                for text in [*conn.get("RemoteIPRanges", []), *(b.rsplit(":", 1)[0] for b in conn.get("Bindings", []))]:
                    out.extend(_networks_of(text))
        return out

    def _binding_ips(self, spec: dict[str, Any], lan: str) -> list[str]:
        """Specific binding addresses of the server's connectors: the server answers on them too."""
        out: list[str] = []
        for conn in spec["receive_connectors"]:
            for text in conn.get("Bindings", []):
                ip = ipaddress.ip_address(text.rsplit(":", 1)[0].strip("[]"))
                if ip.is_unspecified or ip.version != 4 or str(ip) in out:
                    continue
                if not ip.is_private:
                    self.warn(f"ReceiveConnector '{conn['Name']}': binding {text} is a public address; the lab "
                              "server has only LAN addresses, so nothing connects to it")
                    continue
                self._cover(lan, ip)
                out.append(str(ip))
                self.used.add(str(ip))
        return out

    def _cover(self, network: str, ip: Any) -> None:
        cidrs = self.networks[network]["cidrs"]
        if not any(ip in ipaddress.ip_network(c) for c in cidrs):
            cidrs.append(str(ipaddress.ip_network(f"{ip}/{24 if network != 'internet' else 32}", strict=False)))

    def relay_senders(self, lan: str, fw: str) -> None:
        """A device inside the RemoteIPRanges of each added receive connector (a relay or partner sender)."""
        for node, spec in self.got.servers.items():
            defaults = {c.name.lower() for c in default_receive_connectors(
                ExchangeServer(node.upper(), spec["fqdn"], spec["version"], spec["build"]))}
            for conn in spec["receive_connectors"]:
                if conn["Name"].lower() in defaults or conn.get("Enabled") is False or not conn.get("RemoteIPRanges"):
                    continue
                ip = self._sender_ip(conn["RemoteIPRanges"][0])
                if ip is None:
                    continue
                name = slug(conn["Name"]) + "-sender"
                while name in self.nodes or name in self.got.servers:
                    name += "-2"
                where = lan if ip.is_private else "internet"
                self._cover(where, ip)
                self.nodes[name] = {"kind": "device", "description": f"a sender inside RemoteIPRanges of receive "
                                    f"connector '{conn['Name']}' on {node.upper()} (its first free address)",
                                    "interfaces": {where: str(ip)}, **({"gateway": fw} if where == lan else {})}
                self.warn(f"ReceiveConnector '{conn['Name']}': added device {name} at {ip} to rehearse its senders")

    def _sender_ip(self, text: str) -> Any:
        nets = _networks_of(text)
        if len(nets) != 1 or nets[0].version != 4 or nets[0].num_addresses > 65536:
            return None
        first, last = int(nets[0].network_address), int(nets[0].broadcast_address)
        if nets[0].num_addresses > 2 and "/" in text:
            first, last = first + 1, last - 1
        for value in range(first, min(last, first + 256) + 1):
            ip = ipaddress.ip_address(value)
            if str(ip) not in self.used:
                self.used.add(str(ip))
                return ip
        return None

    # -- PKI -------------------------------------------------------------------------------------------
    def pki(self) -> None:
        keyed: dict[tuple, str] = {}
        if self.got.tenant is not None:
            self.authorities += [dict(a) for a in MICROSOFT_CAS]
            for a in MICROSOFT_CAS:
                keyed[x500_key(_name_text(a))] = a["name"]
        for cert in self.got.certificates:
            issuer = "self" if cert["self_signed"] else self._authority(cert, keyed)
            parts = dict(cert["subject"])
            cn = parts.get("CN") or (cert["domains"][0] if cert["domains"] else cert["thumbprint"])
            spec = {"name": f"{slug(cn)}-{cert['thumbprint'][:8].lower()}", "issuer": issuer, "common_name": cn}
            if cert["domains"]:
                spec["sans"] = list(dict.fromkeys(cert["domains"]))
            if parts.get("O"):
                spec["organization"] = parts["O"]
            days = max(1, -(-int((cert["not_after"] - cert["not_before"]).total_seconds()) // 86400))
            spec.update(valid_from=cert["not_before"].isoformat(), valid_days=days,
                        services=sorted(cert["services"]) or ["None"])
            cert["name"] = spec["name"]
            self.certificates.append(spec)
            for node in cert["nodes"]:
                self.got.servers[node]["certificates"].append(spec["name"])

    def _authority(self, cert: dict[str, Any], keyed: dict[tuple, str]) -> str:
        key = x500_key(cert["issuer_text"])
        trust = _trust(cert.get("root_ca_type"), self.got.org or "")
        if key in keyed:
            found = next(a for a in self.authorities if a["name"] == keyed[key])
            if found["kind"] == "root":
                found["trusted_by"] = sorted(set(found.get("trusted_by", [])) | set(trust or ["internet"]))
            return keyed[key]
        parts = dict(cert["issuer"])
        cn = parts.get("CN") or cert["issuer_text"]
        name = f"ca-{slug(cn)}"
        while any(a["name"] == name for a in self.authorities):
            name += "-2"
        same = [c for c in self.got.certificates if not c["self_signed"] and x500_key(c["issuer_text"]) == key]
        start, end = min(c["not_before"] for c in same), max(c["not_after"] for c in same)
        spec = {"name": name, "kind": "root", "common_name": cn, "trusted_by": trust or ["internet"],
                "valid_from": (start.replace(microsecond=0) - _days(30)).isoformat(),
                "valid_days": int((end - start).days) + 30 + 3650}
        if parts.get("O"):
            spec["organization"] = parts["O"]
        if len(parts.get("C", "")) == 2:
            spec["country"] = parts["C"]
        if trust is None:
            self.warn(f"CA '{cert['issuer_text']}': RootCAType not collected; assumed a public CA the Internet trusts")
        self.warn(f"CA '{cert['issuer_text']}': the lab root {name} (same name, invented key) re-issues its "
                  "certificates; the real chain above it is not collected")
        self.authorities.append(spec)
        keyed[key] = name
        return name

    # -- DNS -------------------------------------------------------------------------------------------
    def add(self, host: str, rtype: str, value: str, preference: int | None = None) -> None:
        zone = max((z for z in self.records if host == z or host.endswith("." + z)), key=len, default=None)
        if zone is None:
            return
        name = "@" if host == zone else host[: -len(zone) - 1]
        record: dict[str, Any] = {"name": name, "type": rtype, "value": value}
        if preference is not None:
            record["preference"] = preference
        if rtype == "A" and any(r["name"] == name and r["type"] in ("A", "CNAME") for r in self.records[zone]):
            return
        self.records[zone].append(record)

    def dns(self) -> None:
        got, tenant = self.got, self.got.tenant
        onprem = [d["DomainName"] for d in got.accepted_domains]
        cloud = [d["DomainName"] for d in (tenant or {}).get("accepted_domains", [])]
        public = [d for d in dict.fromkeys(onprem + cloud) if not d.startswith("*.") and
                  not d.endswith("onmicrosoft.com")]
        for d in (*onprem, *cloud):
            if d.startswith("*."):
                self.warn(f"AcceptedDomain '{d}': no DNS zone is made for a wildcard domain")
        for d in public:
            self.records.setdefault(d, [])
        first = next(iter(self.published.values()), None)
        for cert in got.certificates:
            if {"SMTP", "IIS"} & cert["services"] and cert["nodes"][0] in self.published:
                for name in cert["domains"]:
                    if not name.startswith("*."):
                        self.add(name.lower(), "A", self.published[cert["nodes"][0]])
        hybrid = self.hybrid()
        for d in public:
            if tenant is not None and (d in cloud and (hybrid or d not in onprem)):
                self.add(d, "MX", f"{d.replace('.', '-')}.mail.protection.outlook.com", 0)
            elif first is not None:
                host = next((n for c in got.certificates if "SMTP" in c["services"] for n in c["domains"]
                             if n.lower().endswith("." + d) and not n.startswith("*.")), f"mail.{d}").lower()
                self.add(host, "A", first)
                self.add(d, "MX", host, 10)
            if first is not None:
                spf = f"v=spf1 ip4:{first}" + (" include:spf.protection.outlook.com" if tenant else "") + " -all"
                self.add(d, "TXT", spf)
        for conn in (tenant or {}).get("outbound_connectors", []):
            for host in conn.get("SmartHosts", []):
                if first is not None and not host.replace(".", "").isdigit():
                    self.add(host.lower(), "A", first)
                elif first is None:
                    self.warn(f"OutboundConnector '{conn['Name']}': smart host {host} has no address in the lab "
                              "(no on-premises servers imported); add an A record or a host for it")
        if tenant is not None:
            self.eop_zones(public, cloud)
        for d in public:
            if not self.records[d]:
                self.warn(f"DNS zone {d}: no records (no published server and no Exchange Online)")

    def eop_zones(self, public: list[str], cloud: list[str]) -> None:
        tenant = self.got.tenant or {}
        label = tenant["initial_domain"].split(".")[0]
        self.records.update({"protection.outlook.com": [], "onmicrosoft.com": [], "office365.com": []})
        self.add(f"{label}.mail.protection.outlook.com", "A", EOP_MX_IP)
        for d in public:
            if d in cloud:
                self.add(f"{d.replace('.', '-')}.mail.protection.outlook.com", "A", EOP_MX_IP)
        self.add("spf.protection.outlook.com", "TXT", "v=spf1 ip4:40.107.0.0/16 ip4:52.96.0.0/14 -all")
        for d in cloud:
            if d.endswith(".onmicrosoft.com"):
                self.add(d, "MX", f"{label}.mail.protection.outlook.com", 0)
        self.add("smtp.office365.com", "A", EOP_SUBMISSION_IP)

    def hybrid(self) -> bool:
        tenant = self.got.tenant or {}
        conns = [*tenant.get("inbound_connectors", []), *tenant.get("outbound_connectors", [])]
        return bool(self.got.servers) and (any(c.get("ConnectorType") == "OnPremises" for c in conns) or any(
            c.get("CloudServicesMailEnabled") for c in self.got.send_connectors))

    # -- EOP and the Internet --------------------------------------------------------------------------
    def eop(self) -> None:
        self.nodes["eop"] = {"kind": "eop", "description": "Exchange Online Protection (Microsoft's ranges)",
                             "interfaces": {"internet": [EOP_MX_IP, EOP_SUBMISSION_IP]},
                             "endpoints": {"mx": EOP_MX_IP, "submission": EOP_SUBMISSION_IP},
                             "frontend_host": "AM5EUR02FT025.mail.protection.outlook.com",
                             "certificates": ["eop-mx", "eop-submission"]}
        self.certificates += [
            {"name": "eop-mx", "issuer": "digicert-cloud", "common_name": "mail.protection.outlook.com",
             "organization": "Microsoft Corporation",
             "sans": ["mail.protection.outlook.com", "*.mail.protection.outlook.com"]},
            {"name": "eop-submission", "issuer": "digicert-cloud", "common_name": "outlook.com",
             "organization": "Microsoft Corporation",
             "sans": ["smtp.office365.com", "outlook.office365.com", "*.outlook.office365.com"]}]

    def external(self, taken: set[str]) -> tuple[str, dict[str, Any]]:
        domain = next(d for d in EXTERNAL_DOMAINS if d not in taken and slug(d.split(".")[0]) != self.got.org)
        org = slug(domain.split(".")[0])
        node = f"{org}-ex"
        self.authorities.append(dict(LAB_ROOT))
        self.certificates.append({"name": f"{org}-public", "issuer": LAB_ROOT["name"], "common_name": f"mx.{domain}",
                                  "sans": [f"mx.{domain}"], "services": ["SMTP"]})
        self.nodes[node] = {"kind": "exchange", "org": org, "version": 2019, "fqdn": f"mx.{domain}",
                            "description": "an external mail domain on the Internet, to test mail to and from it",
                            "interfaces": {"internet": self.invent(EXTERNAL_IP)}, "certificates": [f"{org}-public"]}
        self.records[domain] = [{"name": "mx", "type": "A", "value": EXTERNAL_IP},
                                {"name": "@", "type": "MX", "preference": 10, "value": f"mx.{domain}"}]
        return org, {"accepted_domains": [{"DomainName": domain, "DomainType": "Authoritative", "Default": True}],
                     "mailboxes": [{"Name": "someone", "PrimarySmtpAddress": f"someone@{domain}",
                                    "Password": "P@ssw0rd", "Server": node}],
                     "send_connectors": [{"Name": "Internet", "AddressSpaces": ["SMTP:*;1"],
                                          "SourceTransportServers": [node]}]}


def _days(n: int) -> Any:
    from datetime import timedelta  # noqa: PLC0415
    return timedelta(days=n)


def _name_text(authority: Mapping[str, Any]) -> str:
    parts = [("CN", authority["common_name"]), ("O", authority.get("organization")), ("C", authority.get("country"))]
    return ", ".join(f"{k}={v}" for k, v in parts if v)


def _trust(root_ca_type: Any, org: str) -> list[str] | None:
    """Who trusts a CA, from Get-ExchangeCertificate's RootCAType (None: not collected)."""
    kind = str(root_ca_type or "").strip()
    if kind in ("Enterprise", "GroupPolicy", "Registry"):
        return [org] if org else ["internet"]
    if kind == "ThirdParty":
        return ["internet"]
    return None


def _networks_of(text: str) -> list[Any]:
    """The networks an IP / a-b / CIDR text covers (nothing for text that is none of those)."""
    text = text.strip().strip("[]")
    try:
        if "-" in text:
            low, high = (ipaddress.ip_address(p.strip()) for p in text.split("-", 1))
            return list(ipaddress.summarize_address_range(low, high))
        return [ipaddress.ip_network(text, strict=False)]
    except ValueError:
        return []


def build_world(got: Collected, warn: Callable[[str], None]) -> dict[str, Any]:
    """The whole topology mapping: collected objects plus the invented network, DNS, PKI and Internet."""
    world = _World(got, warn)
    world.pki()
    world.network()
    tenant = got.tenant
    if tenant is not None:
        world.eop()
    world.dns()
    check_tls_names(got, warn)
    organizations: dict[str, Any] = {}
    if got.servers:
        organizations[got.org or "onprem"] = {k: v for k, v in (
            ("accepted_domains", got.accepted_domains), ("mailboxes", got.mailboxes),
            ("remote_mailboxes", got.remote_mailboxes), ("send_connectors", got.send_connectors)) if v}
    taken = {d["DomainName"] for d in got.accepted_domains} | {
        d["DomainName"] for d in (tenant or {}).get("accepted_domains", [])}
    ext_org, ext_spec = world.external(taken)
    organizations[ext_org] = ext_spec
    name = got.org or (tenant["initial_domain"].split(".")[0] if tenant else "imported")
    topology: dict[str, Any] = {
        "name": f"{name}-imported",
        "description": "imported by `lab import` from the cmdlet output of tools/collect-*.ps1; addresses marked "
                       "'invented' are editable defaults (docs/import.md)",
        "settings": {"clock": {"start": got.clock or _now()}, "loopback_base": "127.42.0.0/16",
                     "outside_host": "internet-client"},
        "topology": {"networks": world.networks, "nodes": world.nodes},
        "dns": {"server": "public-dns", "zones": {z: {"records": r} for z, r in world.records.items()}},
        "pki": {"authorities": world.authorities, "certificates": world.certificates},
        "organizations": organizations,
    }
    if tenant is not None:
        label = slug(tenant["initial_domain"].split(".")[0])
        spec = {"initial_domain": tenant["initial_domain"], "eop": "eop",
                **({"hybrid_organization": got.org} if world.hybrid() else {}),
                **{k: v for k, v in tenant.items() if k != "initial_domain"}}
        topology["tenants"] = {label: spec}
    topology["_invented"] = world.invented
    return topology


def _now() -> str:
    from datetime import datetime, timezone  # noqa: PLC0415
    return datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0).isoformat()


# --- writing -----------------------------------------------------------------------------------------

INVENTED_NOTE = "# invented by lab import: edit to match your network"
_IP_TOKEN = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?\b")


def write_topology(topology: Mapping[str, Any], path: str | Path) -> None:
    """Write the topology as YAML; lines holding an invented address or range get a comment."""
    invented = set(getattr(topology, "invented", ()) or ())
    body = yaml.safe_dump(dict(topology), sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096)
    lines = []
    for line in body.splitlines():
        tokens = _IP_TOKEN.findall(line)
        lines.append(f"{line}  {INVENTED_NOTE}" if any(t in invented for t in tokens) else line)
    header = ("# Imported by `lab import` (docs/import.md). Exchange objects keep the names and values the cmdlets\n"
              "# printed; the network, public DNS, CA keys, EOP and the Internet are editable defaults.\n"
              "# Validate with `lab validate`.\n\n")
    Path(path).write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
