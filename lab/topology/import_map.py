"""How cmdlet JSON (``Get-* | ConvertTo-Json -Depth 4``) maps onto topology.yaml's Exchange properties.

Each Exchange object kind has a table: property name (as the cmdlet prints it) -> a reader that
turns the JSON value into the value topology.yaml takes under the same Exchange name. Every
property that is not in the table is reported (``Kind 'Name': property P = V is not modelled``),
except the directory bookkeeping every Exchange object carries (:data:`BOOKKEEPING`), which is
reported once per file.

The same property comes out in several shapes depending on where the cmdlet ran (docs/import.md):

* Exchange Management Shell (a remote session): Exchange types are deserialized; sizes are
  strings ``"36 MB (37,748,736 bytes)"``, enums strings (flags comma-joined: ``"Tls, BasicAuth"``),
  identities strings or ``{Name: ...}`` objects, address spaces objects ``{Address, Type, Cost}``.
* A local snap-in / PowerShell 5.1 without ``-EnumsAsStrings``: enums are numbers, sizes
  ``{"IsUnlimited": false, "Value": ...}``, dates ``"/Date(1767225600000)/"``.

Readers accept all of them. Enum numbers are decoded with :data:`ENUM_NUMBERS`, whose values are
UNCONFIRMED (taken from the .NET enum declarations as remembered, not from a live server); an
unknown number is an error asking for string enums, never a guess. A value a reader cannot read
raises :class:`ImportValueError`, which the importer turns into a ConfigError naming the file
and the JSON path.
"""
from __future__ import annotations

import ipaddress
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

#: Directory metadata on every Exchange object: not configuration (reported once per file).
BOOKKEEPING = frozenset(s.lower() for s in (
    "PSComputerName", "PSShowComputerName", "RunspaceId", "PSSourceJobInstanceId", "Identity", "Guid", "Id",
    "DistinguishedName", "ObjectCategory", "ObjectClass", "WhenChanged", "WhenCreated", "WhenChangedUTC",
    "WhenCreatedUTC", "OrganizationId", "OriginatingServer", "IsValid", "ObjectState", "ExchangeVersion",
    "ExchangeObjectId", "AdminDisplayName", "ImmutableId", "ObjectId"))

#: Enum numbers -> names (``[Flags]`` enums are decoded bit by bit). UNCONFIRMED values.
ENUM_NUMBERS: dict[str, tuple[bool, dict[int, str]]] = {
    "PermissionGroups": (True, {0: "None", 1: "AnonymousUsers", 2: "ExchangeUsers", 4: "ExchangeServers",
                                8: "ExchangeLegacyServers", 16: "Partners", 32: "Custom"}),
    "AuthMechanism": (True, {0: "None", 1: "Tls", 2: "Integrated", 4: "BasicAuth", 8: "BasicAuthRequireTLS",
                             16: "ExchangeServer", 32: "ExternalAuthoritative"}),
    "TransportRole": (False, {32: "HubTransport", 16384: "FrontendTransport"}),
    "ProtocolLoggingLevel": (False, {0: "None", 1: "Verbose"}),
    "SizeEnabled": (False, {0: "Disabled", 1: "Enabled", 2: "EnabledWithoutValue"}),
    "DomainType": (False, {0: "Authoritative", 1: "ExternalRelay", 2: "InternalRelay"}),
    "TlsAuthLevel": (False, {1: "EncryptionOnly", 2: "CertificateValidation", 4: "DomainValidation"}),
    "TlsSettings": (False, {1: "EncryptionOnly", 2: "CertificateValidation", 4: "DomainValidation"}),
    "ErrorPolicies": (True, {0: "Default", 1: "DowngradeDnsFailures", 2: "DowngradeCustomFailures",
                             4: "UpgradeCustomFailures"}),
    "ConnectorSource": (False, {0: "Default", 1: "Migrated", 2: "HybridWizard"}),
    "ConnectorType": (False, {1: "Partner", 2: "OnPremises"}),
    "Services": (True, {0: "None", 1: "IMAP", 2: "POP", 4: "UM", 8: "IIS", 16: "SMTP", 32: "Federation",
                        64: "UMCallRouter"}),
    "RootCAType": (False, {0: "None", 1: "Registry", 2: "ThirdParty", 3: "GroupPolicy", 4: "Enterprise",
                           5: "Unknown"}),
    "ServerRole": (True, {2: "Mailbox", 4: "ClientAccess", 16: "UnifiedMessaging", 32: "HubTransport",
                          64: "Edge"}),
}
UNLIMITED_INT = 2 ** 31 - 1


