"""The on-premises Exchange organisation as frozen data (pure).

Fields are snake_case; each field knows its Exchange property name (``field(metadata={"ps":
...})``) because topology.yaml and the console speak Exchange: ``from_mapping`` takes
``{"AuthMechanism": "Tls, BasicAuth", ...}`` and ``to_mapping`` gives it back. Property names and
enum values match case-insensitively, as in PowerShell; values are stored in Exchange's
spelling. Every error is a :class:`~lab.core.errors.ConfigError` naming the place and, where
it helps, the allowed names or values.

Receive connectors and their defaults live in :mod:`lab.core.exchange.connectors`.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import MISSING, Field, dataclass, field, fields
from functools import lru_cache
from typing import Any, Callable, Mapping

from lab.core.errors import ConfigError, Place

VERSIONS = (2010, 2013, 2016, 2019)
DOMAIN_TYPES = ("Authoritative", "InternalRelay", "ExternalRelay")
_DOMAIN_RE = re.compile(r"^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$", re.I)
_ADDRESS_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_BUILD_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def ps(name: str, parse: Callable[[Any, Place], Any] | None = None, **kwargs: Any) -> Any:
    """A dataclass field carrying its Exchange property name and value parser."""
    return field(metadata={"ps": name, "parse": parse}, **kwargs)


# --- value parsers (value, place) -> normalised value ----------------------------------------

def parse_text(value: Any, place: Place) -> str:
    """A non-empty string."""
    if value is None or isinstance(value, (dict, list, tuple)) or str(value).strip() == "":
        raise ConfigError("expected a non-empty text value", place)
    return str(value).strip()


def parse_optional_text(value: Any, place: Place) -> str | None:
    """A string, or None for ``$null``/empty."""
    if value is None or str(value).strip().lower() in ("", "$null"):
        return None
    return parse_text(value, place)


def parse_bool(value: Any, place: Place) -> bool:
    """``true``/``false``, ``$true``/``$false`` (YAML booleans too)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("$true", "true"):
        return True
    if text in ("$false", "false"):
        return False
    raise ConfigError(f"{value!r} is not a boolean", place, allowed=("$true", "$false"))


def parse_int(value: Any, place: Place, minimum: int = 0) -> int:
    """A non-negative integer (``"1,000"`` allowed)."""
    text = str(value).replace(",", "").strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < minimum:
        raise ConfigError(f"{value!r} is not an integer >= {minimum}", place)
    return int(text)


def parse_positive_int(value: Any, place: Place) -> int:
    """An integer >= 1."""
    return parse_int(value, place, minimum=1)


_SIZE_UNITS = {"b": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3}
_SIZE_RE = re.compile(r"^\s*([\d.,]+)\s*(b|kb|mb|gb)?\s*(\(([\d,]+) bytes\))?\s*$", re.I)


def parse_size(value: Any, place: Place) -> int:
    """An Exchange ByteQuantifiedSize: ``37748736``, ``"36MB"``, ``"36 MB (37,748,736 bytes)"``."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _SIZE_RE.match(str(value))
    if not match:
        raise ConfigError(f"{value!r} is not a size such as 36MB or 37748736", place)
    if match.group(4):
        return int(match.group(4).replace(",", ""))
    try:
        number = float(match.group(1).replace(",", ""))
    except ValueError:
        raise ConfigError(f"{value!r} is not a size such as 36MB or 37748736", place) from None
    size = int(number * _SIZE_UNITS[(match.group(2) or "b").lower()])
    if size < 1:
        raise ConfigError(f"{value!r} must be larger than zero", place)
    return size


def choice(value: Any, allowed: tuple[str, ...], place: Place) -> str:
    """One of ``allowed`` (case-insensitive), returned in Exchange's spelling."""
    text = str(value).strip()
    for name in allowed:
        if name.lower() == text.lower():
            return name
    raise ConfigError(f"{value!r} is not a valid value", place, allowed=allowed)


def enum(allowed: tuple[str, ...]) -> Callable[[Any, Place], str]:
    """A parser for one value of ``allowed``."""
    return lambda value, place: choice(value, allowed, place)


