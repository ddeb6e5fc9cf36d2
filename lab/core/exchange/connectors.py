"""Receive connectors: the model, the permission table, the defaults, New/Set semantics (pure).

Sources: fidelity.md §3.2 (parameters and rules, P-NRC), §3.3 (default connectors, M-RCV),
§3.5 (permission groups -> extended rights, M-RCV).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import Any, Mapping, Sequence

from lab.core.catalogue import cmdlets as M
from lab.core.errors import ConfigError, Place
from lab.core.exchange.model import (
    Binding, ExchangeServer, IPRange, build, choice, enum, parse_bool, parse_domain, parse_int,
    parse_optional_text, parse_positive_int, parse_size, parse_text, ps, split_list, to_mapping,
)
from lab.core.fastpath import evolve, frozen_init

AUTH_MECHANISMS = ("None", "Tls", "Integrated", "BasicAuth", "BasicAuthRequireTLS", "ExchangeServer",
                   "ExternalAuthoritative")
PERMISSION_GROUPS = ("None", "AnonymousUsers", "ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers",
                     "Partners", "Custom")
TRANSPORT_ROLES = ("FrontendTransport", "HubTransport")
USAGES = ("Client", "Custom", "Internal", "Internet", "Partner")
LOGGING_LEVELS = ("None", "Verbose")
SIZE_ENABLED = ("Enabled", "Disabled", "EnabledWithoutValue")

# ConfigError.code of the connector rules callers map to their own error (the catalogue entry's name)
RULE_CUSTOM_NEEDS_BINDINGS = "CUSTOM_NEEDS_BINDINGS"
RULE_NOT_UNIQUE = "RECEIVE_CONNECTOR_NOT_UNIQUE"

# Extended rights (M-RCV).
R_ACCEPT_HEADERS_ROUTING = "ms-Exch-Accept-Headers-Routing"
R_ACCEPT_HEADERS_ORGANIZATION = "ms-Exch-Accept-Headers-Organization"
R_ACCEPT_HEADERS_FOREST = "ms-Exch-Accept-Headers-Forest"
R_BYPASS_ANTI_SPAM = "ms-Exch-Bypass-Anti-Spam"
R_BYPASS_MESSAGE_SIZE_LIMIT = "ms-Exch-Bypass-Message-Size-Limit"
R_ACCEPT_ANY_RECIPIENT = "ms-Exch-SMTP-Accept-Any-Recipient"
R_ACCEPT_ANY_SENDER = "ms-Exch-SMTP-Accept-Any-Sender"
R_ACCEPT_AUTHENTICATION_FLAG = "ms-Exch-SMTP-Accept-Authentication-Flag"
R_ACCEPT_AUTHORITATIVE_DOMAIN_SENDER = "ms-Exch-SMTP-Accept-Authoritative-Domain-Sender"
R_ACCEPT_EXCH50 = "ms-Exch-SMTP-Accept-Exch50"
R_SUBMIT = "ms-Exch-SMTP-Submit"
EXTENDED_RIGHTS = (R_ACCEPT_HEADERS_ROUTING, R_ACCEPT_HEADERS_ORGANIZATION, R_ACCEPT_HEADERS_FOREST,
                   R_BYPASS_ANTI_SPAM, R_BYPASS_MESSAGE_SIZE_LIMIT, R_ACCEPT_ANY_RECIPIENT, R_ACCEPT_ANY_SENDER,
                   R_ACCEPT_AUTHENTICATION_FLAG, R_ACCEPT_AUTHORITATIVE_DOMAIN_SENDER, R_ACCEPT_EXCH50, R_SUBMIT)

# Security principals (M-RCV).
ANONYMOUS_LOGON = "NT AUTHORITY\\ANONYMOUS LOGON"
AUTHENTICATED_USERS = "NT AUTHORITY\\Authenticated Users"
EXCHANGE_SERVERS = "Exchange Servers"
EXTERNALLY_SECURED_SERVERS = "MS Exchange\\Externally Secured Servers"
LEGACY_INTEROP = "ExchangeLegacyInterop"
PARTNER_SERVERS = "MS Exchange\\Partner Servers"

_SERVER_RIGHTS = frozenset({R_ACCEPT_HEADERS_FOREST, R_ACCEPT_HEADERS_ORGANIZATION, R_ACCEPT_HEADERS_ROUTING,
                            R_BYPASS_ANTI_SPAM, R_BYPASS_MESSAGE_SIZE_LIMIT, R_ACCEPT_ANY_RECIPIENT,
                            R_ACCEPT_ANY_SENDER, R_ACCEPT_AUTHENTICATION_FLAG,
                            R_ACCEPT_AUTHORITATIVE_DOMAIN_SENDER, R_ACCEPT_EXCH50, R_SUBMIT})
_NO_ORG_HEADERS = _SERVER_RIGHTS - {R_ACCEPT_HEADERS_FOREST, R_ACCEPT_HEADERS_ORGANIZATION}

#: Permission group -> (principal, extended rights) (fidelity §3.5, M-RCV).
PERMISSION_GROUP_RIGHTS: dict[str, tuple[str, frozenset[str]]] = {
    "AnonymousUsers": (ANONYMOUS_LOGON, frozenset({R_ACCEPT_HEADERS_ROUTING, R_ACCEPT_ANY_SENDER,
                                                   R_ACCEPT_AUTHORITATIVE_DOMAIN_SENDER, R_SUBMIT})),
    "ExchangeUsers": (AUTHENTICATED_USERS, frozenset({R_ACCEPT_HEADERS_ROUTING, R_BYPASS_ANTI_SPAM,
                                                      R_ACCEPT_ANY_RECIPIENT, R_SUBMIT})),
    "ExchangeServers": (EXCHANGE_SERVERS, _SERVER_RIGHTS),
    "ExchangeLegacyServers": (LEGACY_INTEROP, _NO_ORG_HEADERS),
    "Partners": (PARTNER_SERVERS, frozenset({R_ACCEPT_HEADERS_ROUTING, R_SUBMIT})),
}
#: With AuthMechanism ExternalAuthoritative the ExchangeServers group grants this principal (M-RCV).
EXTERNALLY_SECURED_RIGHTS = (EXTERNALLY_SECURED_SERVERS, _NO_ORG_HEADERS)

ALL_V6 = "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
ALL_V4 = "0.0.0.0-255.255.255.255"
MB = 1024 * 1024


@dataclass(frozen=True)
class ExtendedRight:
    """One Add-ADPermission grant on a connector: ``user`` holds ``rights``."""

    user: str = ps("User", parse_text)
    rights: tuple[str, ...] = ps("ExtendedRights", lambda v, p: _rights(v, p))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], path: str) -> "ExtendedRight":
        """Builds from ``{User: ..., ExtendedRights: [...]}``."""
        return build(cls, mapping, path)

    def to_mapping(self) -> dict[str, Any]:
        """The Exchange property mapping."""
        return to_mapping(self)


def _rights(value: Any, place: Place) -> tuple[str, ...]:
    names = tuple(choice(v, EXTENDED_RIGHTS, place) for v in split_list(value))
    if not names:
        raise ConfigError("at least one extended right is required", place, allowed=EXTENDED_RIGHTS)
    return names


def _ordered(value: Any, allowed: tuple[str, ...], place: Place) -> tuple[str, ...]:
    chosen = {choice(v, allowed, place) for v in split_list(value)}
    if not chosen:
        raise ConfigError("at least one value is required", place, allowed=allowed)
    return tuple(name for name in allowed if name in chosen)


def parse_auth_mechanism(value: Any, place: Place) -> tuple[str, ...]:
    """AuthMechanism, with P-NRC's rules (None only alone; BasicAuthRequireTLS needs BasicAuth and
    Tls; ExternalAuthoritative needs Tls)."""
    mechs = _ordered(value, AUTH_MECHANISMS, place)
    if "None" in mechs and len(mechs) > 1:
        raise ConfigError("AuthMechanism None can't be combined with other values", place)
    if "BasicAuthRequireTLS" in mechs and not {"BasicAuth", "Tls"} <= set(mechs):
        raise ConfigError("AuthMechanism BasicAuthRequireTLS requires BasicAuth and Tls", place)
    if "ExternalAuthoritative" in mechs and "Tls" not in mechs:
        raise ConfigError("AuthMechanism ExternalAuthoritative requires Tls", place)
    return mechs


def parse_permission_groups(value: Any, place: Place) -> tuple[str, ...]:
    """PermissionGroups (None only alone)."""
    groups = _ordered(value, PERMISSION_GROUPS, place)
    if "None" in groups and len(groups) > 1:
        raise ConfigError("PermissionGroups None can't be combined with other values", place)
    return groups


def _bindings(value: Any, place: Place) -> tuple[Binding, ...]:
    items = tuple(Binding.parse(v, place) for v in split_list(value))
    if not items:
        raise ConfigError("at least one binding such as 0.0.0.0:25 is required", place)
    return items


def _ranges(value: Any, place: Place) -> tuple[IPRange, ...]:
    items = tuple(IPRange.parse(v, place) for v in split_list(value))
    if not items:
        raise ConfigError("at least one remote IP range is required", place)
    return items


def _capabilities(value: Any, place: Place) -> tuple[str, ...]:
    items = tuple(str(v).strip() for v in split_list(value))
    for item in items:
        domain, sep, capability = item.rpartition(":")
        if not sep or not domain or not capability:
            raise ConfigError(f"{item!r} is not Domain:Capability (e.g. mail.protection.outlook.com:"
                              "AcceptCloudServicesMail)", place)
    return items


def _extended_rights(value: Any, place: Place) -> tuple[ExtendedRight, ...]:
    return tuple(ExtendedRight.from_mapping(v, f"{place.path}[{i}]") for i, v in enumerate(split_list(value)))


def _banner(value: Any, place: Place) -> str | None:
    text = parse_optional_text(value, place)
    if text is not None and not text.startswith("220"):
        raise ConfigError(f"Banner {text!r} must start with 220", place)
    return text


@frozen_init
@dataclass(frozen=True)
class ReceiveConnector:
    """A receive connector (Get-ReceiveConnector). ``fqdn`` None means the server's FQDN.

    ``extended_rights`` are the Add-ADPermission grants made on the connector;
    ``enable_auth_gssapi`` .. ``long_addresses_enabled`` toggle EHLO keywords (fidelity §1.2).
    """

    name: str = ps("Name", parse_text)
    server: str = ps("Server", parse_text)
    transport_role: str = ps("TransportRole", enum(TRANSPORT_ROLES), default="FrontendTransport")
    bindings: tuple[Binding, ...] = ps("Bindings", _bindings, default=(Binding("0.0.0.0", 25),))
    remote_ip_ranges: tuple[IPRange, ...] = ps("RemoteIPRanges", _ranges,
                                               default=(IPRange(ALL_V4, 4, 0, 2 ** 32 - 1),))
    permission_groups: tuple[str, ...] = ps("PermissionGroups", parse_permission_groups, default=("None",))
    auth_mechanism: tuple[str, ...] = ps("AuthMechanism", parse_auth_mechanism, default=("Tls",))
    require_tls: bool = ps("RequireTLS", parse_bool, default=False)
    fqdn: str | None = ps("Fqdn", lambda v, p: None if parse_optional_text(v, p) is None else parse_domain(v, p),
                          default=None)
    tls_certificate_name: str | None = ps("TlsCertificateName", parse_optional_text, default=None)
    banner: str | None = ps("Banner", _banner, default=None)
    max_message_size: int = ps("MaxMessageSize", parse_size, default=36 * MB)
    max_recipients_per_message: int = ps("MaxRecipientsPerMessage", parse_positive_int, default=200)
    max_protocol_errors: int = ps("MaxProtocolErrors", parse_int, default=5)
    enabled: bool = ps("Enabled", parse_bool, default=True)
    tls_domain_capabilities: tuple[str, ...] = ps("TlsDomainCapabilities", _capabilities, default=())
    extended_rights: tuple[ExtendedRight, ...] = ps("ExtendedRights", _extended_rights, default=())
    usage: str | None = ps("Usage", lambda v, p: None if v is None else choice(v, USAGES, p), default=None)
    protocol_logging_level: str = ps("ProtocolLoggingLevel", enum(LOGGING_LEVELS), default="None")
    comment: str | None = ps("Comment", parse_optional_text, default=None)
    enable_auth_gssapi: bool = ps("EnableAuthGSSAPI", parse_bool, default=False)
    suppress_x_anonymous_tls: bool = ps("SuppressXAnonymousTls", parse_bool, default=False)
    size_enabled: str = ps("SizeEnabled", enum(SIZE_ENABLED), default="Enabled")
    pipelining_enabled: bool = ps("PipeliningEnabled", parse_bool, default=True)
    dsn_enabled: bool = ps("DeliveryStatusNotificationEnabled", parse_bool, default=True)
    enhanced_status_codes_enabled: bool = ps("EnhancedStatusCodesEnabled", parse_bool, default=True)
    eight_bit_mime_enabled: bool = ps("EightBitMimeEnabled", parse_bool, default=True)
    binary_mime_enabled: bool = ps("BinaryMimeEnabled", parse_bool, default=True)
    chunking_enabled: bool = ps("ChunkingEnabled", parse_bool, default=True)
    orar_enabled: bool = ps("OrarEnabled", parse_bool, default=False)
    long_addresses_enabled: bool = ps("LongAddressesEnabled", parse_bool, default=False)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], path: str) -> "ReceiveConnector":
        """Builds from Exchange property names and checks the cross-property rules."""
        return build(cls, mapping, path).validated(path)

    def to_mapping(self) -> dict[str, Any]:
        """The Exchange property mapping."""
        return to_mapping(self)

    def validated(self, path: str) -> "ReceiveConnector":
        """Checks rules that span properties (P-NRC); returns self.

        Raises:
            ConfigError: RequireTLS without Tls, ExternalAuthoritative without ExchangeServers.
        """
        if self.require_tls and "Tls" not in self.auth_mechanism:
            raise ConfigError("RequireTLS $true requires AuthMechanism Tls", Place(path=f"{path}.RequireTLS"))
        if "ExternalAuthoritative" in self.auth_mechanism and "ExchangeServers" not in self.permission_groups:
            raise ConfigError("AuthMechanism ExternalAuthoritative requires PermissionGroups ExchangeServers",
                              Place(path=f"{path}.AuthMechanism"))
        return self

    def effective_fqdn(self, server: ExchangeServer) -> str:
        """The name used in the banner, EHLO reply and Received header."""
        return self.fqdn or server.fqdn


_ALL_RANGES = (IPRange(ALL_V6, 6, 0, 2 ** 128 - 1), IPRange(ALL_V4, 4, 0, 2 ** 32 - 1))


def _bind(port: int) -> tuple[Binding, ...]:
    return (Binding("::", port), Binding("0.0.0.0", port))


def default_receive_connectors(server: ExchangeServer) -> tuple[ReceiveConnector, ...]:
    """The receive connectors setup creates on ``server`` (fidelity §3.3).

    2013/2016/2019: Default Frontend (25), Outbound Proxy Frontend (717), Client Frontend (587),
    Default (2525, hub), Client Proxy (465, hub) — M-RCV.

    2010 (Hub Transport role): ``Default <S>`` on 25 with ExchangeUsers, ExchangeServers,
    ExchangeLegacyServers and no AnonymousUsers (article 003 has to add it), and ``Client <S>``
    on 587. The 2010 set and its 10 MB MaxMessageSize are UNCONFIRMED (fidelity §9.3).
    """
    s = server.name
    basic = ("Tls", "Integrated", "BasicAuth", "BasicAuthRequireTLS")
    if server.version == 2010:
        common = dict(server=s, transport_role="HubTransport", remote_ip_ranges=_ALL_RANGES[1:],
                      max_message_size=10 * MB)
        return (
            ReceiveConnector(name=f"Default {s}", bindings=_bind(25)[1:], auth_mechanism=(*basic, "ExchangeServer"),
                             permission_groups=("ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"),
                             **common),
            ReceiveConnector(name=f"Client {s}", bindings=_bind(587)[1:], auth_mechanism=basic,
                             permission_groups=("ExchangeUsers",), **common),
        )
    fe = dict(server=s, transport_role="FrontendTransport", remote_ip_ranges=_ALL_RANGES)
    hub = dict(server=s, transport_role="HubTransport", remote_ip_ranges=_ALL_RANGES)
    return (
        ReceiveConnector(name=f"Default Frontend {s}", bindings=_bind(25), auth_mechanism=(*basic, "ExchangeServer"),
                         permission_groups=("AnonymousUsers", "ExchangeServers", "ExchangeLegacyServers"),
                         protocol_logging_level="Verbose", **fe),
        ReceiveConnector(name=f"Outbound Proxy Frontend {s}", bindings=_bind(717),
                         auth_mechanism=(*basic, "ExchangeServer"), permission_groups=("ExchangeServers",), **fe),
        ReceiveConnector(name=f"Client Frontend {s}", bindings=_bind(587), auth_mechanism=basic,
                         permission_groups=("ExchangeUsers",), **fe),
        ReceiveConnector(name=f"Default {s}", bindings=_bind(2525),
                         auth_mechanism=("Tls", "Integrated", "BasicAuth", "ExchangeServer"),
                         permission_groups=("ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"), **hub),
        ReceiveConnector(name=f"Client Proxy {s}", bindings=_bind(465), auth_mechanism=(*basic, "ExchangeServer"),
                         permission_groups=("ExchangeUsers", "ExchangeServers"), **hub),
    )


#: New-ReceiveConnector -Usage presets (M-RCV): groups, auth mechanisms, default binding.
USAGE_PRESETS: dict[str, dict[str, Any]] = {
    "Client": dict(permission_groups=("ExchangeUsers",), auth_mechanism=("Tls", "Integrated", "BasicAuth",
                                                                         "BasicAuthRequireTLS"),
                   bindings=(Binding("0.0.0.0", 587),)),
    "Custom": dict(permission_groups=("None",), auth_mechanism=("Tls",)),
    "Internal": dict(permission_groups=("ExchangeServers", "ExchangeLegacyServers"),
                     auth_mechanism=("Tls", "ExchangeServer"), bindings=(Binding("0.0.0.0", 25),)),
    "Internet": dict(permission_groups=("AnonymousUsers",), auth_mechanism=("Tls",),
                     bindings=(Binding("0.0.0.0", 25),)),
    "Partner": dict(permission_groups=("Partners",), auth_mechanism=("Tls",), bindings=(Binding("0.0.0.0", 25),)),
}


@functools.lru_cache(maxsize=None)
def _field_names(cls: type) -> tuple[str, ...]:
    """The names of a dataclass's fields, in order (a class never changes)."""
    return tuple(f.name for f in fields(cls))


