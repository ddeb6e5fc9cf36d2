"""Exchange Online / EOP strings: front door replies (fidelity §1.3), connector and validation
texts (§4.1, §4.2, §4.5), queue/NDR lines (§2.3, §4.5) and header pieces (§7).

Naming as in :mod:`lab.core.catalogue.exchange`: ``S<code>_<enhanced>_<SLUG>`` for SMTP replies
and queue LastErrors, ``EHLO_*`` for EHLO keywords, ``TLS_*`` for the ``[Message=...]`` payloads
of the 4.4.317 family, ``VAL_*`` for connector validation texts, ``CMD_*`` for cmdlet
(New-InboundConnector / New-OutboundConnector) parameter errors, ``HDR_*`` for header pieces.

Placeholders: ``{host}`` is the EOP front end's internal name
(``AM5EUR02FT025.eop-EUR02.prod.protection.outlook.com``), ``{time}`` an ISO time with
milliseconds (``2023-06-22T08:26:31.592Z``), ``{id}`` a 16-hex-digit id (``08DB72B25E50380B``;
.NET ticks, which is what the real ids are).
"""
from __future__ import annotations

from lab.core.catalogue import Message, Reply

_LAB_CHOICE = "not in research/fidelity.md; the lab's choice"

# --- greeting and EHLO (both endpoints) ------------------------------------------------------------
S220_BANNER = Reply(220, None, "{fqdn} Microsoft ESMTP MAIL Service ready at {date}",
                    "C- captures 2019-2025; M-MFD-FIX")
S250_HELLO = Reply(250, None, "{fqdn} Hello [{ip}]", "C- 2022; C- pastebin.com/TyT9zjLJ")
EHLO_SIZE = Message("SIZE 157286400", "C- 2022; C- pastebin.com/TyT9zjLJ")
EHLO_PIPELINING = Message("PIPELINING", "C- 2022")
EHLO_DSN = Message("DSN", "C- 2022")
EHLO_ENHANCEDSTATUSCODES = Message("ENHANCEDSTATUSCODES", "C- 2022")
EHLO_STARTTLS = Message("STARTTLS", "C- 2022")
EHLO_8BITMIME = Message("8BITMIME", "C- 2022")
EHLO_BINARYMIME = Message("BINARYMIME", "C- 2022")
EHLO_CHUNKING = Message("CHUNKING", "C- 2022")
EHLO_SMTPUTF8 = Message("SMTPUTF8", "C- 2022")
EHLO_AUTH_LOGIN_XOAUTH2 = Message("AUTH LOGIN XOAUTH2", "C- pastebin.com/TyT9zjLJ (post-TLS, smtp.office365.com)")
S220_2_0_0_SMTP_SERVER_READY = Reply(220, "2.0.0", "SMTP server ready", "C- pastebin.com/TyT9zjLJ")
S354_START_MAIL_INPUT = Reply(354, None, "Start mail input; end with <CRLF>.<CRLF>", "M-TELNET (Exchange)",
                              unconfirmed=True, note="EOP's own 354 text is not in fidelity; Exchange's is used")
S250_2_0_0_OK = Reply(250, "2.0.0", "OK", "", unconfirmed=True, note=_LAB_CHOICE + " (RSET/NOOP)")
S221_2_0_0_CLOSING = Reply(221, "2.0.0", "Service closing transmission channel", "M-TELNET (Exchange)",
                           unconfirmed=True, note="Exchange's QUIT text; EOP's is not in fidelity")

# --- MAIL FROM / RCPT TO / DATA ---------------------------------------------------------------------
S250_2_1_0_SENDER_OK = Reply(250, "2.1.0", "Sender OK", "C- python smtplib capture 2020; seed 001")
S250_2_1_5_RECIPIENT_OK = Reply(250, "2.1.5", "Recipient OK", "C- python smtplib capture 2020")
S250_2_6_0_QUEUED = Reply(
    250, "2.6.0", "{message_id} [InternalId={internal_id}, Hostname={hostname}] Queued mail for delivery",
    "M-TELNET (Exchange form)", unconfirmed=True,
    note="EXO's end-of-DATA reply is not in fidelity; the Exchange form is used")
