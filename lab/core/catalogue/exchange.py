"""On-premises Exchange strings: SMTP replies (fidelity §1.1), EHLO keywords (§1.2), the Received
header (§7.1). Queue LastErrors, send-side failures and NDR lines (§2.1) are in
:mod:`lab.core.catalogue.exchange_queue`, and only there.

Naming: ``S<code>_<enhanced>_<SLUG>`` for replies, ``EHLO_*`` for EHLO keywords, ``HDR_*`` for header pieces.
``source`` is the fidelity.md source tag; ``unconfirmed=True`` marks the lab's best guess and
``note`` says why. Do not "improve" the texts: spacing and case are as observed.
"""
from __future__ import annotations

from lab.core.catalogue import Message, Reply

_NOT_IN_FIDELITY = "not in research/fidelity.md; recalled from Exchange transcripts, wording unverified"

# --- greeting, hello -----------------------------------------------------------------------
S220_BANNER = Reply(220, None, "{fqdn} Microsoft ESMTP MAIL Service ready at {date}", "M-TELNET; D")
S250_HELLO = Reply(250, None, "{fqdn} Hello [{ip}]", "M-TELNET; D (Helo)")
S501_5_5_4_INVALID_DOMAIN_NAME = Reply(501, "5.5.4", "Invalid domain name", "M-TELNET; D")
S503_5_5_2_SEND_HELLO_FIRST = Reply(503, "5.5.2", "Send hello first", "D; M-NDR-SRV; C-")
S500_5_3_3_UNRECOGNIZED_COMMAND = Reply(500, "5.3.3", "Unrecognized command", "M-TELNET; D")

# --- MAIL FROM -----------------------------------------------------------------------------
S250_2_1_0_SENDER_OK = Reply(250, "2.1.0", "Sender OK", "M-TELNET; D")
S501_5_1_7_INVALID_ADDRESS = Reply(
    501, "5.1.7", "Invalid address", "D", unconfirmed=True,
    note="M-TELNET shows 550 5.1.7, D 501 5.1.7; the lab uses 501 for syntax errors (fidelity §1.1)")
S550_5_1_7_INVALID_ADDRESS = Reply(550, "5.1.7", "Invalid address", "M-TELNET")
S530_5_7_1_CLIENT_NOT_AUTHENTICATED = Reply(
    530, "5.7.1", "Client was not authenticated", "M-TELNET; M-NDR-SRV; D (UnableToAcceptAnonymousSession)")
S550_5_7_1_SUBMIT_DENIED = Reply(
    550, "5.7.1", "Client does not have permissions to submit to this server", "D (SubmitDenied)")
S451_5_7_3_STARTTLS_REQUIRED = Reply(
    451, "5.7.3", "STARTTLS is required to send mail", "D (MailSmtpCommand RequireTlsToSendMail)")
S530_5_7_0_MUST_ISSUE_STARTTLS = Reply(
    530, "5.7.0", "Must issue a STARTTLS command first", "D (NeedStartTls)", unconfirmed=True,
    note="the constant exists; which command path emits it is UNCONFIRMED (fidelity §9.2)")
S451_5_7_3_MUST_ISSUE_STARTTLS = Reply(
    451, "5.7.3", "Must issue a STARTTLS command first", "S-TLS10", unconfirmed=True,
    note="seen only as a protocol-log line; wire path UNCONFIRMED")
S250_2_1_0_SENDER_OK_EX2003 = Reply(
    250, "2.1.0", "{sender}....Sender OK", "C- forum capture (Exchange 2003)",
    note="Exchange 2003 IIS SMTP only")
S503_5_5_2_SENDER_ALREADY_SPECIFIED = Reply(
    503, "5.5.2", "Sender already specified", "", unconfirmed=True, note=_NOT_IN_FIDELITY)
S501_5_5_4_INVALID_ARGUMENTS = Reply(
    501, "5.5.4", "Invalid arguments", "", unconfirmed=True, note=_NOT_IN_FIDELITY)
S501_5_5_4_UNRECOGNIZED_PARAMETER = Reply(
    501, "5.5.4", "Unrecognized parameter", "", unconfirmed=True, note=_NOT_IN_FIDELITY)

# --- RCPT TO -------------------------------------------------------------------------------
S250_2_1_5_RECIPIENT_OK = Reply(250, "2.1.5", "Recipient OK", "M-TELNET; D")
S550_5_1_1_USER_UNKNOWN = Reply(
    550, "5.1.1", "User unknown", "M-TELNET; D (RcptNotFound)", unconfirmed=True,
    note="emitted only when recipient validation is on; default on Mailbox servers UNCONFIRMED")