def split_list(value: Any) -> list[Any]:
    """A YAML list, or a PowerShell-style ``"a, b"`` / ``"{a, b}"`` string."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    text = str(value).strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_domain(value: Any, place: Place) -> str:
    """A domain name, optionally ``*.``-prefixed; lower-cased."""
    text = parse_text(value, place).lower().rstrip(".")
    if not _DOMAIN_RE.match(text):
        raise ConfigError(f"{value!r} is not a domain name", place)
    return text


def parse_address(value: Any, place: Place) -> str:
    """An SMTP address ``local@domain`` (an ``SMTP:``/``smtp:`` prefix is dropped)."""
    text = parse_text(value, place)
    if text.lower().startswith("smtp:"):
        text = text[5:]
    if not _ADDRESS_RE.match(text):
        raise ConfigError(f"{value!r} is not an SMTP address", place)
    local, _, domain = text.rpartition("@")
    parse_domain(domain, place)
    return f"{local}@{domain.lower()}"


def parse_addresses(value: Any, place: Place) -> tuple[str, ...]:
    """A list of SMTP addresses."""
    return tuple(parse_address(item, place) for item in split_list(value))


def parse_build(value: Any, place: Place) -> str:
    """An Exchange build number such as ``15.1.2507.37``."""
    text = parse_text(value, place)
    if not _BUILD_RE.match(text):
        raise ConfigError(f"{value!r} is not a build number such as 15.1.2507.37", place)
    return text


def parse_version(value: Any, place: Place) -> int:
    """2010, 2013, 2016 or 2019."""
    text = str(value).strip()
    if text.isdigit() and int(text) in VERSIONS:
        return int(text)
    raise ConfigError(f"{value!r} is not a supported Exchange version", place, allowed=[str(v) for v in VERSIONS])


# --- the generic mapping <-> dataclass machinery ---------------------------------------------

@lru_cache(maxsize=None)
def _fields_of(cls: type) -> tuple[dict[str, Field], tuple[Field, ...]]:
    """A model class's fields by lower-case Exchange property name, and its fields without a default
    (a pure function of the class, which never changes: worked out once per class)."""
    return ({f.metadata["ps"].lower(): f for f in fields(cls) if "ps" in f.metadata},
            tuple(f for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING))


@lru_cache(maxsize=None)
def _ps_fields_of(cls: type) -> tuple[tuple[str, str], ...]:
    """``(Exchange property name, field name)`` of a model class's fields that have one, in order."""
    return tuple((f.metadata["ps"], f.name) for f in fields(cls) if "ps" in f.metadata)


_UNPLACED = Place()  # what build's parsers get as the place of a value until it is refused


def build(cls: type, mapping: Any, path: str, defaults: Mapping[str, Any] | None = None) -> Any:
    """Validates ``mapping`` (Exchange property names) and builds ``cls``.

    Args:
        cls: a model dataclass whose fields carry ``ps`` metadata.
        mapping: the input mapping.
        path: where the mapping is, e.g. ``exchange.receive_connectors[2]``.
        defaults: field values used when the mapping omits the property (already parsed).

    Raises:
        ConfigError: not a mapping, an unknown property, a bad value or a missing required one.
    """
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"expected a mapping of {cls.__name__} properties, got {type(mapping).__name__}",
                          Place(path=path))
    by_lower, required = _fields_of(cls)
    values: dict[str, Any] = dict(defaults or {})
    for key, raw in mapping.items():
        spec = by_lower.get(str(key).lower())
        if spec is None:
            raise ConfigError(f"unknown {cls.__name__} property {key!r}", Place(path=f"{path}.{key}"),
                              allowed=sorted(f.metadata["ps"] for f in by_lower.values()))
        parse = spec.metadata["parse"]
        if parse is None:
            values[spec.name] = raw
            continue
        # The value's place is written only for an error: a parser is a pure function of the value and
        # the place, and reads the place only to name it in a ConfigError (or in a nested mapping's path,
        # for the same purpose), so a value it takes with no place is taken with any. A value it refuses
        # is read again with its place (outside the handler: the same exception, without this one as its
        # context), which raises that error naming it.
        try:
            values[spec.name] = parse(raw, _UNPLACED)
            continue
        except ConfigError:
            pass
        values[spec.name] = parse(raw, Place(path=f"{path}.{spec.metadata['ps']}"))
    for spec in required:
        if spec.name not in values:
            raise ConfigError(f"{cls.__name__} property {spec.metadata.get('ps', spec.name)!r} is required",
                              Place(path=path))
    return cls(**values)