@functools.lru_cache(maxsize=None)
def _field_set(cls: type) -> frozenset[str]:
    return frozenset(_field_names(cls))


def current_fields(conn: ReceiveConnector) -> dict[str, Any]:
    """Field name -> value of ``conn`` (what ``{f.name: getattr(conn, f.name) for f in fields(conn)}`` gives).

    A frozen record whose ``__dict__`` holds its fields and nothing else is copied in one step (the
    same pairs; a dict compares equal whatever its order)."""
    cls = type(conn)
    held = getattr(conn, "__dict__", None)
    if held is not None and type(held) is dict and held.keys() == _field_set(cls) and "__getattribute__" not in cls.__dict__:
        return dict(held)
    return {name: getattr(conn, name) for name in _field_names(cls)}


def apply_receive_connector_overrides(defaults: Sequence[ReceiveConnector], overrides: Sequence[Mapping[str, Any]],
                                      path: str) -> tuple[ReceiveConnector, ...]:
    """Applies topology overrides to the default connectors (Set- / New-ReceiveConnector).

    An override whose ``Name`` equals an existing connector's (case-insensitive) patches it
    (Set-ReceiveConnector: ``Usage`` is not allowed). Any other Name adds a connector
    (New-ReceiveConnector): ``Usage`` (default Custom) presets PermissionGroups, AuthMechanism
    and Bindings; Custom requires Bindings (M-RELAY). ``Server`` defaults to the defaults' server.
    The lab's TransportRole default is FrontendTransport (HubTransport on 2010), a lab choice.

    Raises:
        ConfigError: a bad override; nothing is changed (the inputs are not modified).
    """
    result = list(defaults)
    for i, override in enumerate(overrides):
        here = f"{path}[{i}]"
        if not isinstance(override, Mapping):
            raise ConfigError("expected a mapping of receive connector properties", Place(path=here))
        keys = {str(k).lower(): k for k in override}
        if "name" not in keys:
            raise ConfigError("a receive connector override needs Name", Place(path=here))
        name = parse_text(override[keys["name"]], Place(path=f"{here}.Name"))
        index = next((j for j, c in enumerate(result) if c.name.lower() == name.lower()), None)
        if index is not None:
            if "usage" in keys:
                raise ConfigError("Usage can be given only when a connector is created (New-ReceiveConnector)",
                                  Place(path=f"{here}.Usage"))
            patched = build(ReceiveConnector, {**override, keys["name"]: result[index].name}, here,
                            defaults=current_fields(result[index]))
            result[index] = patched.validated(here)
            continue
        result.append(_new_connector(override, keys, here, defaults))
    _check_bindings(result, path)
    return tuple(result)