class ImportValueError(ValueError):
    """A value the importer cannot read; ``path`` is relative to the object (``AddressSpaces[0]``)."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.message = message
        self.path = path


# --- generic readers -------------------------------------------------------------------------------

def render(value: Any, limit: int = 100) -> str:
    """A short human form of a JSON value for warnings."""
    if value is None:
        return "$null"
    if isinstance(value, bool):
        return "$true" if value else "$false"
    if isinstance(value, dict):
        if "IsUnlimited" in value:
            return "Unlimited" if value.get("IsUnlimited") else render(value.get("Value"), limit)
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    elif isinstance(value, list):
        text = "{" + ", ".join(render(v, limit) for v in value) + "}"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def identity(value: Any) -> str:
    """An identity: ``"EX01"``, ``{"Name": "EX01", ...}``, ``"contoso.com/.../EX01"`` -> ``EX01``."""
    if isinstance(value, dict):
        for key in ("Name", "DisplayName", "RawIdentity", "ToString", "Domain", "Address"):
            if isinstance(value.get(key), str) and value[key].strip():
                return value[key].strip()
        raise ImportValueError(f"cannot read an identity from {render(value)}")
    if value is None or isinstance(value, (list, bool)) or not str(value).strip():
        raise ImportValueError(f"expected a name, got {render(value)}")
    return str(value).strip().replace("\\", "/").rsplit("/", 1)[-1]


def text(value: Any) -> str | None:
    """A string (identity objects give their name)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return identity(value)


def boolean(value: Any) -> bool:
    """``true``/``false`` or ``"True"``/``"False"``."""
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("true", "$true"):
        return True
    if str(value).strip().lower() in ("false", "$false"):
        return False
    raise ImportValueError(f"expected $true or $false, got {render(value)}")