# values dump gives back as they are, known by their exact type (no to_mapping, not a frozenset or tuple)
_PLAIN = frozenset((str, int, bool, float, type(None)))


def dump(value: Any) -> Any:
    """Turns a field value into its Exchange-style mapping form."""
    if hasattr(value, "to_mapping"):
        return value.to_mapping()
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return [v if type(v) in _PLAIN else dump(v) for v in value]  # (dump(v) for each)
    return value


def to_mapping(obj: Any) -> dict[str, Any]:
    """``{Exchange property name: value}`` of a model object (``dump`` of each field; a plain value,
    which dump gives back as it is, without the call)."""
    out: dict[str, Any] = {}
    for ps_name, name in _ps_fields_of(type(obj)):
        value = getattr(obj, name)
        out[ps_name] = value if type(value) in _PLAIN else dump(value)
    return out


# --- the organisation ------------------------------------------------------------------------

@dataclass(frozen=True)
class AcceptedDomain:
    """An accepted domain (Get-AcceptedDomain). ``domain_name`` may be ``*.contoso.com``."""

    domain_name: str = ps("DomainName", parse_domain)
    domain_type: str = ps("DomainType", enum(DOMAIN_TYPES), default="Authoritative")
    name: str = ps("Name", parse_text, default="")
    default: bool = ps("Default", parse_bool, default=False)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], path: str) -> "AcceptedDomain":
        """Builds from Exchange property names; Name defaults to DomainName."""
        obj = build(cls, mapping, path)
        return obj if obj.name else AcceptedDomain(obj.domain_name, obj.domain_type, obj.domain_name, obj.default)

    def to_mapping(self) -> dict[str, Any]:
        """The Exchange property mapping."""
        return to_mapping(self)

    def matches(self, domain: str) -> bool:
        """True when ``domain`` is this domain (or, for ``*.x``, x or one of its subdomains)."""
        domain = domain.lower().rstrip(".")
        if self.domain_name.startswith("*."):
            base = self.domain_name[2:]
            return domain == base or domain.endswith("." + base)
        return domain == self.domain_name


@dataclass(frozen=True)
class Mailbox:
    """A mailbox (Get-Mailbox). ``email_addresses`` holds every proxy address, primary included."""

    name: str = ps("Name", parse_text)
    primary_smtp_address: str = ps("PrimarySmtpAddress", parse_address)
    email_addresses: tuple[str, ...] = ps("EmailAddresses", parse_addresses, default=())
    password: str = ps("Password", parse_text, default="")
    server: str | None = ps("Server", parse_optional_text, default=None)
    alias: str = ps("Alias", parse_text, default="")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], path: str) -> "Mailbox":
        """Builds from Exchange property names; Alias defaults to the primary address's local part."""
        obj = build(cls, mapping, path)
        alias = obj.alias or obj.primary_smtp_address.split("@")[0]
        addresses = tuple(dict.fromkeys((obj.primary_smtp_address, *obj.email_addresses)))
        return Mailbox(obj.name, obj.primary_smtp_address, addresses, obj.password, obj.server, alias)

    def to_mapping(self) -> dict[str, Any]:
        """The Exchange property mapping (EmailAddresses in ``SMTP:``/``smtp:`` form)."""
        out = to_mapping(self)
        out["EmailAddresses"] = [("SMTP:" if a == self.primary_smtp_address else "smtp:") + a
                                 for a in self.email_addresses]
        return out

    def has_address(self, address: str) -> bool:
        """True when ``address`` is one of this mailbox's SMTP addresses (case-insensitive)."""
        wanted = address.lower()  # (compared in turn: no set of the lowered addresses is built per question)
        for a in self.email_addresses:
            if a.lower() == wanted:
                return True
        return False

    def logon_names(self) -> tuple[str, ...]:
        """Names a client may log on with: alias, name, any address, ``DOMAIN\\alias``-style."""
        return (self.alias, self.name, *self.email_addresses)