def _new_connector(override: Mapping[str, Any], keys: dict[str, Any], here: str,
                   defaults: Sequence[ReceiveConnector]) -> ReceiveConnector:
    usage = choice(override[keys["usage"]], USAGES, Place(path=f"{here}.Usage")) if "usage" in keys else "Custom"
    if usage == "Custom" and "bindings" not in keys:
        raise ConfigError(str(M.CUSTOM_NEEDS_BINDINGS), Place(path=f"{here}.Bindings"), code=RULE_CUSTOM_NEEDS_BINDINGS)
    preset: dict[str, Any] = dict(USAGE_PRESETS[usage], usage=usage)
    if "server" not in keys:
        if not defaults:
            raise ConfigError("a new receive connector needs Server", Place(path=here))
        preset["server"] = defaults[0].server
    if defaults:
        preset["transport_role"] = defaults[0].transport_role
    return build(ReceiveConnector, override, here, defaults=preset).validated(here)


def _check_bindings(connectors: Sequence[ReceiveConnector], path: str) -> None:
    """An IP:port may be shared only by connectors whose RemoteIPRanges differ (P-NRC)."""
    # keyed on the values the texts ``str(binding)`` and ``version:first-last`` are written from (each text
    # names one value: the same pairs of keys are equal), not on the texts
    seen: dict[tuple[str, str, int, frozenset[tuple[int, int, int]]], str] = {}
    for conn in connectors:
        if not conn.enabled:
            continue
        ranges = frozenset([(r.version, r.first, r.last) for r in conn.remote_ip_ranges])
        for binding in conn.bindings:
            key = (conn.server.lower(), binding.ip, binding.port, ranges)
            if key in seen:
                raise ConfigError(M.RECEIVE_CONNECTOR_SAME_BINDING.format(
                    first=seen[key], second=conn.name, binding=binding), Place(path=path),
                    code=RULE_NOT_UNIQUE)
            seen[key] = conn.name


def with_changes(conn: ReceiveConnector, **changes: Any) -> ReceiveConnector:
    """A copy of ``conn`` with fields changed and the cross-property rules re-checked."""
    return evolve(conn, **changes).validated(conn.name)
