"""Exchange Management Shell, Exchange Online and DnsServer cmdlet error texts (the lab's cmdlets).

Each error a cmdlet raises is a :class:`~lab.core.catalogue.Message` plus the ErrorCategory and
exception type PowerShell prints in ``+ CategoryInfo``. Wording marked ``unconfirmed`` was
written from memory of the products and could not be checked against a capture.
"""
from __future__ import annotations

from lab.core.catalogue import Message

_EMS = "Exchange Management Shell (Exchange 2013-2019)"

# --- categories / exception types ------------------------------------------------------------
NOT_FOUND_REASON = "ManagementObjectNotFoundException"
AMBIGUOUS_REASON = "ManagementObjectAmbiguousException"
ALREADY_EXISTS_REASON = "ADObjectAlreadyExistsException"
INVALID_OPERATION_REASON = "InvalidOperationException"
ARGUMENT_REASON = "ArgumentException"
DATA_VALIDATION_REASON = "DataValidationException"
TASK_REASON = "TaskException"

# --- object lookup ---------------------------------------------------------------------------
OBJECT_NOT_FOUND_ON_DC = Message(
    "The operation couldn't be performed because object '{identity}' couldn't be found on '{dc}'.",
    source=_EMS + " (Get-/Set-/Remove- cmdlets, ManagementObjectNotFoundException)",
)
COULDNT_FIND_OBJECT = Message(
    'Couldn\'t find object "{identity}". Please make sure that it was spelled correctly or specify a different '
    "object.",
    source=_EMS + " (Add-ADPermission / Get-ADPermission -Identity)",
)
OBJECT_AMBIGUOUS = Message(
    "The operation couldn't be performed because '{identity}' matches multiple entries.",
    source=_EMS + " (ManagementObjectAmbiguousException)",
)
ALREADY_EXISTS = Message(
    "Active Directory operation failed on {dc}. The object '{dn}' already exists.",
    source=_EMS + " (ADObjectAlreadyExistsException)", unconfirmed=True,
    note="distinguished-name form of the lab's configuration container",
)
EXO_OBJECT_NOT_FOUND = Message(
    "The operation couldn't be performed because object '{identity}' couldn't be found on '{dc}'.",
    source="Exchange Online PowerShell (same text; the DC is an EXO directory server)",
)

# --- receive connectors ----------------------------------------------------------------------
RECEIVE_CONNECTOR_NOT_UNIQUE = Message(
    "A Receive connector must have a unique combination of a local IP address & port bindings and remote IP "
    "address ranges. Change at least one of these values.",
    source=_EMS + " (New-/Set-ReceiveConnector)", unconfirmed=True,
    note="P-NRC: an IP:port pair may be reused only if RemoteIPRanges differ",
)
CUSTOM_NEEDS_BINDINGS = Message(
    "The Bindings parameter is required when you specify the Custom usage type.",
    source="P-NRC / M-RELAY (documented rule; the cmdlet's own error wording is unconfirmed)", unconfirmed=True,
)
RECEIVE_CONNECTOR_SAME_BINDING = Message(
    "receive connectors {first!r} and {second!r} have the same binding {binding} and the same RemoteIPRanges",
    source="lab", note="the topology check's wording (names both connectors); the cmdlets say RECEIVE_CONNECTOR_NOT_UNIQUE",
)
USAGE_ONE_OF = Message(
    "Parameter set cannot be resolved using the specified named parameters.",
    source="PowerShell ParameterBinderStrings.resx AmbiguousParameterSet",
)
INVALID_VALUE = Message(
    "{detail}", source="a value rejected by the Exchange object's validation (text from the lab model)",
)

# --- send connectors -------------------------------------------------------------------------
SEND_CONNECTOR_RULE = Message(
    "{detail}", source="P-NSC cross-parameter rule (text from lab.core.catalogue.exchange_queue)",
)

