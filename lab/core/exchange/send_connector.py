"""Exchange send connectors (New-SendConnector, fidelity §3.1) and their address spaces.

:class:`SendConnector` is frozen; :meth:`SendConnector.from_mapping` is the one place input is
validated (topology YAML or cmdlet parameters, Exchange property names, case-insensitive as
PowerShell), and :meth:`SendConnector.to_mapping` gives the properties back under their
Exchange names (``Get-SendConnector | fl``).

Address spaces (P-NSC): ``AddressSpaceType:AddressSpace;AddressSpaceCost``, the type defaults
to ``SMTP`` and the cost to 1 (1-100, lower is better). ``*``, ``*.com`` and ``*.contoso.com``
are allowed, ``*contoso.com`` is not. The lab reads ``*.contoso.com`` as "contoso.com and every
domain below it" (the 2007 console's "include all subdomains" box), less specific than
``contoso.com`` itself.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

from lab.core.catalogue import exchange_queue as C
from lab.core.catalogue import lab as L
from lab.core.errors import ConfigError, Place
from lab.core.exchange.model import choice, parse_bool, parse_int, parse_size, split_list
from lab.core.fastpath import uuid5_text
from lab.core.tls import DOMAIN_VALIDATION, TLS_MODES, parse_tls_certificate_name

ERROR_POLICIES = ("Default", "DowngradeDnsFailures", "DowngradeCustomFailures", "UpgradeCustomFailures")
USAGES = ("Custom", "Internal", "Internet", "Partner")
DEFAULT_MAX_MESSAGE_SIZE = 25 * 1024 * 1024  # 25 MB (P-NSC)
_DOMAIN = re.compile(r"^(?:\*\.)?(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_LAB_NAMESPACE = uuid.UUID("6b1c5f0e-1d2a-4c59-9a43-6c616273656e")  # stable connector GUIDs


@dataclass(frozen=True)
class AddressSpace:
    """One ``SMTP:domain;cost`` entry."""

    domain: str
    cost: int = 1
    type: str = "SMTP"

    @staticmethod
    def parse(text: object, place: Place | None = None) -> "AddressSpace":
        """Parse ``"SMTP:*.contoso.com;5"``, ``"contoso.com;1"``, ``"contoso.com"`` or ``"*"``.

        Raises:
            ConfigError: bad type, domain or cost (naming the value).
        """
        raw = str(text).strip()
        bad = ConfigError(C.SEND_CONNECTOR_BAD_ADDRESS_SPACE.format(value=raw), place)
        kind, _, rest = raw.rpartition(":") if ":" in raw else ("SMTP", "", raw)
        if kind.strip().upper() != "SMTP":
            raise ConfigError(L.SEND_CONNECTOR_ADDRESS_SPACE_TYPE.format(kind=kind.strip()), place, allowed=("SMTP",))
        domain, _, cost_text = rest.partition(";")
        domain = domain.strip().lower().rstrip(".")
        if domain != "*" and (not _DOMAIN.match(domain) or domain.rpartition(".")[2].isdigit()):
            raise bad  # a top-level label is never all digits (RFC 3696 §2): 3.5 is no domain
        cost = 1
        if cost_text.strip():
            if not cost_text.strip().isdigit() or not 1 <= int(cost_text) <= 100:
                raise bad
            cost = int(cost_text)
        return AddressSpace(domain, cost)

    def matches(self, domain: str) -> bool:
        """Does this address space cover the recipient domain?"""
        domain = domain.lower().rstrip(".")
        if self.domain == "*":
            return True
        if self.domain.startswith("*."):
            base = self.domain[2:]
            return domain == base or domain.endswith("." + base)
        return domain == self.domain

    @property
    def specificity(self) -> int:
        """Higher is more specific: ``a.contoso.com`` > ``*.contoso.com`` > ``contoso.com``'s parent ``*``."""
        if self.domain == "*":
            return 0
        if self.domain.startswith("*."):
            return 2 * len(self.domain[2:].split("."))
        return 2 * len(self.domain.split(".")) + 1

    def __str__(self) -> str:
        return f"{self.type}:{self.domain};{self.cost}"


