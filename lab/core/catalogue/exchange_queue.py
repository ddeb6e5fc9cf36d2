"""On-premises Exchange transport strings: queue LastErrors, DSN/NDR texts, routing (fidelity §2, §3.1, §6).

Every entry is verbatim from ``research/fidelity.md``; the tag in ``source`` is its source key.
Entries that are the lab's best reconstruction carry ``unconfirmed=True`` and say why in ``note``.

The failover templates take the inner response *without* its final full stop: the template
adds ``."`` itself (``"421 4.2.1 Unable to connect."``).
"""
from __future__ import annotations

from lab.core.catalogue import Message, Reply
from lab.core.catalogue import exchange as _receive

# --- DNS (fidelity §2.1, §6: SmtpOutConnection.NextHopResolutionFailed) ---------------------------
S554_5_4_4_DNS_NONEXISTENT_DOMAIN = Reply(
    554, "5.4.4", "SMTPSEND.DNS.NonExistentDomain; nonexistent domain", source="D, M-NDR-SRV")
S451_4_4_0_DNS_NONEXISTENT_DOMAIN = Reply(
    451, "4.4.0", "DNS query failed. The error was: SMTPSEND.DNS.NonExistentDomain; nonexistent domain",
    source="D; C- exchangemaster.wordpress.com 2014, markgossa.com 2015")
S554_5_4_4_DNS_MX_LOOPBACK = Reply(
    554, "5.4.4", "SMTPSEND.DNS.MxLoopback; DNS records for this domain are configured in a loop", source="D")
S451_4_4_0_DNS_MX_LOOPBACK = Reply(
    451, "4.4.0",
    "DNS query failed. The error was: SMTPSEND.DNS.MxLoopback; DNS records for this domain are configured in a loop",
    source="D")
S554_5_4_4_DNS_INVALID_DATA = Reply(
    554, "5.4.4", "SMTPSEND.DNS.InvalidData; DNS returned an invalid response for this domain", source="D")
S451_4_4_0_DNS_INVALID_DATA = Reply(
    451, "4.4.0", "DNS query failed. The error was: SMTPSEND.DNS.InvalidData; DNS returned an invalid response "
    "for this domain", source="D", unconfirmed=True,
    note="fidelity §6 says only 'retry'; wording built like the NonExistentDomain/MxLoopback downgrades")
S451_4_4_0_DNS_QUERY_FAILED_WITH_ERROR = Reply(
    451, "4.4.0", "DNS query failed. The error was: DNS query failed with error {status}", source="D, S-ERRRETRY")
S451_4_4_0_DNS_QUERY_FAILED = Reply(451, "4.4.0", "DNS query failed", source="D")
S556_5_1_10_NULL_MX = Reply(
    556, "5.1.10", "Recipient address has null MX", source="RFC7505 (IANA X.1.10)", unconfirmed=True,
    note="what Exchange 2016/2019 does with a null MX is not documented; RFC 7505's reply is used")

# Exchange DnsStatus names for the lab DNS client's errors (fidelity §2.1 'with error <DnsStatus>').
DNS_STATUS_NO_RECORDS = "InfoNoRecords"
DNS_STATUS_SERVER_FAILURE = "ServerFailure"
DNS_STATUS_TIMEOUT = "ErrorTimeout"
DNS_STATUS_RETRY = "ErrorRetry"

# --- connecting, failover (fidelity §2.1 'Failover message wording') -----------------------------
S451_4_4_0_FAILOVER = Reply(
    451, "4.4.0",
    'Primary target IP address responded with: "{response}." Attempted failover to alternate host, but that '
    "did not succeed. Either there are no alternate hosts, or delivery failed to all alternate hosts.",
    source="D; C- supertekboy.com 2017")
S441_4_4_1_FAILOVER_SOCKET = Reply(
    441, "4.4.1",
    'Error encountered while communicating with primary target IP address: "{response}." Attempted failover to '
    "alternate host, but that did not succeed. Either there are no alternate hosts, or delivery failed to all "
    "alternate hosts. The last endpoint attempted was {endpoint}",
    source="D (SocketError template + 2013+ suffix); C- NDR 2023")
S421_4_2_1_UNABLE_TO_CONNECT = Reply(421, "4.2.1", "Unable to connect", source="C- supertekboy.com 2017; D")
WINSOCK_FAILED_TO_CONNECT = Message(
    "Failed to connect. Winsock error code: {code}, Win32 error code: {code}", source="D; C- NDR 2023")