S550_5_7_1_UNABLE_TO_RELAY = Reply(550, "5.7.1", "Unable to relay", "M-RELAY; M-NDR-SRV; D (RcptRelayNotPermitted)")
S550_5_7_54_UNABLE_TO_RELAY_NON_ACCEPTED = Reply(
    550, "5.7.54", "SMTP; Unable to relay recipient in non-accepted domain",
    "C- Q&A 305565 (2016), Q&A 165982 (2019)", unconfirmed=True,
    note="observed on 2016/2019; the CU that introduced 5.7.54 is UNCONFIRMED")
S550_5_7_1_UNABLE_TO_RELAY_FOR_EX2003 = Reply(
    550, "5.7.1", "Unable to relay for {recipient}", "C- forum capture (Exchange 2003)")
S503_5_5_2_NEED_MAIL_COMMAND = Reply(
    503, "5.5.2", "Need mail command", "", unconfirmed=True, note=_NOT_IN_FIDELITY)
S452_4_5_3_TOO_MANY_RECIPIENTS = Reply(452, "4.5.3", "Too many recipients", "D")
S550_5_1_4_RESERVED_RFC2606 = Reply(
    550, "5.1.4", "Recipient address reserved by RFC 2606", "M-NDR-SRV", unconfirmed=True,
    note="M-NDR-SRV gives 5.1.4/5.1.5 and the text; the basic code 550 is assumed")
S550_5_1_6_SINGLE_LABEL_DOMAIN = Reply(
    550, "5.1.6", "Recipient addresses in single label domains not accepted", "M-NDR-SRV", unconfirmed=True,
    note="the basic code 550 is assumed")

# --- DATA / BDAT ---------------------------------------------------------------------------
S354_START_MAIL_INPUT = Reply(354, None, "Start mail input; end with <CRLF>.<CRLF>", "M-TELNET; D")
S250_2_6_0_QUEUED = Reply(
    250, "2.6.0", "{message_id} [InternalId={internal_id}, Hostname={hostname}] Queued mail for delivery",
    "M-TELNET; D")
S250_2_6_0_QUEUED_LEGACY = Reply(250, "2.6.0", "{message_id} Queued mail for delivery", "M-RELAY",
                                 note="older builds")
S250_2_6_0_CHUNK_RECEIVED = Reply(250, "2.6.0", "CHUNK received OK, {octets} octets", "D")
S503_5_5_2_NEED_RCPT_COMMAND = Reply(
    503, "5.5.2", "Need rcpt command", "", unconfirmed=True, note=_NOT_IN_FIDELITY)
S550_5_7_1_SEND_AS_DENIED = Reply(
    550, "5.7.1", "Client does not have permissions to send as this sender", "D; C- pastebin.com/NYQrmvhJ",
    note="the capture shows it after DATA")
S552_5_3_4_MESSAGE_TOO_BIG = Reply(552, "5.3.4", "Message size exceeds fixed maximum message size", "D; M-NDR-SRV")

# --- session -------------------------------------------------------------------------------
S221_2_0_0_CLOSING = Reply(221, "2.0.0", "Service closing transmission channel", "M-TELNET; D")
S250_2_0_0_RESETTING = Reply(250, "2.0.0", "Resetting", "D")
S250_2_0_0_OK = Reply(250, "2.0.0", "OK", "D")
S220_2_0_0_SMTP_SERVER_READY = Reply(220, "2.0.0", "SMTP server ready", "D (StartTlsReadyToNegotiate); C-")
S503_5_5_2_ONLY_ONE_STARTTLS = Reply(503, "5.5.2", "Only one STARTTLS command can be issued per session", "D")
S214_HELP = Reply(
    214, None, "This server supports the following commands:\n"
    "HELO EHLO STARTTLS RCPT DATA RSET MAIL QUIT HELP AUTH BDAT", "", unconfirmed=True,
    note=_NOT_IN_FIDELITY + "; multi-line, one 214 line per text line")
S451_4_7_0_TIMEOUT = Reply(451, "4.7.0", "Timeout waiting for client input", "D; C- Q&A 305565")
S421_4_7_0_TOO_MANY_ERRORS = Reply(
    421, "4.7.0", "Too many errors on this connection, closing transmission channel", "D")
S421_4_3_2_SERVICE_NOT_ACTIVE = Reply(421, "4.3.2", "Service not active", "D; M-NDR-SRV")
S421_4_3_2_MAX_CONNECTIONS = Reply(
    421, "4.3.2",
    "The maximum number of concurrent server connections has exceeded a limit, closing transmission channel", "D")