@dataclass(frozen=True)
class ExchangeServer:
    """An Exchange server (Get-ExchangeServer)."""

    name: str = ps("Name", parse_text)
    fqdn: str = ps("Fqdn", parse_domain)
    version: int = ps("Version", parse_version, default=2016)
    build: str = ps("Build", parse_build, default="")

    DEFAULT_BUILDS = {2010: "14.3.123.4", 2013: "15.0.1497.42", 2016: "15.1.2507.37", 2019: "15.2.1544.4"}

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], path: str) -> "ExchangeServer":
        """Builds from Exchange property names; Build defaults to a real build of the version."""
        obj = build(cls, mapping, path)
        return obj if obj.build else ExchangeServer(obj.name, obj.fqdn, obj.version,
                                                    cls.DEFAULT_BUILDS[obj.version])

    def to_mapping(self) -> dict[str, Any]:
        """The Exchange property mapping."""
        return to_mapping(self)


def _accepted_domains(value: Any, place: Place) -> tuple[AcceptedDomain, ...]:
    return tuple(AcceptedDomain.from_mapping(v if isinstance(v, Mapping) else {"DomainName": v},
                                             f"{place.path}[{i}]") for i, v in enumerate(split_list(value)))


def _mailboxes(value: Any, place: Place) -> tuple[Mailbox, ...]:
    return tuple(Mailbox.from_mapping(v, f"{place.path}[{i}]") for i, v in enumerate(split_list(value)))


def _servers(value: Any, place: Place) -> tuple[ExchangeServer, ...]:
    return tuple(ExchangeServer.from_mapping(v, f"{place.path}[{i}]") for i, v in enumerate(split_list(value)))


@dataclass(frozen=True)
class Organization:
    """An Exchange organisation: accepted domains, mailboxes, servers.

    ``recipient_validation_enabled`` stands for Set-RecipientFilterConfig
    -RecipientValidationEnabled: off by default (the Mailbox-server default is UNCONFIRMED).
    """

    name: str = ps("Name", parse_text)
    accepted_domains: tuple[AcceptedDomain, ...] = ps("AcceptedDomains", _accepted_domains, default=())
    mailboxes: tuple[Mailbox, ...] = ps("Mailboxes", _mailboxes, default=())
    servers: tuple[ExchangeServer, ...] = ps("Servers", _servers, default=())
    recipient_validation_enabled: bool = ps("RecipientValidationEnabled", parse_bool, default=False)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], path: str) -> "Organization":
        """Builds and checks that names, domains and addresses are unique."""
        org = build(cls, mapping, path)
        _unique([d.domain_name for d in org.accepted_domains], f"{path}.AcceptedDomains", "DomainName")
        _unique([m.name for m in org.mailboxes], f"{path}.Mailboxes", "Name")
        _unique([a for m in org.mailboxes for a in m.email_addresses], f"{path}.Mailboxes", "EmailAddresses")
        _unique([s.name for s in org.servers], f"{path}.Servers", "Name")
        return org

    def to_mapping(self) -> dict[str, Any]:
        """The Exchange property mapping."""
        return to_mapping(self)

    def accepted_domain_for(self, domain: str) -> AcceptedDomain | None:
        """The most specific accepted domain covering ``domain`` (exact beats ``*.``)."""
        found = [d for d in self.accepted_domains if d.matches(domain)]
        found.sort(key=lambda d: (d.domain_name.startswith("*."), -len(d.domain_name)))
        return found[0] if found else None

    def mailbox_by_address(self, address: str) -> Mailbox | None:
        """The mailbox holding ``address``, if any."""
        return next((m for m in self.mailboxes if m.has_address(address)), None)

    def mailbox_by_logon(self, logon: str) -> Mailbox | None:
        """The mailbox a logon name designates (alias, name, address, or ``DOMAIN\\alias``)."""
        wanted = logon.split("\\")[-1].lower()
        return next((m for m in self.mailboxes if wanted in {n.lower() for n in m.logon_names()}), None)

    def server(self, name: str) -> ExchangeServer | None:
        """The server called ``name`` (case-insensitive)."""
        return next((s for s in self.servers if s.name.lower() == name.lower()), None)