WINSOCK_TIMED_OUT = 10060
WINSOCK_REFUSED = 10061
S421_4_4_1_CONNECTION_TIMED_OUT = Reply(421, "4.4.1", "Connection timed out", source="S-UNKCRED")
S421_4_4_2_CONNECTION_DROPPED = Reply(421, "4.4.2", "Connection dropped due to {reason}", source="D, S-TLS10")
S450_4_7_0_PROXY_SESSION_FAILED = Reply(
    450, "4.7.0", "Proxy session setup failed on Frontend with '{response}'", source="D; C- Q&A 234456")
S550_5_7_0_PROXY_SESSION_FAILED = Reply(550, "5.7.0", "Proxy session setup failed on Frontend with '{response}'", source="D")

# --- TLS on the send side (fidelity §2.1, §5) -------------------------------------------------------
# the receive side's reply (lab.core.catalogue.exchange), also the synthesised failover response (D, S-NEWCERT)
S451_5_7_3_STARTTLS_REQUIRED = _receive.S451_5_7_3_STARTTLS_REQUIRED
S454_4_7_5_TLS_CERTIFICATE_NAME_NOT_FOUND = Reply(
    454, "4.7.5", "The certificate specified in TlsCertificateName of the SendConnector could not be found.",
    source="B-HYBCERT; D")
S421_TLS_AUTH_LEVEL_NEEDS_DOMAIN = Reply(
    421, None, "TLSAuthLevel cannot be DomainValidation with out a valid TLS Domain.", source="D")
S421_TLS_DOMAIN_NEEDS_DOMAIN_VALIDATION = Reply(
    421, None, "TLS Domain can only be specified with TLSAuthLevel set to DomainValidation.", source="D")
STARTTLS_FAILED_RETRYING_WITHOUT = Message(
    "STARTTLS negotiation failed. No more hosts to connect to. Retrying without STARTTLS", source="D")
TLS_NEGOTIATION_FAILED = Message("TLS negotiation failed with error {error}", source="S-NOCRED; S-UNKCRED; S-TLS10")
EVENT_12014_CERT_NOT_FOUND = Message(
    "Microsoft Exchange could not find a certificate that contains the domain name {name} in the personal store on "
    "the local computer.", source="B-HYBCERT; S-NEWCERT")

# --- queues (fidelity §2.1, §2.2) ----------------------------------------------------------------------
NO_MATCHING_CONNECTOR = Message(
    "A matching connector cannot be found to route the external recipient", source="M-MP, M-Q")
NO_MATCHING_CONNECTOR_NAME = Message("<No Matching Connector>", source="M-MP")
UNREACHABLE_DOMAIN = Message("Unreachable Domain", source="M-Q")
NULL_GUID = Message("00000000-0000-0000-0000-000000000000", source="M-Q")
S400_4_4_7_MESSAGE_DELAYED = Reply(400, "4.4.7", "Message delayed", source="D, C- NDR 2023, M-NDR-SRV")
S550_4_4_7_QUEUE_EXPIRED = Reply(550, "4.4.7", "QUEUE.Expired; message expired", source="D, M-447")
S550_4_4_7_QUEUE_EXPIRED_UNREACHABLE = Reply(
    550, "4.4.7", "QUEUE.Expired; message expired in unreachable destination queue. Reason: {reason}",
    source="D (AckReason.UnreachableMessageExpired)")
S550_5_4_300_MESSAGE_EXPIRED = Reply(550, "5.4.300", "Message expired -> {last_error}", source="C- Q&A 1183032")
S550_4_3_2_QUEUE_ADMIN = Reply(550, "4.3.2", "QUEUE.Admin; message deleted by administrative action", source="D")
S550_5_4_4_ROUTING_NO_NEXT_HOP = Reply(550, "5.4.4", "ROUTING.NoNextHop; unable to route", source="D")
S550_5_4_4_ROUTING_NO_CONNECTOR_FOR_ADDRESS_TYPE = Reply(
    550, "5.4.4", "ROUTING.NoConnectorForAddressType; unable to route for address type", source="D")
S554_5_4_4_CONFIGURATION_CHANGED = Reply(554, "5.4.4", "Configuration changed", source="D")
LAST_ERROR_BRACKETED = Message(
    "[{{LRT={lrt}}};{{LED={led}}};{{FQDN={fqdn}}};{{IP={ip}}}]", source="C- Q&A 234456 (2016+ format)")
