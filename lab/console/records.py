"""Display records: lab objects under Exchange's property names, value formats and default tables.

Every record is an :class:`ExRecord`: ordered ``(name, value)`` pairs for Format-List, the
columns of its default table, its .NET type name, and the model object it shows (so a record
piped into ``Set-*`` / ``Add-ADPermission`` names the object it came from). Values are already
in Exchange's text forms where Exchange prints a formatted value (``{SMTP:*;1}`` comes from a
list of ``SMTP:*;1`` strings, ``36 MB (37,748,736 bytes)`` from :func:`byte_size`).
"""
from __future__ import annotations

from datetime import datetime
from operator import itemgetter
from typing import Any, Iterable, Sequence

from lab.console.format import first_positions
from lab.core.exchange.connectors import ReceiveConnector
from lab.core.exchange.model import AcceptedDomain, ExchangeServer, Mailbox
from lab.core.exchange.queue_records import MessageView, QueueView, TrackingEvent, TransportSettings
from lab.core.exchange.send_connector import SendConnector
from lab.core.world import InstalledCertificate

_UNITS = (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024), ("B", 1))
_NAME = itemgetter(0)  # of a (name, value) property pair


class ExRecord:
    """A record the console shows and pipes.

    Args:
        props: ``(property name, value)`` in Format-List order.
        table: the default table's columns.
        type_name: the .NET type (``Microsoft.Exchange.Data.Directory.SystemConfiguration.ReceiveConnector``).
        source: the lab object shown (a connector, certificate, ...), or None.
        server: the node the object belongs to, when it belongs to one.
    """

    def __init__(self, props: Iterable[tuple[str, Any]], table: Sequence[str], type_name: str,
                 source: Any = None, server: str | None = None):
        self._props = tuple(props)  # (never changed: handed out as is, copied by whoever lists them)
        self._table = list(table)
        self.ps_type_name = type_name
        self.source = source
        self.server = server

    def ps_properties(self) -> tuple[tuple[str, Any], ...]:
        return self._props

    def ps_default_table(self) -> list[str]:
        return list(self._table)

    def get(self, name: str) -> Any:
        """A property's value (case-insensitive: the first of the name), None when absent."""
        props = self._props
        at = first_positions(tuple(map(_NAME, props))).get(name.lower())
        return None if at is None else props[at][1]

    @property
    def identity(self) -> str:
        return str(self.get("Identity") or "")

    def __str__(self) -> str:
        return self.identity

    def __repr__(self) -> str:
        return f"ExRecord({self.ps_type_name.rsplit('.', 1)[-1]} {self.identity!r})"


def byte_size(size: int) -> str:
    """Exchange's ByteQuantifiedSize text: ``36 MB (37,748,736 bytes)``."""
    for unit, factor in _UNITS:
        if size >= factor:
            value = f"{size / factor:.3f}".rstrip("0").rstrip(".")
            return f"{value} {unit} ({size:,} bytes)"
    return f"0 B ({size:,} bytes)"


def flags(values: Iterable[str]) -> str:
    """An enum-flags value as PowerShell shows it: ``Tls, Integrated, BasicAuth``."""
    return ", ".join(values) or "None"


# --- receive and send connectors -------------------------------------------------------------
_RC_ORDER = ("Tls", "Integrated", "BasicAuth", "BasicAuthRequireTLS", "ExchangeServer", "ExternalAuthoritative")


def receive_connector(conn: ReceiveConnector, server: ExchangeServer, node: str) -> ExRecord:
    """Get-ReceiveConnector's record (property order of Exchange 2016's ``| fl``)."""
    auth = [m for m in _RC_ORDER if m in conn.auth_mechanism] or ["None"]
    groups = list(conn.permission_groups)
    if conn.extended_rights and "Custom" not in groups and groups != ["None"]:
        groups.append("Custom")
    props = [
        ("AuthMechanism", flags(auth)), ("Banner", conn.banner), ("BinaryMimeEnabled", conn.binary_mime_enabled),
        ("Bindings", [str(b) for b in conn.bindings]), ("ChunkingEnabled", conn.chunking_enabled),
        ("DeliveryStatusNotificationEnabled", conn.dsn_enabled), ("EightBitMimeEnabled", conn.eight_bit_mime_enabled),
        ("EnhancedStatusCodesEnabled", conn.enhanced_status_codes_enabled),
        ("LongAddressesEnabled", conn.long_addresses_enabled), ("OrarEnabled", conn.orar_enabled),
        ("SuppressXAnonymousTls", conn.suppress_x_anonymous_tls), ("Fqdn", conn.effective_fqdn(server)),
        ("TlsCertificateName", conn.tls_certificate_name), ("Comment", conn.comment), ("Enabled", conn.enabled),
        ("ConnectionTimeout", "00:10:00"), ("ConnectionInactivityTimeout", "00:05:00"),
        ("MaxInboundConnectionPerSource", 20), ("MaxHopCount", 60), ("MaxLocalHopCount", 5),
        ("MaxLogonFailures", 3), ("MaxMessageSize", byte_size(conn.max_message_size)),
        ("MaxProtocolErrors", conn.max_protocol_errors),
        ("MaxRecipientsPerMessage", conn.max_recipients_per_message), ("PermissionGroups", flags(groups)),
        ("PipeliningEnabled", conn.pipelining_enabled), ("ProtocolLoggingLevel", conn.protocol_logging_level),
        ("RemoteIPRanges", [r.text for r in conn.remote_ip_ranges]), ("RequireTLS", conn.require_tls),
        ("EnableAuthGSSAPI", conn.enable_auth_gssapi), ("TlsDomainCapabilities", list(conn.tls_domain_capabilities)),
        ("Server", server.name), ("TransportRole", conn.transport_role), ("SizeEnabled", conn.size_enabled),
        ("TarpitInterval", "00:00:05"), ("Name", conn.name), ("Identity", f"{server.name}\\{conn.name}"),
    ]
    return ExRecord(props, ["Identity", "Bindings", "Enabled"],
                    "Microsoft.Exchange.Data.Directory.SystemConfiguration.ReceiveConnector", conn, node)