def _unique(values: list[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value.lower() in seen:
            raise ConfigError(f"duplicate {what} {value!r}", Place(path=path))
        seen.add(value.lower())


# --- addresses used by receive connectors ----------------------------------------------------

@dataclass(frozen=True)
class Binding:
    """A receive connector binding ``ip:port`` (``0.0.0.0`` / ``::`` = every address)."""

    ip: str
    port: int

    @classmethod
    def parse(cls, value: Any, place: Place) -> "Binding":
        """Parses ``"0.0.0.0:25"``, ``"[::]:25"`` or ``"192.168.0.10:25"``."""
        text = str(value).strip()
        host, sep, port = text.rpartition(":")
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            raise ConfigError(f"{value!r} is not a binding such as 0.0.0.0:25", place) from None
        if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ConfigError(f"{value!r} is not a binding such as 0.0.0.0:25", place)
        return cls(str(ip), int(port))

    @property
    def is_any(self) -> bool:
        """True for ``0.0.0.0`` and ``::``."""
        return ipaddress.ip_address(self.ip).is_unspecified

    def matches(self, local_ip: str, local_port: int) -> bool:
        """True when a connection to ``local_ip:local_port`` arrives on this binding."""
        if local_port != self.port:
            return False
        ours, theirs = ipaddress.ip_address(self.ip), ipaddress.ip_address(local_ip)
        return (self.is_any and ours.version == theirs.version) or ours == theirs

    def __str__(self) -> str:
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"

    def to_mapping(self) -> str:
        """The Exchange text form."""
        return str(self)


@dataclass(frozen=True)
class IPRange:
    """A RemoteIPRanges entry: a single address, ``a-b`` or CIDR, kept as first/last integers."""

    text: str
    version: int
    first: int
    last: int

    @classmethod
    def parse(cls, value: Any, place: Place) -> "IPRange":
        """Parses ``192.168.1.75``, ``192.168.1.0-192.168.1.255`` or ``192.168.1.0/24``."""
        text = str(value).strip()
        try:
            if "-" in text:
                low, high = (ipaddress.ip_address(p.strip()) for p in text.split("-", 1))
                if low.version != high.version or int(low) > int(high):
                    raise ValueError(text)
                return cls(text, low.version, int(low), int(high))
            if "/" in text:
                net = ipaddress.ip_network(text, strict=False)
                return cls(text, net.version, int(net.network_address), int(net.broadcast_address))
            ip = ipaddress.ip_address(text)
            return cls(text, ip.version, int(ip), int(ip))
        except ValueError:
            raise ConfigError(f"{value!r} is not an IP address, a-b range or CIDR", place) from None

    def contains(self, ip: str) -> bool:
        """True when ``ip`` is inside the range."""
        addr = ipaddress.ip_address(ip)
        return addr.version == self.version and self.first <= int(addr) <= self.last

    @property
    def size(self) -> int:
        """How many addresses the range holds (smaller = more specific)."""
        return self.last - self.first + 1

    def to_mapping(self) -> str:
        """The text form as given."""
        return self.text


_CONNECTOR_NAMES = ("ReceiveConnector", "ExtendedRight", "default_receive_connectors",
                    "apply_receive_connector_overrides", "PERMISSION_GROUP_RIGHTS")


def __getattr__(name: str) -> Any:
    """Re-exports the receive-connector model (kept in :mod:`lab.core.exchange.connectors`)."""
    if name in _CONNECTOR_NAMES:
        from lab.core.exchange import connectors
        return getattr(connectors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