# --- AD permissions --------------------------------------------------------------------------
UNKNOWN_EXTENDED_RIGHT = Message(
    "The extended right '{right}' isn't valid.", source=_EMS + " (Add-ADPermission)", unconfirmed=True,
)
UNKNOWN_USER = Message(
    "The user or group \"{user}\" wasn't found. Please make sure you've typed it correctly.",
    source=_EMS + " (Add-ADPermission -User)", unconfirmed=True,
)

# --- accepted domains / recipients -----------------------------------------------------------
ACCEPTED_DOMAIN_EXISTS = Message(
    "The accepted domain \"{name}\" already exists.", source=_EMS + " (New-AcceptedDomain)", unconfirmed=True,
)
CANNOT_REMOVE_DEFAULT_DOMAIN = Message(
    "You can't remove the default accepted domain.", source=_EMS + " (Remove-AcceptedDomain)", unconfirmed=True,
)

# --- certificates ----------------------------------------------------------------------------
CERTIFICATE_NOT_FOUND = Message(
    "The certificate with thumbprint {thumbprint} was not found.",
    source=_EMS + " (Get-/Enable-/Remove-ExchangeCertificate)", unconfirmed=True,
)
CERTIFICATE_PENDING = Message(
    "The certificate with thumbprint {thumbprint} is a pending request and can't be enabled. Complete the "
    "request with Import-ExchangeCertificate first.",
    source=_EMS + " (Enable-ExchangeCertificate)", unconfirmed=True,
)
NO_PENDING_REQUEST = Message(
    "The certificate doesn't match any pending certificate request on {server}.",
    source=_EMS + " (Import-ExchangeCertificate)", unconfirmed=True,
)
CERTIFICATE_EXISTS = Message(
    "Cannot import certificate. A certificate with the thumbprint {thumbprint} already exists.",
    source=_EMS + " (Import-ExchangeCertificate)", unconfirmed=True,
)
BAD_SUBJECT_NAME = Message(
    "The value \"{value}\" isn't a valid X.500 distinguished name. {detail}",
    source=_EMS + " (New-ExchangeCertificate -SubjectName)", unconfirmed=True,
)
FILE_NOT_FOUND = Message(
    "Could not find file '{path}'.", source=".NET FileNotFoundException",
)

# --- queues / tracking -----------------------------------------------------------------------
QUEUE_NOT_FOUND = Message(
    "The queue {identity} wasn't found.", source=_EMS + " (Retry-Queue / Get-Queue -Identity)", unconfirmed=True,
)
QUEUE_NOT_IN_RETRY = Message(
    "The operation couldn't be performed because queue {identity} isn't in retry state.",
    source=_EMS + " (Retry-Queue)", unconfirmed=True,
)
SEND_MAIL_FAILED = Message(
    "{reply}", source="Send-MailMessage (SmtpException: the server's reply text)",
)
SMTP_FAILURE_REASON = "SmtpException"
SMTP_FAILED_RECIPIENT_REASON = "SmtpFailedRecipientException"
SEND_MAIL_FAILED_ID = "SmtpException,Microsoft.PowerShell.Commands.SendMailMessage"

# --- Exchange Online -------------------------------------------------------------------------
NOT_CONNECTED_ONLINE = Message(
    "The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable program. "
    "Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
    source="PowerShell CommandNotFoundException (EXO cmdlets before Connect-ExchangeOnline)",
)
NO_TENANT = Message(
    "No Exchange Online tenant is connected to organization '{org}' in this lab.",
    source="lab text (Connect-ExchangeOnline without a tenant)",
)
CONNECTOR_EXISTS = Message(
    "The connector \"{name}\" already exists.", source="Exchange Online (New-Inbound/OutboundConnector)",
    unconfirmed=True,
)
VALIDATE_DISABLED_CONNECTOR = Message(
    "The domain of the recipient is not configured as part of connector.",
    source="KB 3179588 \"Can't validate an outbound connector\"",
)