def send_connector(conn: SendConnector) -> ExRecord:
    """Get-SendConnector's record (Exchange lists its properties alphabetically)."""
    props = [
        ("AddressSpaces", [str(a) for a in conn.address_spaces]), ("CloudServicesMailEnabled",
                                                                  conn.cloud_services_mail_enabled),
        ("Comment", None), ("ConnectionInactivityTimeOut", "00:10:00"),
        ("DNSRoutingEnabled", conn.dns_routing_enabled), ("DomainSecureEnabled", False), ("Enabled", conn.enabled),
        ("ErrorPolicies", conn.error_policies), ("Fqdn", conn.fqdn), ("Identity", conn.name),
        ("IgnoreSTARTTLS", conn.ignore_starttls), ("IsScopedConnector", False), ("IsSmtpConnector", True),
        ("MaxMessageSize", byte_size(conn.max_message_size)), ("Name", conn.name), ("Port", conn.port),
        ("RequireTLS", conn.require_tls), ("SmartHosts", list(conn.smart_hosts)),
        ("SmartHostsString", ",".join(conn.smart_hosts)),
        ("SourceTransportServers", [s.upper() for s in conn.source_transport_servers]),
        ("TlsAuthLevel", conn.tls_auth_level), ("TlsCertificateName", conn.tls_certificate_name),
        ("TlsDomain", conn.tls_domain), ("Usage", conn.usage), ("UseExternalDNSServersEnabled", False),
    ]
    return ExRecord(props, ["Identity", "AddressSpaces", "Enabled"],
                    "Microsoft.Exchange.Data.Directory.SystemConfiguration.SmtpSendConnectorConfig", conn)


def ad_permission(identity: str, user: str, rights: Sequence[str], inherited: bool = False,
                  access: str = "ExtendedRight") -> ExRecord:
    """Get-ADPermission / Add-ADPermission's record (one per user and right set)."""
    props = [("Identity", identity), ("User", user), ("Deny", False), ("AccessRights", [access]),
             ("ExtendedRights", list(rights)), ("IsInherited", inherited), ("Properties", None),
             ("ChildObjectTypes", None), ("InheritedObjectType", None), ("InheritanceType", "All")]
    return ExRecord(props, ["Identity", "User", "Deny", "IsInherited"],
                    "Microsoft.Exchange.Management.RecipientTasks.ADAcePresentationObject")


# --- domains, recipients -------------------------------------------------------------------
def accepted_domain(domain: AcceptedDomain) -> ExRecord:
    """Get-AcceptedDomain's record."""
    props = [("DomainName", domain.domain_name), ("DomainType", domain.domain_type), ("Default", domain.default),
             ("Name", domain.name), ("Identity", domain.name)]
    return ExRecord(props, ["Name", "DomainName", "DomainType", "Default"],
                    "Microsoft.Exchange.Data.Directory.SystemConfiguration.AcceptedDomain", domain)


def mailbox(box: Mailbox, server: str | None) -> ExRecord:
    """Get-Mailbox's record."""
    addresses = [("SMTP:" if a == box.primary_smtp_address else "smtp:") + a for a in box.email_addresses]
    props = [("Name", box.name), ("Alias", box.alias), ("ServerName", (server or "").lower()),
             ("ProhibitSendQuota", "Unlimited"), ("PrimarySmtpAddress", box.primary_smtp_address),
             ("EmailAddresses", addresses), ("RecipientTypeDetails", "UserMailbox"), ("Identity", box.name)]
    return ExRecord(props, ["Name", "Alias", "ServerName", "ProhibitSendQuota"],
                    "Microsoft.Exchange.Data.Directory.Management.Mailbox", box)


# --- certificates --------------------------------------------------------------------------
_SERVICE_LETTERS = (("IMAP", "I"), ("POP", "P"), ("UM", "U"), ("IIS", "W"), ("SMTP", "S"), ("Federation", "F"),
                    ("UMCallRouter", "C"))