S550_5_1_1_RECIPIENT_NOT_FOUND = Reply(550, "5.1.1", "RESOLVER.ADR.RecipNotFound; not found", source="D, M-NDR-SRV")
S550_5_1_1_EX_RECIPIENT_NOT_FOUND = Reply(
    550, "5.1.1", "RESOLVER.ADR.ExRecipNotFound; not found", source="D, M-NDR-SRV")
S552_5_3_4_MESSAGE_TOO_BIG = _receive.S552_5_3_4_MESSAGE_TOO_BIG  # the receive side's reply, in the NDR
S250_2_0_0_OK = _receive.S250_2_0_0_OK  # the receive side's reply: a delivery's status when no reply is known

# --- DSN / NDR bodies (fidelity §2.1 delay line, §8 NDR diagnostic) -------------------------------------
DSN_STATUS_FAILED = "5.0.0"  # RFC 3464 Status: of a failed recipient whose reply has no enhanced code
DSN_STATUS_DELAYED = "4.0.0"  # ... of a delayed one
NDR_REMOTE_SERVER_RETURNED = Message("Remote Server returned '{reply}'", source="M-NDR-SRV; C- NDR 2023")
NDR_REMOTE_SERVER_AT_RETURNED = Message(
    "Remote Server at {host} ({ip}) returned '{reply}'", source="C- NDR 2023 (delay DSN line)")
NDR_SUBJECT_FAILED = Message("Undeliverable: {subject}", source="C- (Exchange NDR subject)")
NDR_SUBJECT_DELAYED = Message(
    "Delivery delayed:{subject}", source="C-", unconfirmed=True, note="spacing after the colon not verified")
NDR_HEADLINE_FAILED = Message("Delivery has failed to these recipients or groups:", source="C- (Exchange 2010+ NDR)")
NDR_HEADLINE_DELAYED = Message("Delivery is delayed to these recipients or groups:", source="C-", unconfirmed=True)
NDR_DELAYED_BODY = Message(
    "This message hasn't been delivered yet. Delivery will continue to be attempted.", source="C-",
    unconfirmed=True, note="Exchange 2013+ delay DSN body text recalled from captures")
NDR_DIAGNOSTIC_HEADING = Message("Diagnostic information for administrators:", source="C- (Exchange NDR)")
NDR_GENERATING_SERVER = Message("Generating server: {server}", source="C- (Exchange NDR)")
NDR_ORIGINAL_HEADERS = Message("Original message headers:", source="C- (Exchange NDR)")
NDR_FROM_DISPLAY_NAME = Message(
    "Microsoft Outlook", source="C-", unconfirmed=True, note="2013+ NDRs come from 'Microsoft Outlook'")

# --- send connector validation (P-NSC); shown in ConfigError messages ------------------------------------
SEND_CONNECTOR_SMART_HOSTS_NEED_DNS_ROUTING_OFF = Message(
    "If you specify a SmartHosts parameter, the DNSRoutingEnabled parameter must be $false", source="P-NSC")
SEND_CONNECTOR_NO_SMART_HOSTS = Message(
    "SmartHosts is required when DNSRoutingEnabled is $false", source="P-NSC", unconfirmed=True,
    note="P-NSC states the rule ('required when DNSRoutingEnabled $false'); the cmdlet's error text is not known")
SEND_CONNECTOR_IGNORE_STARTTLS_WITH_REQUIRE_TLS = Message(
    "IgnoreSTARTTLS must be set to $false if the RequireTLS parameter is set to $true", source="P-NSC")
SEND_CONNECTOR_TLS_AUTH_LEVEL_CONDITIONS = Message(
    "TlsAuthLevel can't be set if IgnoreSTARTTLS is $true or RequireTLS is $false", source="P-NSC")
SEND_CONNECTOR_BAD_ADDRESS_SPACE = Message(
    "The address space '{value}' is invalid: use AddressSpaceType:AddressSpace;AddressSpaceCost, where the "
    "address space is *, *.domain or domain and the cost is 1-100", source="P-NSC", unconfirmed=True,
    note="the rules are P-NSC's; the cmdlet's exact error text is not known")
SEND_CONNECTOR_BAD_PORT = Message(
    "The port '{value}' is invalid: use a whole number from 1 to 65535", source="P-NSC", unconfirmed=True,
    note="P-NSC gives the range (default 25); the cmdlet's exact error text is not known")