def items(value: Any) -> list[Any]:
    """A multi-valued property: a JSON array, a single value, or a comma-joined string."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part.strip() for part in value.strip("{}").split(",") if part.strip()]
    return [value]


def enum_value(prop: str) -> Callable[[Any], str]:
    """A reader for an enum property: names (``"Tls, BasicAuth"``) kept, numbers decoded."""
    def read(value: Any) -> str:
        if isinstance(value, bool) or value is None:
            raise ImportValueError(f"expected a {prop} value, got {render(value)}")
        if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
            return decode_number(prop, int(value))
        if isinstance(value, list):
            return ", ".join(read(v) for v in value)
        if isinstance(value, dict):
            return identity(value)
        return str(value).strip()
    return read


def decode_number(prop: str, number: int) -> str:
    """An enum number as its name(s).

    Raises:
        ImportValueError: the number is not known (run the collection with string enums).
    """
    flags, names = ENUM_NUMBERS.get(prop, (False, {}))
    hint = "re-run the collection script (it writes enums as names) or replace the number by its name"
    if not flags:
        if number in names:
            return names[number]
        raise ImportValueError(f"{prop} = {number}: this enum number is unknown to the importer; {hint}")
    if number == 0 and 0 in names:
        return names[0]
    chosen = [name for bit, name in sorted(names.items()) if bit and number & bit]
    if sum(bit for bit in names if bit and number & bit) != number or not chosen:
        raise ImportValueError(f"{prop} = {number}: these enum flags are unknown to the importer; {hint}")
    return ", ".join(chosen)


_SIZE_TEXT = re.compile(r"\(([\d,.\s]+) bytes\)", re.I)
_SIZE_PLAIN = re.compile(r"^\s*([\d.]+)\s*(B|KB|MB|GB|TB)?\s*$", re.I)
_UNITS = {"b": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3, "tb": 1024 ** 4}


def size(value: Any) -> int | str:
    """A ByteQuantifiedSize in bytes, or ``"Unlimited"``.

    Shapes: ``"36 MB (37,748,736 bytes)"``, ``37748736``, ``"36MB"``, ``{"IsUnlimited": false,
    "Value": <any of these>}``, ``{"IsUnlimited": true}``, ``"Unlimited"``.
    """
    if isinstance(value, dict):
        if value.get("IsUnlimited") is True:
            return "Unlimited"
        if "Value" in value:
            return size(value["Value"])
        for key in ("ToBytes", "Bytes", "Length"):
            if isinstance(value.get(key), int):
                return value[key]
        raise ImportValueError(f"cannot read a size from {render(value)}")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raw = str(value).strip()
    if raw.lower() == "unlimited":
        return "Unlimited"
    match = _SIZE_TEXT.search(raw)
    if match:
        return int(re.sub(r"[,.\s]", "", match.group(1)))
    match = _SIZE_PLAIN.match(raw.replace(",", ""))
    if match:
        return int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])
    raise ImportValueError(f"cannot read a size from {render(value)}")


def unlimited_int(value: Any) -> int | str:
    """An ``Unlimited<int>``: a number, ``"Unlimited"`` or ``{"IsUnlimited": ..., "Value": n}``."""
    if isinstance(value, dict):
        if value.get("IsUnlimited") is True:
            return "Unlimited"
        return unlimited_int(value.get("Value"))
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raw = str(value).strip().replace(",", "")
    if raw.lower() == "unlimited":
        return "Unlimited"
    if raw.isdigit():
        return int(raw)
    raise ImportValueError(f"expected a number or Unlimited, got {render(value)}")


_DOTNET_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def date(value: Any) -> datetime:
    """A date: ``"/Date(ms)/"`` (PowerShell 5.1), ISO 8601 (7.x), ``{"value": ..., "DateTime": ...}``."""
    if isinstance(value, dict):
        for key in ("value", "Value", "DateTime"):
            if key in value:
                return date(value[key])
        raise ImportValueError(f"cannot read a date from {render(value)}")
    raw = str(value).strip()
    match = _DOTNET_DATE.match(raw.replace("\\/", "/"))
    if match:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(match.group(1)))
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ImportValueError(f"cannot read a date from {render(value)} (expected ISO 8601 or /Date(ms)/)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def ip_text(value: Any) -> str:
    """An IP address: a string, ``{"IPAddressToString": ...}`` or ``{"Address": <int, little-endian>}``."""
    if isinstance(value, str):
        return str(ipaddress.ip_address(value.strip().strip("[]")))
    if isinstance(value, dict):
        for key in ("IPAddressToString", "ToString"):
            if isinstance(value.get(key), str):
                return ip_text(value[key])
        if isinstance(value.get("Address"), int) and int(value.get("AddressFamily", 2) or 2) in (2, 0):
            return str(ipaddress.IPv4Address(value["Address"].to_bytes(4, "little")))
        if "Address" in value:
            return ip_text(value["Address"])
    raise ImportValueError(f"cannot read an IP address from {render(value)}")


def binding(value: Any) -> str:
    """A receive connector binding: ``"0.0.0.0:25"``, ``"[::]:25"`` or ``{Address, Port}``."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict) and "Port" in value:
        ip = ip_text(value.get("Address"))
        return f"[{ip}]:{int(value['Port'])}" if ":" in ip else f"{ip}:{int(value['Port'])}"
    raise ImportValueError(f"cannot read a binding from {render(value)}")


def ip_range(value: Any) -> str:
    """A RemoteIPRanges entry: text, or ``{LowerBound, UpperBound[, CIDRLength, RangeFormat]}``."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        for key in ("Expression", "ToString"):
            if isinstance(value.get(key), str):
                return value[key].strip()
        if "LowerBound" in value:
            low = ip_text(value["LowerBound"])
            high = ip_text(value.get("UpperBound", value["LowerBound"]))
            cidr = value.get("CIDRLength")
            if str(value.get("RangeFormat", "")).lower() == "cidr" and isinstance(cidr, int):
                return f"{low}/{cidr}"
            return low if low == high else f"{low}-{high}"
    raise ImportValueError(f"cannot read an IP range from {render(value)}")


def address_space(value: Any) -> str:
    """An address space: ``"SMTP:*;1"`` or ``{Address, Type, Cost}`` -> ``Type:Address;Cost``."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict) and "Address" in value:
        kind = value.get("Type") or "SMTP"
        kind = {0: "SMTP", 1: "X400"}.get(kind, kind) if isinstance(kind, int) else kind
        return f"{kind}:{text(value['Address'])};{int(value.get('Cost', 1) or 1)}"
    raise ImportValueError(f"cannot read an address space from {render(value)}")