_SERVICE_LETTERS_UPPER = tuple((name.upper(), letter) for name, letter in _SERVICE_LETTERS)


def service_letters(services: Iterable[str], version: int = 2016) -> str:
    """The Services column: ``IP.WS..`` (2013+, 7 letters) or ``IP.WS`` (2010)."""
    chosen = {s.upper() for s in services}
    letters = "".join([letter if upper in chosen else "." for upper, letter in _SERVICE_LETTERS_UPPER])
    return letters[:5] if version == 2010 else letters


def exchange_certificate(cert: InstalledCertificate, node: str, version: int, thumbprint: str) -> ExRecord:
    """Get-ExchangeCertificate's record; a pending request shows its request's subject."""
    facts = cert.facts
    domains = list(facts.san_dns) if facts else []
    props = [
        ("AccessRules", None), ("CertificateDomains", domains),
        ("HasPrivateKey", True), ("IsSelfSigned", bool(facts and facts.self_signed)),
        ("Issuer", facts.issuer if facts else ""), ("NotAfter", facts.not_after if facts else None),
        ("NotBefore", facts.not_before if facts else None),
        ("PublicKeySize", _key_size(facts.key_algorithm) if facts else 0),
        ("RootCAType", _root_type(facts) if facts else "None"),
        ("SerialNumber", facts.serial if facts else ""), ("Services", service_letters(cert.services, version)),
        ("Status", cert.status), ("Subject", facts.subject if facts else f"CN={cert.friendly_name}"),
        ("Thumbprint", thumbprint), ("FriendlyName", cert.friendly_name), ("Identity", f"{node.upper()}\\{thumbprint}"),
    ]
    return ExRecord(props, ["Thumbprint", "Services", "Subject"],
                    "Microsoft.Exchange.Management.SystemConfigurationTasks.ExchangeCertificate", cert, node)


def _key_size(algorithm: str) -> int:
    digits = "".join(filter(str.isdigit, algorithm.split()[-1]))  # (its characters that are digits, in order)
    return int(digits) if digits else 0


def _root_type(facts: Any) -> str:
    return "None" if facts.self_signed else "ThirdParty"


# --- queues, messages, tracking ----------------------------------------------------------------
def queue(view: QueueView, settings: TransportSettings) -> ExRecord:
    """Get-Queue's record (fidelity §2.2; the default table's columns are UNCONFIRMED)."""
    m = view.to_mapping(settings)
    order = ("DeliveryType", "NextHopDomain", "TlsDomain", "NextHopConnector", "Status", "MessageCount", "LastError",
             "RetryCount", "LastRetryTime", "NextRetryTime", "FirstRetryTime", "DeferredMessageCount",
             "LockedMessageCount", "RiskLevel", "OutboundIPPool", "NextHopCategory", "Velocity", "QueueIdentity",
             "Identity")
    props = list(zip(order, map(m.__getitem__, order)))  # ((k, m[k]) for each k of order)
    props.insert(13, ("MessageCountsPerPriority", [0, 0, 0, 0]))
    props.insert(len(props) - 1, ("PriorityDescriptions", ["High", "Normal", "Low", "None"]))
    return ExRecord(props, ["Identity", "DeliveryType", "Status", "MessageCount", "Velocity", "RiskLevel",
                            "OutboundIPPool", "NextHopDomain"],
                    "Microsoft.Exchange.Data.QueueViewer.ExtensibleQueueInfo", view)


def message(view: MessageView, settings: TransportSettings) -> ExRecord:
    """Get-Message's record."""
    m = view.to_mapping(settings)
    return ExRecord(list(m.items()), ["Identity", "FromAddress", "Status", "Queue", "Subject"],
                    "Microsoft.Exchange.Data.QueueViewer.ExtensibleMessageInfo", view)


def tracking_event(event: TrackingEvent, epoch: datetime) -> ExRecord:
    """Get-MessageTrackingLog's record."""
    d = event.to_dict()
    from datetime import timedelta
    props = [("Timestamp", epoch + timedelta(seconds=event.timestamp)), ("ClientIp", None),
             ("ServerHostname", event.server), ("ConnectorId", d["ConnectorId"]), ("Source", event.source),
             ("EventId", event.event_id), ("InternalMessageId", event.internal_id), ("MessageId", event.message_id),
             ("Recipients", list(event.recipients)), ("RecipientStatus", list(event.recipient_status)),
             ("TotalBytes", event.total_bytes), ("RecipientCount", len(event.recipients)),
             ("Reference", event.reference or None), ("MessageSubject", event.subject), ("Sender", event.sender)]
    return ExRecord(props, ["EventId", "Source", "Sender", "Recipients", "MessageSubject"],
                    "Microsoft.Exchange.Management.TransportLogSearchTasks.MessageTrackingEvent", event)


def generic(props: Iterable[tuple[str, Any]], table: Sequence[str], type_name: str, source: Any = None) -> ExRecord:
    """Any other record (EXO connectors, DNS records, lab objects)."""
    return ExRecord(props, table, type_name, source)