# --- DnsServer / DnsClient -------------------------------------------------------------------
DNS_ZONE_NOT_FOUND = Message(
    "Failed to get the zone information for {zone} on server {server}.",
    source="DnsServer module (WIN32 9601 DNS_ERROR_ZONE_DOES_NOT_EXIST)", unconfirmed=True,
)
DNS_ZONE_NOT_FOUND_ID = "WIN32 9601,Add-DnsServerResourceRecord"
DNS_RECORD_EXISTS = Message(
    "Failed to create resource record {name} in {zone} zone on server {server}.",
    source="DnsServer module (WIN32 9711 DNS_ERROR_RECORD_ALREADY_EXISTS)", unconfirmed=True,
)
DNS_RECORD_NOT_FOUND = Message(
    "Failed to get {name} record in {zone} zone on {server} server.",
    source="DnsServer module (WIN32 9714 DNS_ERROR_NAME_DOES_NOT_EXIST)", unconfirmed=True,
)
DNS_NAME_DOES_NOT_EXIST = Message(
    "{name} : DNS name does not exist", source="DnsClient Resolve-DnsName (DNS_ERROR_RCODE_NAME_ERROR)",
)
DNS_NAME_ERROR_ID = "DNS_ERROR_RCODE_NAME_ERROR,Microsoft.DnsClient.Commands.ResolveDnsName"
DNS_BAD_RECORD = Message("{detail}", source="lab.core.dns validation text")

# --- the lab's own cmdlets -------------------------------------------------------------------
CA_NOT_FOUND = Message("There is no certificate authority called '{name}' in this lab.", source="lab text")
CA_VALIDATION_FAILED = Message(
    "Domain validation failed for {domain}: {reason}", source="lab text (the public CA's issuing desk)",
)
CA_BAD_REQUEST = Message("The certificate request is not valid: {detail}", source="lab text")
BAD_DURATION = Message(
    "'{value}' is not a duration such as 00:30:00, 2.00:00:00, 45m or 4h.", source="lab text",
)
BANNED_IP_EXISTS = Message("{ip} is already on the banned sending IP list of {eop}.", source="lab text")
BANNED_IP_MISSING = Message("{ip} is not on the banned sending IP list of {eop}.", source="lab text")
NOT_AN_IP = Message("'{value}' is not an IPv4 address.", source="lab text")
NEEDS_RUNNING_LAB = Message("{what} needs a running lab (start it with `lab up`).", source="lab text")
UNKNOWN_LAB_HOST = Message("There is no host called '{name}' in this lab. Hosts: {names}.", source="lab text")
NO_EOP_NODE = Message("This lab has no EOP node{detail}.", source="lab text")
BAD_FILTER = Message(
    "Invalid filter syntax. For a description of the filter parameter syntax see the command help. \"{filter}\" "
    "at position {position}.",
    source=_EMS + " (Get-Queue -Filter / -Recipients OPATH parser)", unconfirmed=True,
)
BAD_DATETIME = Message("'{value}' is not a date and time.", source="lab text (Get-MessageTrackingLog -Start/-End)")