S451_5_7_3_STARTTLS_REQUIRED = Reply(451, "5.7.3", "STARTTLS is required to send mail",
                                     "C- app notes (n8n, Java); D")

# smtp.office365.com, anonymous MAIL FROM. The lab uses the OLDER text: it is the one article 001
# (seed) shows, and the 2017-2020 captures; the current text is kept for scenarios that want it.
S530_5_7_57_NOT_AUTHENTICATED_LEGACY = Reply(
    530, "5.7.57", "SMTP; Client was not authenticated to send anonymous mail during MAIL FROM [{host}]",
    "C- postfix/Java logs 2017-2020; M-NDR-EXO; seed 001")
S530_5_7_57_NOT_AUTHENTICATED = Reply(
    530, "5.7.57", "Client not authenticated to send mail. [{host} {time} {id}]",
    "C- pastebin.com/SuB30vi5; M-MFD-FIX", note="current (2023+) text; not the lab's default")
S235_2_7_0_AUTH_OK = Reply(235, "2.7.0", "Authentication successful", "C- pastebin.com/TyT9zjLJ")
S535_5_7_3_AUTH_UNSUCCESSFUL = Reply(535, "5.7.3", "Authentication unsuccessful", "M-MFD-FIX; C-")
S535_5_7_139_AUTH_UNSUCCESSFUL_POLICY = Reply(
    535, "5.7.139",
    "Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. "
    "Contact your administrator.", "M-MFD-FIX; C-")
S504_5_7_4_UNRECOGNIZED_AUTH_TYPE = Reply(
    504, "5.7.4", "Unrecognized authentication type", "", unconfirmed=True,
    note=_LAB_CHOICE + " (AUTH before STARTTLS on smtp.office365.com, recalled from captures)")
S550_5_7_60_SEND_AS_DENIED = Reply(
    550, "5.7.60", "SMTP; Client does not have permissions to send as this sender [{host}]",
    "M-MFD-FIX; C- pastebin.com/wtU9XT6T", note="the lab returns it at the end of DATA")
S550_5_7_64_TENANT_ATTRIBUTION = Reply(
    550, "5.7.64", "TenantAttribution; Relay Access Denied [{host}]", "M-NDR-EXO; S-5764; C- Q&A")
S550_5_7_64_ATTR36 = Reply(550, "5.7.64", "Relay Access Denied ATTR36. For more details please refer to KB 3169958.",
                           "S-NOTICE", note="the 2017 rule: sender domain not accepted")
S550_5_7_51_TENANT_INBOUND_ATTRIBUTION = Reply(
    550, "5.7.51",
    "TenantInboundAttribution; There is a partner connector configured that matched the message's recipient "
    "domain. The connector had either the RestrictDomainsToIPAddresses or RestrictDomainsToCertificate set "
    "[{host} {time} {id}]", "B-HYBCERT")
S550_5_7_68_DIRECT_SEND_NOT_ALLOWED = Reply(
    550, "5.7.68", "TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources",
    "C- security write-ups", unconfirmed=True, note="Microsoft's own page not read (fidelity §9.9)")
S550_5_7_606_BANNED_SENDING_IP = Reply(
    550, "5.7.606",
    "Access denied, banned sending IP [{ip}]. To request removal from this list please visit "
    "https://sender.office.com/ and follow the directions. For more information please go to  "
    "http://go.microsoft.com/fwlink/?LinkID=526655 (AS16012609) [{host}]",
    "M-NDR-EXO; C- 2019 capture", note="double space before http is verbatim")
S550_5_4_1_DBEB_ACCESS_DENIED = Reply(
    550, "5.4.1", "Recipient address rejected: Access denied. AS(201806281) [{host} {time} {id}]",
    "M-NDR-EXO; C- postfix log 2023")