def domain_text(value: Any) -> str:
    """A domain (SmtpDomainWithSubdomains): ``"contoso.com"`` or ``{Address | Domain, IncludeSubDomains}``."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        if isinstance(value.get("Address"), str):
            return value["Address"].strip()
        if "Domain" in value:
            base = value["Domain"] if isinstance(value["Domain"], str) else domain_text(value["Domain"])
            return ("*." if value.get("IncludeSubDomains") else "") + base
    raise ImportValueError(f"cannot read a domain from {render(value)}")


def smart_host(value: Any) -> str:
    """A smart host: text, or ``{IsIPAddress, Address, Domain}``."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        if value.get("IsIPAddress") and value.get("Address") is not None:
            return ip_text(value["Address"])
        for key in ("Domain", "HostnameString", "Address"):
            if value.get(key) is not None:
                inner = value[key]
                return inner.strip() if isinstance(inner, str) else domain_text(inner)
    raise ImportValueError(f"cannot read a smart host from {render(value)}")


def smtp_address(value: Any) -> str:
    """An SMTP address: ``"a@b"``, ``"SMTP:a@b"`` or ``{Address | AddressString | ProxyAddressString}``."""
    if isinstance(value, str):
        raw = value.strip()
        return raw[5:] if raw.lower().startswith("smtp:") else raw
    if isinstance(value, dict):
        for key in ("AddressString", "Address", "ProxyAddressString"):
            if isinstance(value.get(key), str):
                return smtp_address(value[key])
    raise ImportValueError(f"cannot read an SMTP address from {render(value)}")


def proxy_addresses(value: Any) -> tuple[list[str], list[str]]:
    """EmailAddresses -> (SMTP addresses, every other proxy address such as X500:/SIP:)."""
    smtp, other = [], []
    for entry in items(value):
        raw = entry if isinstance(entry, str) else (entry.get("ProxyAddressString") or entry.get("AddressString")
                                                    if isinstance(entry, dict) else None)
        if not isinstance(raw, str):
            raise ImportValueError(f"cannot read a proxy address from {render(entry)}")
        if ":" in raw and not raw.lower().startswith("smtp:"):
            other.append(raw)
        else:
            smtp.append(smtp_address(raw))
    return smtp, other


def tls_certificate_name(value: Any) -> str | None:
    """``"<I>issuer<S>subject"`` or ``{CertificateIssuer, CertificateSubject}``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and "CertificateIssuer" in value:
        return f"<I>{value['CertificateIssuer']}<S>{value.get('CertificateSubject', '')}"
    raise ImportValueError(f"cannot read a TlsCertificateName from {render(value)}")


def capability(value: Any) -> str:
    """A TlsDomainCapabilities entry: ``"domain:Capability"`` or ``{Domain, Capabilities}``."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict) and "Domain" in value:
        caps = value.get("Capabilities")
        caps = ", ".join(items(caps)) if not isinstance(caps, int) else str(caps)
        return f"{domain_text(value['Domain'])}:{caps}"
    raise ImportValueError(f"cannot read a domain capability from {render(value)}")