S421_4_4_2_RATE_LIMIT = Reply(
    421, "4.4.2", "Message submission rate for this client has exceeded the configured limit", "D")

# --- AUTH ----------------------------------------------------------------------------------
S334_USERNAME = Reply(334, None, "VXNlcm5hbWU6", "D; C- pastebin.com/NYQrmvhJ")
S334_PASSWORD = Reply(334, None, "UGFzc3dvcmQ6", "D; C- pastebin.com/NYQrmvhJ")
S334_EMPTY = Reply(334, None, "", "RFC 4954", unconfirmed=True,
                   note="empty challenge for AUTH PLAIN without initial response; Exchange does not offer PLAIN")
S235_2_7_0_AUTH_SUCCESSFUL = Reply(235, "2.7.0", "Authentication successful", "D; C-")
S535_5_7_3_AUTH_UNSUCCESSFUL = Reply(535, "5.7.3", "Authentication unsuccessful", "D; C-")
S504_5_7_4_UNRECOGNIZED_AUTH_TYPE = Reply(504, "5.7.4", "Unrecognized authentication type", "D")
S503_5_5_2_ALREADY_AUTHENTICATED = Reply(
    503, "5.5.2", "Already authenticated", "", unconfirmed=True, note=_NOT_IN_FIDELITY)
S501_5_7_0_AUTH_CANCELLED = Reply(
    501, "5.7.0", "Authentication cancelled", "", unconfirmed=True, note=_NOT_IN_FIDELITY)

# --- EHLO keywords (fidelity §1.2) ---------------------------------------------------------
EHLO_SIZE = Message("SIZE {size}", "M-TELNET; P-NRC")
EHLO_SIZE_WITHOUT_VALUE = Message("SIZE", "P-NRC (SizeEnabled EnabledWithoutValue)")
EHLO_PIPELINING = Message("PIPELINING", "M-TELNET")
EHLO_DSN = Message("DSN", "M-TELNET")
EHLO_ENHANCEDSTATUSCODES = Message("ENHANCEDSTATUSCODES", "M-TELNET")
EHLO_STARTTLS = Message("STARTTLS", "M-TELNET")
EHLO_X_ANONYMOUSTLS = Message("X-ANONYMOUSTLS", "M-TELNET")
EHLO_AUTH = Message("AUTH {mechanisms}", "M-TELNET; C-")
EHLO_X_EXPS = Message("X-EXPS GSSAPI NTLM", "M-TELNET")
EHLO_8BITMIME = Message("8BITMIME", "M-TELNET")
EHLO_BINARYMIME = Message("BINARYMIME", "M-TELNET")
EHLO_CHUNKING = Message("CHUNKING", "M-TELNET")
EHLO_SMTPUTF8 = Message("SMTPUTF8", "C- SANS capture; B-HYBCERT (Exchange 2019)")
EHLO_XRDST = Message("XRDST", "M-TELNET")
EHLO_XEXCH50 = Message("XEXCH50", "C- lu.se / fujitsu captures (2010); KB capture (2013 hub)")
EHLO_XSHADOW = Message("XSHADOW", "C- lu.se / fujitsu captures (2010)")
EHLO_XSHADOWREQUEST = Message("XSHADOWREQUEST", "KB capture (2013 hub)")
EHLO_XORAR = Message("XORAR", "P-NRC (OrarEnabled)")
EHLO_XLONGADDR = Message("XLONGADDR", "P-NRC (LongAddressesEnabled)")
AUTH_MECH_GSSAPI = Message("GSSAPI", "C- uu.se notes; P-NRC (EnableAuthGSSAPI)")
AUTH_MECH_NTLM = Message("NTLM", "M-TELNET")
AUTH_MECH_LOGIN = Message("LOGIN", "C- (post-TLS AUTH NTLM LOGIN)")

# --- headers (fidelity §7) -----------------------------------------------------------------
HDR_RECEIVED = Message(
    "from {helo} ({client_ip}) by {fqdn} ({server_ip}) with Microsoft SMTP Server{tls} id {build}{via}; {date}",
    "C- LKML (secunet, amd.com)")
HDR_RECEIVED_TLS = Message(" (version={version}, cipher={cipher})", "C- LKML")
HDR_RECEIVED_TLS_2013 = Message(" (TLS)", "C- (Exchange 2013 builds write (TLS))")
HDR_VIA_FRONTEND = Message(" via Frontend Transport", "C- LKML")
HDR_AUTH_AS_ANONYMOUS = Message("Anonymous", "C- secunet")
HDR_AUTH_AS_INTERNAL = Message("Internal", "C-; B-ADVROUTE")
