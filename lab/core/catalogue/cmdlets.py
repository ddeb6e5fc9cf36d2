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