# --- Send-MailMessage (System.Net.Mail.SmtpClient inside Windows PowerShell 5.1) ---------------
_NETMAIL = ".NET System.Net.Mail SR strings (System.Net.Mail resources, decompiled SR class)"
MAIL_SERVER_RESPONSE = Message("The server response was: {response}", source=_NETMAIL + " MailServerResponse")
#: SmtpException's text for each SmtpStatusCode (SmtpException.GetMessageForStatus); codes not in
#: the enumeration fall to the default branch (CommandUnrecognized's text).
SMTP_STATUS_TEXTS = {
    211: Message("System status, or system help reply.", source=_NETMAIL),
    214: Message("Help message.", source=_NETMAIL),
    220: Message("Service ready.", source=_NETMAIL),
    221: Message("Service closing transmission channel.", source=_NETMAIL),
    250: Message("Completed.", source=_NETMAIL),
    251: Message("User not local; will forward to specified path.", source=_NETMAIL),
    354: Message("Start mail input; end with <CRLF>.<CRLF>.", source=_NETMAIL),
    421: Message("Service not available, closing transmission channel.", source=_NETMAIL),
    450: Message("Mailbox unavailable.", source=_NETMAIL + " SmtpMailboxBusy"),
    451: Message("Error in processing.", source=_NETMAIL),
    452: Message("Insufficient system storage.", source=_NETMAIL),
    454: Message("Client does not have permission to submit mail to this server.", source=_NETMAIL),
    500: Message("Syntax error, command unrecognized.", source=_NETMAIL),
    501: Message("Syntax error in parameters or arguments.", source=_NETMAIL),
    502: Message("Command not implemented.", source=_NETMAIL),
    503: Message("Bad sequence of commands.", source=_NETMAIL),
    504: Message("Command parameter not implemented.", source=_NETMAIL),
    530: Message("The SMTP server requires a secure connection or the client was not authenticated.",
                 source=_NETMAIL + " SmtpMustIssueStartTlsFirst"),
    550: Message("Mailbox unavailable.", source=_NETMAIL + " SmtpMailboxUnavailable"),
    551: Message("User not local; please try a different path.", source=_NETMAIL),
    552: Message("Exceeded storage allocation.", source=_NETMAIL),
    553: Message("Mailbox name not allowed.", source=_NETMAIL),
    554: Message("Transaction failed.", source=_NETMAIL),
}
SMTP_STATUS_DEFAULT = SMTP_STATUS_TEXTS[500]
SMTP_ALL_RECIPIENTS_FAILED = Message("Unable to send to all recipients.", source=_NETMAIL + " SmtpAllRecipientsFailed")
SMTP_RECIPIENT_FAILED = Message("Unable to send to a recipient.", source=_NETMAIL + " SmtpRecipientFailed")
SMTP_NO_STARTTLS = Message("Server does not support secure connections.",
                           source=_NETMAIL + " MailServerDoesNotSupportStartTls")
SMTP_UNABLE_TO_CONNECT = Message(
    "Unable to connect to the remote server",
    source=".NET WebException net_webstatus_ConnectFailure (the inner exception Send-MailMessage reports)",
    unconfirmed=True, note="commonly quoted Windows PowerShell 5.1 output; resource text not checked",
)
SMTP_NAME_NOT_RESOLVED = Message(
    "The remote name could not be resolved: '{name}'",
    source=".NET WebException net_webstatus_NameResolutionFailure", unconfirmed=True,
)
SMTP_CERTIFICATE_INVALID = Message(
    "The remote certificate is invalid according to the validation procedure.",
    source=".NET AuthenticationException net_auth_remote_certificate (inner exception of SmtpException)",
    unconfirmed=True, note="commonly quoted Windows PowerShell 5.1 output; resource text not checked",
)
SEND_MAIL_NO_SERVER = Message(
    "The email cannot be sent because no SMTP server was specified. You must specify an SMTP server by using "
    "either the SmtpServer parameter or the $PSEmailServer variable.",
    source="PowerShell SendMailMessageStrings.HostNameValue", unconfirmed=True,
)
SMTP_CLIENT_TARGET = "System.Net.Mail.SmtpClient"
SMTP_CLIENT_TARGET_TYPE = "SmtpClient"
SEND_MAIL_IMPLEMENTING_TYPE = "Microsoft.PowerShell.Commands.SendMailMessage"
SMTP_EXCEPTION_ID = "SmtpException"  # Send-MailMessage's catch (SmtpException) error id
SMTP_FAILED_RECIPIENTS_ID = "SmtpFailedRecipientsException"
SMTP_FAILED_RECIPIENTS_REASON = "SmtpFailedRecipientsException"