def many(reader: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    """A reader for a multi-valued property whose items ``reader`` reads."""
    def read(value: Any) -> list[Any]:
        out = []
        for i, item in enumerate(items(value)):
            try:
                out.append(reader(item))
            except ImportValueError as exc:
                raise ImportValueError(exc.message, f"[{i}]{exc.path}") from None
        return out
    return read


def keep(value: Any) -> Any:
    """The value as it is (strings, numbers, booleans)."""
    if isinstance(value, (dict, list)):
        raise ImportValueError(f"expected a plain value, got {render(value)}")
    return value


def optional(reader: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``reader``, with ``$null``/empty kept as None."""
    return lambda value: None if value is None or value == "" or value == [] else reader(value)


# --- the tables: Exchange property -> reader of its JSON value ---------------------------------------

_E = enum_value
SEND_CONNECTOR = {
    "Name": text, "AddressSpaces": many(address_space), "DNSRoutingEnabled": boolean, "SmartHosts": many(smart_host),
    "Port": keep, "Fqdn": optional(domain_text), "RequireTLS": boolean, "IgnoreSTARTTLS": boolean,
    "TlsAuthLevel": optional(_E("TlsAuthLevel")), "TlsDomain": optional(domain_text),
    "TlsCertificateName": optional(tls_certificate_name), "CloudServicesMailEnabled": boolean,
    "ErrorPolicies": _E("ErrorPolicies"), "SourceTransportServers": many(identity), "Enabled": boolean,
    "MaxMessageSize": size, "Usage": optional(_E("Usage")),
}
RECEIVE_CONNECTOR = {
    "Name": text, "Server": identity, "TransportRole": _E("TransportRole"), "Bindings": many(binding),
    "RemoteIPRanges": many(ip_range), "PermissionGroups": _E("PermissionGroups"),
    "AuthMechanism": _E("AuthMechanism"), "RequireTLS": boolean, "Fqdn": optional(domain_text),
    "TlsCertificateName": optional(tls_certificate_name), "Banner": optional(text), "MaxMessageSize": size,
    "MaxRecipientsPerMessage": unlimited_int, "MaxProtocolErrors": unlimited_int, "Enabled": boolean,
    "TlsDomainCapabilities": many(capability), "ProtocolLoggingLevel": _E("ProtocolLoggingLevel"),
    "Comment": optional(text), "EnableAuthGSSAPI": boolean, "SuppressXAnonymousTls": boolean,
    "SizeEnabled": _E("SizeEnabled"), "PipeliningEnabled": boolean, "DeliveryStatusNotificationEnabled": boolean,
    "EnhancedStatusCodesEnabled": boolean, "EightBitMimeEnabled": boolean, "BinaryMimeEnabled": boolean,
    "ChunkingEnabled": boolean, "OrarEnabled": boolean, "LongAddressesEnabled": boolean,
}
ACCEPTED_DOMAIN = {"DomainName": domain_text, "DomainType": _E("DomainType"), "Name": text, "Default": boolean}
EXO_ACCEPTED_DOMAIN = {**ACCEPTED_DOMAIN, "InitialDomain": boolean}
MAILBOX = {"Name": text, "PrimarySmtpAddress": smtp_address, "Alias": text, "EmailAddresses": proxy_addresses,
           "ServerName": optional(text)}
REMOTE_MAILBOX = {"Name": text, "PrimarySmtpAddress": smtp_address, "RemoteRoutingAddress": smtp_address,
                  "EmailAddresses": proxy_addresses}
MAIL_USER = {"Name": text, "PrimarySmtpAddress": smtp_address, "ExternalEmailAddress": smtp_address,
             "EmailAddresses": proxy_addresses}
INBOUND_CONNECTOR = {
    "Name": text, "ConnectorType": _E("ConnectorType"), "ConnectorSource": _E("ConnectorSource"),
    "SenderDomains": many(address_space), "SenderIPAddresses": many(ip_range),
    "RestrictDomainsToIPAddresses": boolean, "RestrictDomainsToCertificate": boolean, "RequireTls": boolean,
    "TlsSenderCertificateName": optional(text), "CloudServicesMailEnabled": boolean,
    "TreatMessagesAsInternal": boolean, "Enabled": boolean, "Comment": optional(text),
}
OUTBOUND_CONNECTOR = {
    "Name": text, "ConnectorType": _E("ConnectorType"), "ConnectorSource": _E("ConnectorSource"),
    "RecipientDomains": many(domain_text), "SmartHosts": many(smart_host), "UseMXRecord": boolean,
    "TlsSettings": optional(_E("TlsSettings")), "TlsDomain": optional(domain_text),
    "IsTransportRuleScoped": boolean, "RouteAllMessagesViaOnPremises": boolean, "AllAcceptedDomains": boolean,
    "CloudServicesMailEnabled": boolean, "Enabled": boolean, "Comment": optional(text),
}
#: Properties the importer reads for the topology's own fields (not Exchange objects).
EXCHANGE_SERVER = {"Name": text, "Fqdn": domain_text, "AdminDisplayVersion": lambda v: version_build(v),
                   "ServerRole": _E("ServerRole")}
CERTIFICATE = {
    "Server": identity, "Thumbprint": text, "Subject": text, "Issuer": text, "NotBefore": date, "NotAfter": date,
    "CertificateDomains": many(domain_text), "Services": _E("Services"), "IsSelfSigned": boolean,
    "RootCAType": optional(_E("RootCAType")), "Status": optional(_E("Status")),
}
PERMISSION = {"Identity": lambda v: connector_identity(v), "User": text, "ExtendedRights": many(text),
              "Deny": boolean, "IsInherited": boolean}


_MAJOR_MINOR = {(14, 3): 2010, (14, 2): 2010, (14, 1): 2010, (14, 0): 2010, (15, 0): 2013, (15, 1): 2016,
                (15, 2): 2019}
_VERSION_TEXT = re.compile(r"(\d+)\.(\d+)\s*\(Build\s+(\d+)\.(\d+)\)|^(\d+)\.(\d+)\.(\d+)\.(\d+)$", re.I)


def version_build(value: Any) -> tuple[int, str]:
    """AdminDisplayVersion -> (Exchange version, build): ``"Version 15.1 (Build 2507.6)"`` or
    ``{"Major": 15, "Minor": 1, "Build": 2507, "Revision": 6}`` -> ``(2016, "15.1.2507.6")``.
    Exchange Server SE (15.2 builds) reads as 2019."""
    if isinstance(value, dict) and "Major" in value:
        parts = tuple(int(value.get(k, 0) or 0) for k in ("Major", "Minor", "Build", "Revision"))
    else:
        match = _VERSION_TEXT.search(str(value or "").strip())
        if not match:
            raise ImportValueError(f"cannot read an Exchange version from {render(value)}")
        parts = tuple(int(g) for g in match.groups() if g is not None)
    if parts[:2] not in _MAJOR_MINOR:
        raise ImportValueError(f"Exchange version {parts[0]}.{parts[1]} is not one the lab models (2010-2019)")
    return _MAJOR_MINOR[parts[:2]], ".".join(str(p) for p in parts)


def connector_identity(value: Any) -> str:
    """A receive connector's identity ``SERVER\\Name`` (text, or an ADObjectId with its DN)."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, dict) and isinstance(value.get("DistinguishedName"), str):
        parts = [p.split("=", 1)[1] for p in value["DistinguishedName"].split(",") if "=" in p]
        if len(parts) >= 5:  # CN=<name>,CN=SMTP Receive Connectors,CN=Protocols,CN=<server>,CN=Servers,...
            return f"{parts[3]}\\{parts[0]}"
    raise ImportValueError(f"cannot read a receive connector identity from {render(value)}")


def read_properties(obj: dict[str, Any], table: dict[str, Callable[[Any], Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a cmdlet object into (modelled properties read by ``table``, every other property).

    Property names match case-insensitively and come back in the table's spelling.

    Raises:
        ImportValueError: a modelled value that cannot be read (``path`` = the property).
    """
    by_lower = {name.lower(): name for name in table}
    known: dict[str, Any] = {}
    other: dict[str, Any] = {}
    for key, value in obj.items():
        name = by_lower.get(str(key).lower())
        if name is None:
            other[key] = value
            continue
        try:
            known[name] = table[name](value)
        except ImportValueError as exc:
            raise ImportValueError(exc.message, f"{name}{exc.path}") from None
        except (ValueError, TypeError) as exc:
            raise ImportValueError(f"cannot read {render(value)}: {exc}", name) from None
    ordered = {name: known[name] for name in table if name in known and known[name] is not None}
    return ordered, other