S550_5_1_10_RECIPIENT_NOT_FOUND = Reply(
    550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", "M-NDR-EXO; C-")
S550_5_4_1_RELAY_ACCESS_DENIED = Reply(550, "5.4.1", "Relay Access Denied", "M-541",
                                       note="NDR form is '#550 5.4.1 Relay Access Denied ##'")

# --- queue LastErrors / NDRs of EOP's outbound delivery (§4.5, S-MFI) --------------------------------
S450_4_4_317_CANNOT_CONNECT = Reply(450, "4.4.317", "Cannot connect to remote server [Message={message}]{attempt}",
                                    "S-4317; C- Q&A 2195248; B-HYBCERT")
S450_4_4_317_CANNOT_ESTABLISH = Reply(
    450, "4.4.317", "Cannot establish session with remote server [Message={message}]{attempt}", "B-G2; C- NDR 2026")
ATTEMPT_SUFFIX = Message(" [LastAttemptedServerName={server}] [LastAttemptedIP={ip}:{port}] "
                         "[SmtpSecurity={security}] [{host} {time} {id}]", "C- Q&A 2195248; C- NDR 2026")
TLS_UNTRUSTED_ROOT = Message("UntrustedRoot", "S-4317")
TLS_CERTIFICATE_FAILURE = Message(
    "{failure} Expected Subject: {expected}. Presented Subject: {presented}. Thumbprint: {thumbprint}.",
    "C- Q&A 2195248 (CertificateExpired); B-HYBCERT (SubjectMismatch)")
TLS_STARTTLS_REQUIRED = Message("451 5.7.3 STARTTLS is required to send mail", "B-HYBCERT; B-G2; C- forum 2020")
TLS_NEGOTIATION_FAILED = Message("451 4.4.0 TLS negotiation failed with error {reason}", "C- Q&A 2195248")
TLS_SECURITY_STATUS = Message("451 4.4.0 Security status {reason}", "C- Q&A 2023")
SMTP_SECURITY_TLS_FAILED = Message("-1;-1", "C- Q&A 2195248", unconfirmed=True,
                                   note="meaning of SmtpSecurity values is UNCONFIRMED (fidelity §9.5)")
SMTP_SECURITY_NO_TLS = Message("-2;-2", "C- Q&A 2195248", unconfirmed=True,
                               note="meaning of SmtpSecurity values is UNCONFIRMED (fidelity §9.5)")
S450_4_4_312_DNS_QUERY_FAILED = Reply(450, "4.4.312", "DNS query failed", "S-MFI")
S450_4_4_315_CONNECTION_TIMED_OUT = Reply(450, "4.4.315", "Connection timed out", "S-MFI")
S450_4_4_316_CONNECTION_REFUSED = Reply(450, "4.4.316", "Connection refused [Message=Socket error code 10061]",
                                        "S-MFI; M-NDR-EXO")
S450_4_4_318_CONNECTION_CLOSED = Reply(450, "4.4.318", "Connection was closed abruptly", "S-MFI")
S450_4_7_320_CERTIFICATE_VALIDATION_FAILED = Reply(450, "4.7.320", "Certificate validation failed", "S-MFI; M-NDR-EXO")
S550_5_4_317_EXPIRED_CANNOT_CONNECT = Reply(
    550, "5.4.317", "Message expired, cannot connect to remote server({last})", "C- EOP NDR 2020")
S550_5_4_300_MESSAGE_EXPIRED = Reply(550, "5.4.300", "Message expired", "M-NDR-EXO")

# --- Validate-OutboundConnector (§4.5, S-VALID, P-VOC) ---------------------------------------------
VAL_RESOLVE_FAILED = Message("Resolve task failed", "S-VALID")
VAL_CONNECT_FAILED = Message("Connection task failed", "S-VALID")
VAL_EHLO_FAILED = Message("SMTP EHLO task failed", "S-VALID")
VAL_SUCCEEDED = Message("validation successful", "blogs", unconfirmed=True,
                        note="EAC wording for a successful validation is UNCONFIRMED (fidelity §9.5)")
VAL_NOT_PART_OF_CONNECTOR = Message("The domain of the recipient is not configured as part of connector.",
                                    "KB 3179588")

# --- New-InboundConnector / New-OutboundConnector parameter texts (§4.1, §4.2) -----------------------
CMD_IPV6_NOT_SUPPORTED = Message("IPv6 addresses are not supported", "P-NIC")
CMD_CIDR_RANGE = Message("{value} is not a valid IP address or CIDR range: only IPv4 /24 to /32 ranges are supported",
                         "P-NIC", unconfirmed=True, note="the rule is P-NIC's; the sentence is the lab's")
CMD_WILDCARD_DOMAIN = Message("{value} is not a valid domain: a wildcard is allowed only as *.domain", "P-NIC",
                              unconfirmed=True, note="the rule is P-NIC's; the sentence is the lab's")
CMD_PARTNER_ONLY = Message("{parameter} can be set only on a connector of type Partner", "P-NIC",
                           unconfirmed=True, note="the rule is P-NIC's; the sentence is the lab's")
CMD_ONPREMISES_ONLY = Message("{parameter} can be set only on a connector of type OnPremises", "P-NIC; P-NOC",
                              unconfirmed=True, note="the rule is P-NIC's/P-NOC's; the sentence is the lab's")
CMD_INTERNAL_AND_CLOUD = Message(
    "TreatMessagesAsInternal can't be used together with CloudServicesMailEnabled", "P-NIC",
    unconfirmed=True, note="the rule is P-NIC's; the sentence is the lab's")
CMD_SMART_HOSTS_REQUIRED = Message("SmartHosts must be set when UseMXRecord is $false", "P-NOC",
                                   unconfirmed=True, note="the rule is P-NOC's; the sentence is the lab's")
CMD_SMART_HOSTS_WITH_MX = Message("SmartHosts can't be set when UseMXRecord is $true", "P-NOC",
                                  unconfirmed=True, note="the rule is P-NOC's; the sentence is the lab's")
CMD_TLS_DOMAIN_NEEDS_DOMAIN_VALIDATION = Message(
    "TlsDomain can be set only when TlsSettings is DomainValidation", "P-NOC",
    unconfirmed=True, note="the rule is P-NOC's; the sentence is the lab's")

# --- headers (§7) -----------------------------------------------------------------------------------
EXO_BUILD = Message("15.20.7828.19", "C- LKML 2024 (EOP Received header)")
HDR_EOP_INTERNAL_HOST = Message("{label}.eop-{region}.prod.protection.outlook.com",
                                "§1.3 captures (AM5EUR02FT025.eop-EUR02.prod.protection.outlook.com)")
EOP_FT_INTERNAL_IP = Message("2603:10a6:10:15b:cafe::25", "fidelity §7.1 (…::cafe::… form of EOP FT hosts)",
                             unconfirmed=True, note=_LAB_CHOICE + " (the address itself)")
EXO_FE_INTERNAL_IP = Message("2603:10a6:20b:2c0::41", "fidelity §7.1 (EXO internal hops are IPv6)",
                             unconfirmed=True, note=_LAB_CHOICE + " (the address itself)")
HDR_CROSS_PREMISES_FILTERED = Message("X-CrossPremisesHeadersFiltered: {host}", "C- HPE header 2019")
HDR_ORIGINATOR_ORG = Message("X-OriginatorOrg: {org}", "C- HPE")

# --- Get-MessageTrace Status values (EXO) -----------------------------------------------------------
TRACE_DELIVERED = Message("Delivered", "Get-MessageTrace (EXO cmdlet reference)")
TRACE_PENDING = Message("Pending", "Get-MessageTrace (EXO cmdlet reference)")
TRACE_FAILED = Message("Failed", "Get-MessageTrace (EXO cmdlet reference)")