# --- nslookup.exe (Windows) ----------------------------------------------------------------------
_NSLOOKUP = "Windows nslookup.exe output"
NSLOOKUP_SERVER = Message("Server:  {name}", source=_NSLOOKUP)
NSLOOKUP_ADDRESS = Message("Address:  {address}", source=_NSLOOKUP)
NSLOOKUP_UNKNOWN_SERVER = Message("UnKnown", source=_NSLOOKUP + " (server address without a PTR record)")
NSLOOKUP_NON_AUTHORITATIVE = Message("Non-authoritative answer:", source=_NSLOOKUP)
NSLOOKUP_NAME = Message("Name:    {name}", source=_NSLOOKUP)
NSLOOKUP_ADDRESSES = Message("Addresses:  {address}", source=_NSLOOKUP)
NSLOOKUP_MORE_ADDRESS = Message("\t  {address}", source=_NSLOOKUP)
NSLOOKUP_ALIASES = Message("Aliases:  {name}", source=_NSLOOKUP)
NSLOOKUP_MORE_ALIAS = Message("\t  {name}", source=_NSLOOKUP)
NSLOOKUP_MX = Message("{name}\tMX preference = {preference}, mail exchanger = {exchange}", source=_NSLOOKUP)
NSLOOKUP_CNAME = Message("{name}\tcanonical name = {target}", source=_NSLOOKUP)
NSLOOKUP_PTR = Message("{name}\tname = {target}", source=_NSLOOKUP)
NSLOOKUP_NS = Message("{name}\tnameserver = {target}", source=_NSLOOKUP)
NSLOOKUP_A = Message("{name}\tinternet address = {address}", source=_NSLOOKUP + " (A records in -type=mx/cname output)")
NSLOOKUP_TXT = Message("{name}\ttext =\n\n\t\"{text}\"", source=_NSLOOKUP)
NSLOOKUP_SOA = Message(
    "{name}\n\tprimary name server = {mname}\n\tresponsible mail addr = {rname}\n\tserial  = {serial}\n"
    "\trefresh = {refresh}\n\tretry   = {retry}\n\texpire  = {expire}\n\tdefault TTL = {minimum}",
    source=_NSLOOKUP + " (SOA answer, and the SOA of a NODATA answer)", unconfirmed=True,
    note="tab indentation and the '(15 mins)' style durations as remembered from Windows Server 2012-2019",
)
NSLOOKUP_NXDOMAIN = Message("*** {server} can't find {name}: Non-existent domain", source=_NSLOOKUP)
NSLOOKUP_REFUSED = Message("*** {server} can't find {name}: Query refused", source=_NSLOOKUP)
NSLOOKUP_NO_RECORDS = Message("*** No {type} records available for {name}", source=_NSLOOKUP, unconfirmed=True)
NSLOOKUP_TIMEOUT = Message("DNS request timed out.\n    timeout was 2 seconds.", source=_NSLOOKUP)
NSLOOKUP_REQUEST_TIMED_OUT = Message("*** Request to {server} timed-out", source=_NSLOOKUP)
NSLOOKUP_DEFAULT_SERVER_UNAVAILABLE = Message(
    "*** Default servers are not available", source=_NSLOOKUP, unconfirmed=True,
)
NSLOOKUP_UNKNOWN_TYPE = Message("unknown query type: {type}", source=_NSLOOKUP, unconfirmed=True)
NSLOOKUP_USAGE = Message(
    "Usage:\n   nslookup [-opt ...]             # interactive mode using default server\n"
    "   nslookup [-opt ...] - server    # interactive mode using 'server'\n"
    "   nslookup [-opt ...] host        # just look up 'host' using default server\n"
    "   nslookup [-opt ...] host server # just look up 'host' using 'server'",
    source=_NSLOOKUP + " (no arguments in a non-interactive console)",
)
NSLOOKUP_DURATIONS = (("day", 86400), ("hour", 3600), ("min", 60), ("sec", 1))  # "(1 day)", "(15 mins)"