# Exchange property name -> attribute name.
PROPERTIES = {
    "Name": "name", "AddressSpaces": "address_spaces", "DNSRoutingEnabled": "dns_routing_enabled",
    "SmartHosts": "smart_hosts", "Port": "port", "Fqdn": "fqdn", "RequireTLS": "require_tls",
    "IgnoreSTARTTLS": "ignore_starttls", "TlsAuthLevel": "tls_auth_level", "TlsDomain": "tls_domain",
    "TlsCertificateName": "tls_certificate_name", "CloudServicesMailEnabled": "cloud_services_mail_enabled",
    "ErrorPolicies": "error_policies", "SourceTransportServers": "source_transport_servers",
    "Enabled": "enabled", "MaxMessageSize": "max_message_size", "Usage": "usage",
}
_BY_LOWER = {k.lower(): k for k in PROPERTIES}


@dataclass(frozen=True)
class SendConnector:
    """A send connector. Build it with :meth:`from_mapping` to get the cmdlet's validation."""

    name: str
    address_spaces: tuple[AddressSpace, ...]
    dns_routing_enabled: bool = True
    smart_hosts: tuple[str, ...] = ()
    port: int = 25
    fqdn: str | None = None
    require_tls: bool = False
    ignore_starttls: bool = False
    tls_auth_level: str | None = None
    tls_domain: str | None = None
    tls_certificate_name: str | None = None
    cloud_services_mail_enabled: bool = False
    error_policies: str = "Default"
    source_transport_servers: tuple[str, ...] = ()
    enabled: bool = True
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    usage: str = "Custom"

    # guid: a stable GUID for ``NextHopConnector`` (derived from the name; _Guid below)

    @property
    def delivery_type(self) -> str:
        """``DnsConnectorDelivery`` or ``SmartHostConnectorDelivery`` (fidelity §2.2)."""
        return "DnsConnectorDelivery" if self.dns_routing_enabled else "SmartHostConnectorDelivery"

    def __post_init__(self) -> None:
        # downgrades_dns_failures: True with ErrorPolicies DowngradeDnsFailures (DNS errors become
        # transient). A plain attribute of the frozen connector, worked out once when it is made (not a
        # field: equality, hash, repr and the properties stay the fields'): the transport queue reads it
        # for every delivery attempt. (tests/unit/test_send_connector_changes.py holds it to the policy.)
        object.__setattr__(self, "downgrades_dns_failures", self.error_policies == "DowngradeDnsFailures")

    def serves(self, server: str) -> bool:
        """Is ``server`` one of SourceTransportServers (an empty list means every server)?"""
        return not self.source_transport_servers or server.lower() in map(str.lower, self.source_transport_servers)

    @staticmethod
    def from_mapping(mapping: Mapping[str, Any], path: str = "SendConnector") -> "SendConnector":
        """Validate Exchange-named properties into a connector.

        Args:
            mapping: e.g. ``{"Name": "To Internet", "AddressSpaces": ["SMTP:*;1"]}``.
            path: where the mapping came from, for errors (``topology.nodes.ex01.send_connectors[0]``).

        Raises:
            ConfigError: unknown property (listing the allowed names), a bad value, or a broken
                cross-field rule of P-NSC.
        """
        values: dict[str, Any] = {}
        for key, value in mapping.items():
            prop = _BY_LOWER.get(str(key).lower())
            if prop is None:
                raise ConfigError(L.SEND_CONNECTOR_UNKNOWN_PROPERTY.format(key=key), Place(path=f"{path}.{key}"),
                                  allowed=tuple(PROPERTIES))
            values[PROPERTIES[prop]] = _convert(prop, value, Place(path=f"{path}.{prop}"))
        for required in ("name", "address_spaces"):
            if required not in values:
                raise ConfigError(L.SEND_CONNECTOR_PROPERTY_REQUIRED.format(name=required_name(required)), Place(path=path))
        connector = SendConnector(**values)
        connector.check(path)
        return connector

    def with_changes(self, changes: Mapping[str, Any], path: str = "SendConnector") -> "SendConnector":
        """``from_mapping({**self.to_mapping(), **changes}, path)`` (Set-SendConnector), raising what it raises.

        A property the changes leave alone is taken as it is when converting its mapping form gives
        it back unchanged and cannot fail (:func:`_fixed`); every other one is converted as
        ``from_mapping`` converts it, in the same order, so the first bad value is the same one.
        Changes under any name but an Exchange property's own spelling go to ``from_mapping``.
        (tests/unit/test_send_connector_changes.py holds the two to the same answers.)
        """
        if not PROPERTIES.keys() >= changes.keys():
            return SendConnector.from_mapping({**self.to_mapping(), **changes}, path)
        values: dict[str, Any] = {}
        for prop, attr, check in _PLAN:  # (_fixed inline)
            if prop in changes:
                values[attr] = _convert(prop, changes[prop], Place(path=f"{path}.{prop}"))
                continue
            value = getattr(self, attr)
            if not (type(value) is bool if check is bool else check(value)):
                if attr == "address_spaces":
                    value = [str(a) for a in value]
                elif isinstance(value, tuple):
                    value = list(value)
                value = _convert(prop, value, Place(path=f"{path}.{prop}"))
            values[attr] = value
        connector = SendConnector(**values)
        connector.check(path)
        return connector

    def check(self, path: str = "SendConnector") -> None:
        """Apply the cross-field rules of P-NSC and fidelity §2.1.

        Raises:
            ConfigError: the first rule broken, with the property's place.
        """
        def where(prop: str) -> Place:
            return Place(path=f"{path}.{prop}")
        if self.smart_hosts and self.dns_routing_enabled:
            raise ConfigError(str(C.SEND_CONNECTOR_SMART_HOSTS_NEED_DNS_ROUTING_OFF), where("DNSRoutingEnabled"))
        if not self.smart_hosts and not self.dns_routing_enabled:
            raise ConfigError(str(C.SEND_CONNECTOR_NO_SMART_HOSTS), where("SmartHosts"))
        if self.require_tls and self.ignore_starttls:
            raise ConfigError(str(C.SEND_CONNECTOR_IGNORE_STARTTLS_WITH_REQUIRE_TLS), where("IgnoreSTARTTLS"))
        if self.tls_auth_level and (self.ignore_starttls or not self.require_tls):
            raise ConfigError(str(C.SEND_CONNECTOR_TLS_AUTH_LEVEL_CONDITIONS), where("TlsAuthLevel"))
        if self.tls_auth_level == DOMAIN_VALIDATION and not self.tls_domain:
            raise ConfigError(str(C.S421_TLS_AUTH_LEVEL_NEEDS_DOMAIN), where("TlsDomain"))
        if self.tls_domain and self.tls_auth_level != DOMAIN_VALIDATION:
            raise ConfigError(str(C.S421_TLS_DOMAIN_NEEDS_DOMAIN_VALIDATION), where("TlsDomain"))

    def to_mapping(self) -> dict[str, Any]:
        """The properties under their Exchange names (plain data: strings, numbers, lists)."""
        out: dict[str, Any] = {}
        for prop, attr in PROPERTIES.items():
            value = getattr(self, attr)
            if attr == "address_spaces":
                value = [str(a) for a in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[prop] = value
        return out


class _Guid:
    """``SendConnector.guid``: a stable GUID for ``NextHopConnector``, derived from the name
    (``str(uuid.uuid5(namespace, name.lower()))``, tests/unit/test_fastpath.py).

    Written at the first read and kept beside the fields under the same name (a non-data
    descriptor: the kept value answers every later read without a call; not a field, so equality,
    hashing, repr and replace() ignore it). A connector is frozen: its name, and so its GUID, never
    changes, and Get-Queue reads it for every view of the connector's queues."""

    def __get__(self, conn: SendConnector | None, owner: type | None = None) -> "str | _Guid":
        if conn is None:
            return self
        guid = uuid5_text(_LAB_NAMESPACE, conn.name.lower())
        object.__setattr__(conn, "guid", guid)  # (as __post_init__ sets its attribute: not through __dict__)
        return guid


SendConnector.guid = _Guid()  # type: ignore[attr-defined]


def required_name(attr: str) -> str:
    """The Exchange property name of an attribute."""
    return next(k for k, v in PROPERTIES.items() if v == attr)


_BOOLS = ("DNSRoutingEnabled", "RequireTLS", "IgnoreSTARTTLS", "CloudServicesMailEnabled", "Enabled")
_CHOICES = {"TlsAuthLevel": TLS_MODES, "ErrorPolicies": ERROR_POLICIES, "Usage": USAGES}
# (choice answers the first name equal to the value ignoring case: a name of these is its own answer)
assert all(len({n.lower() for n in names}) == len(names) for names in _CHOICES.values())


def _canonical_name(text: object) -> bool:
    """Is ``text`` what _convert makes of itself (a host, Fqdn or TlsDomain): non-empty, stripped,
    lower-case without a trailing dot (a ``[literal]`` host as it is)?"""
    return (type(text) is str and text != "" and text == text.strip()
            and (text[0] == "[" or text == text.lower().rstrip(".")))


def _fixed(prop: str, value: Any) -> bool:
    """True when ``_convert(prop, <value's to_mapping form>)`` surely returns ``value`` (an equal value)
    without raising: the value is in the form _convert gives. False says nothing (convert it then)."""
    check = _FIXED[prop]
    return type(value) is bool if check is bool else check(value)


def _space_fixed(a: Any) -> bool:
    domain = a.domain
    return (type(a) is AddressSpace and a.type == "SMTP" and type(a.cost) is int and 1 <= a.cost <= 100
            and type(domain) is str
            and (domain == "*" or (_DOMAIN.match(domain) is not None and domain[-1] != "\n"
                                   and not domain.rpartition(".")[2].isdigit())))


# property -> the test of _fixed (``bool``: the value is a bool)
_FIXED: dict[str, Any] = {
    **dict.fromkeys(_BOOLS, bool),
    "Port": lambda v: type(v) is int and 1 <= v <= 65535,
    "MaxMessageSize": lambda v: type(v) is int and v > 0,
    "TlsAuthLevel": lambda v: v is None or (type(v) is str and v in TLS_MODES),
    "ErrorPolicies": lambda v: type(v) is str and v in ERROR_POLICIES,
    "Usage": lambda v: type(v) is str and v in USAGES,
    "Fqdn": lambda v: v is None or (_canonical_name(v) and v[0] != "["),
    "TlsDomain": lambda v: v is None or (_canonical_name(v) and v[0] != "["),
    "SmartHosts": lambda v: type(v) is tuple and (v == () or all(map(_canonical_name, v))),
    "SourceTransportServers": lambda v: type(v) is tuple and (v == () or all(map(_canonical_name, v))),
    "Name": lambda v: type(v) is str and v != "" and v == v.strip(),
    "AddressSpaces": lambda v: type(v) is tuple and v != () and all(map(_space_fixed, v)),
    "TlsCertificateName": lambda v: v is None,  # (a name is parsed again)
}
assert _FIXED.keys() == PROPERTIES.keys()
_PLAN = tuple((prop, attr, _FIXED[prop]) for prop, attr in PROPERTIES.items())


def _convert(prop: str, value: Any, place: Place) -> Any:
    if prop == "Name":
        if not str(value or "").strip():
            raise ConfigError(str(L.SEND_CONNECTOR_EMPTY_NAME), place)
        return str(value).strip()
    if prop == "AddressSpaces":
        spaces = tuple(AddressSpace.parse(v, place) for v in split_list(value))
        if not spaces:
            raise ConfigError(str(L.SEND_CONNECTOR_NO_ADDRESS_SPACE), place)
        return spaces
    if prop in ("DNSRoutingEnabled", "RequireTLS", "IgnoreSTARTTLS", "CloudServicesMailEnabled", "Enabled"):
        return parse_bool(value, place)
    if prop in ("SmartHosts", "SourceTransportServers"):
        hosts = [str(v).strip() for v in split_list(value)]
        return tuple(v.lower().rstrip(".") if not v.startswith("[") else v for v in hosts if v)
    if prop == "Port":
        bad_port = ConfigError(C.SEND_CONNECTOR_BAD_PORT.format(value=value), place)
        try:
            port = parse_int(value, place, minimum=1)
        except ConfigError:
            raise bad_port from None
        if port > 65535:
            raise bad_port
        return port
    if prop == "MaxMessageSize":
        return parse_size(value, place)
    if prop == "TlsAuthLevel":
        return None if value in (None, "") else choice(value, TLS_MODES, place)
    if prop == "ErrorPolicies":
        return choice(value, ERROR_POLICIES, place)
    if prop == "Usage":
        return choice(value, USAGES, place)
    if prop == "TlsCertificateName":
        if value in (None, ""):
            return None
        parse_tls_certificate_name(str(value), place)
        return str(value)
    return None if value in (None, "") else str(value).strip().lower().rstrip(".")  # Fqdn, TlsDomain