# --- telnet.exe (Windows) ------------------------------------------------------------------------
_TELNET = "Windows telnet.exe (Telnet Client feature)"
TELNET_CONNECT_FAILED = Message(
    "Connecting To {host}...Could not open connection to the host, on port {port}: Connect failed", source=_TELNET,
)
TELNET_CONNECTION_LOST = Message("\nConnection to host lost.", source=_TELNET)
TELNET_USAGE = Message("telnet [-a][-e escape char][-f log file][-l user][-t term][host [port]]",
                       source=_TELNET + " (usage line)", unconfirmed=True)

# --- the lab's own cmdlets (clock, hosts) --------------------------------------------------------
CLOCK_BACKWARDS = Message("Lab time only moves forward; '{value}' is not a positive duration.", source="lab text")
CLOCK_TOO_FAR = Message("The lab clock cannot be advanced by '{value}': it would pass the year 9999 "
                        "(it stands at {now}).", source="lab text")
CSR_NOT_PEM = Message("the file holds no PEM certificate request (-----BEGIN NEW CERTIFICATE REQUEST-----)",
                      source="lab text")
CA_NAME_NOT_IN_DNS = Message("{name} does not resolve in the lab's public DNS (no A or CNAME record)",
                             source="lab text (domain-owner validation)")
CA_PARENT_NOT_IN_DNS = Message("the wildcard's domain {name} does not exist in the lab's public DNS",
                               source="lab text (domain-owner validation)")
CA_DNS_UNREACHABLE = Message("the CA could not reach a DNS server to validate {name}", source="lab text")
REQUEST_OR_FILE = Message("Specify either -Request or -RequestFile.", source="lab text")

# --- -WhatIf / -Confirm targets (ShouldProcess: "What if: Performing the operation ...") ---------------------
_WHATIF = _EMS + " (-WhatIf)"
WHATIF_NEW_CERTIFICATE_REQUEST = Message('Generating a certificate request for {subject}.', source=_WHATIF, unconfirmed=True)
WHATIF_IMPORT_CERTIFICATE = Message('Importing certificate {thumbprint}.', source=_WHATIF, unconfirmed=True)
WHATIF_ENABLE_CERTIFICATE = Message('Enabling certificate {thumbprint} for {services}.', source=_WHATIF, unconfirmed=True)
WHATIF_REMOVE_CERTIFICATE = Message('Removing certificate {thumbprint}.', source=_WHATIF, unconfirmed=True)
WHATIF_SET_OBJECT = Message('Setting {kind} "{name}".', source=_WHATIF, unconfirmed=True)
WHATIF_NEW_OBJECT = Message('Creating {kind} "{name}".', source=_WHATIF, unconfirmed=True)
WHATIF_REMOVE_OBJECT = Message('Removing {kind} "{name}".', source=_WHATIF, unconfirmed=True)
WHATIF_RETRY_QUEUE = Message('Retrying queue "{identity}".', source=_WHATIF, unconfirmed=True)
WHATIF_ADD_AD_PERMISSION = Message('Adding Active Directory permission "{identity}".', source=_WHATIF, unconfirmed=True)
# the kinds the generic Setting/Creating/Removing texts name
KIND_RECEIVE_CONNECTOR = "Receive connector"
KIND_SEND_CONNECTOR = "send connector"
KIND_ACCEPTED_DOMAIN = "accepted domain"
RECEIVE_CONNECTOR_DN = Message(
    "CN={name},CN=SMTP Receive Connectors,CN=Protocols,CN={server},CN=Servers,"
    "CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,"
    "CN={org},CN=Microsoft Exchange,CN=Services,CN=Configuration",
    source=_EMS + " (a receive connector's distinguished name in the configuration container)")
