"""Send-MailMessage (Windows PowerShell 5.1 over System.Net.Mail.SmtpClient).

The send runs from the console's lab host (``Set-LabHost``) through
:meth:`ConsoleHost.send_message`; this module only turns what the SMTP client saw into the
error Windows PowerShell prints. How System.Net.Mail words it:

- a reply that failed the session (MAIL FROM, DATA, AUTH's aftermath): ``SmtpException`` whose
  text is the status code's text plus ``The server response was: <reply without its code>``;
- one refused recipient: ``SmtpFailedRecipientException`` with the same text (the message still
  went to the accepted recipients); several: ``SmtpFailedRecipientsException`` "Unable to send
  to all recipients." / "Unable to send to a recipient.";
- no connection, no name resolution, a certificate that fails validation: the inner
  exception's text (Send-MailMessage re-wraps ``ex.InnerException.Message``);
- -UseSsl against a server without STARTTLS: "Server does not support secure connections.".
"""
from __future__ import annotations

from lab.console.cmdlets._common import register_all
from lab.console.host import (FAILURE_CONNECT, FAILURE_NO_STARTTLS, FAILURE_RESOLVE, FAILURE_TLS, ConsoleHost,
                              SendRequest, SendResult)
from lab.console.ps_builtins import PSCredential
from lab.console.registry import ANY, SWITCH, Cmdlet, CmdletError, Invocation, Param, Registry, declared
from lab.core.catalogue import cmdlets as M
from lab.core.catalogue import console as C
from lab.core.errors import LabRuntimeError

NOTIFY = ("None", "OnSuccess", "OnFailure", "Delay", "Never")


def smtp_exception_text(reply: str) -> str:
    """SmtpException's message for a server reply (``550 5.7.54 SMTP; ...`` -> ``Mailbox unavailable. ...``)."""
    first = reply.splitlines()[0] if reply else ""
    code = int(first[:3]) if first[:3].isdigit() else -1
    response = first[4:] if len(first) > 3 else ""
    status = M.SMTP_STATUS_TEXTS.get(code, M.SMTP_STATUS_DEFAULT)
    return f"{status.text} {M.MAIL_SERVER_RESPONSE.format(response=response)}"


def _error(text: str, reason: str = "SmtpException", error_id: str = M.SMTP_EXCEPTION_ID) -> CmdletError:
    return CmdletError(text, "InvalidOperation", M.SMTP_CLIENT_TARGET, error_id, reason,
                       target_type=M.SMTP_CLIENT_TARGET_TYPE)


def result_error(result: SendResult, request: SendRequest) -> CmdletError | None:
    """The error record Send-MailMessage writes for ``result`` (None when the send succeeded cleanly)."""
    if result.failure == FAILURE_CONNECT:
        return _error(M.SMTP_UNABLE_TO_CONNECT.text)
    if result.failure == FAILURE_RESOLVE:
        return _error(M.SMTP_NAME_NOT_RESOLVED.format(name=request.smtp_server))
    if result.failure == FAILURE_NO_STARTTLS:
        return _error(M.SMTP_NO_STARTTLS.text)
    if result.failure == FAILURE_TLS:
        return _error(M.SMTP_CERTIFICATE_INVALID.text)
    refused = result.refused or ((((result.failed_recipient, result.reply),) if result.failed_recipient else ()))
    if len(refused) == 1:
        return _error(smtp_exception_text(refused[0][1]), "SmtpFailedRecipientException")
    if refused:
        everyone = len(refused) >= len(request.to) + len(request.cc) + len(request.bcc)
        text = (M.SMTP_ALL_RECIPIENTS_FAILED if everyone else M.SMTP_RECIPIENT_FAILED).text
        return _error(text, M.SMTP_FAILED_RECIPIENTS_REASON, M.SMTP_FAILED_RECIPIENTS_ID)
    if not result.ok:
        return _error(smtp_exception_text(result.reply))
    return None


def send(inv: Invocation) -> None:
    host = inv.console_host
    p = inv.params
    server = p.get("SmtpServer") or (inv.shell.variables.get("psemailserver") if inv.shell else None)
    if not server:
        raise CmdletError(M.SEND_MAIL_NO_SERVER.text, "InvalidArgument", "", "InvalidOperationException",
                          "InvalidOperationException")
    user = password = None
    credential = p.get("Credential")
    if credential is not None:
        if not isinstance(credential, PSCredential):
            raise CmdletError(C.NON_INTERACTIVE.text, "InvalidOperation", "", "GetCredentialNonInteractive",
                              "InvalidOperationException")
        user, password = credential.user_name, credential.password.reveal()
    request = SendRequest(
        smtp_server=str(server), port=int(p.get("Port") or 25), from_address=p["From"], to=tuple(p["To"]),
        cc=tuple(p.get("Cc") or ()), bcc=tuple(p.get("Bcc") or ()), subject=p.get("Subject") or "",
        body=p.get("Body") or "", use_ssl=bool(p.get("UseSsl")), username=user, password=password,
        delivery_notification=tuple(p.get("DeliveryNotificationOption") or ()),
        client_certificate=p.get("ClientCertificate"), source_host=host.session.source_host)
    try:
        result = host.send_message(request)
    except LabRuntimeError as error:
        raise CmdletError(str(error), "InvalidOperation", "", "InvalidOperationException",
                          "InvalidOperationException") from None
    problem = result_error(result, request)
    if problem is not None:
        raise problem


def register(registry: Registry, host: ConsoleHost) -> None:
    """Register Send-MailMessage."""
    register_all(registry, host, COMMANDS)


def _declaration() -> Cmdlet:
    return Cmdlet("Send-MailMessage", None, _PARAMS, should_process=False,  # type: ignore[arg-type]
                  implementing_type=M.SEND_MAIL_IMPLEMENTING_TYPE, module="Microsoft.PowerShell.Utility",
                  synopsis="Sends an email message.")


# Send-MailMessage's parameters, declared once (frozen, shared by every console's registry).
_PARAMS = (
    Param("To", list[str], position=0, mandatory=True), Param("Subject", position=1, mandatory=True, aliases=("sub",)),
    Param("Body", position=2), Param("SmtpServer", position=3, aliases=("ComputerName",)),
    Param("From", mandatory=True), Param("Cc", list[str]), Param("Bcc", list[str]), Param("Port", int),
    Param("UseSsl", SWITCH), Param("Credential", ANY), Param("BodyAsHtml", SWITCH, aliases=("BAH",)),
    Param("DeliveryNotificationOption", list[str], aliases=("DNO",), enum=NOTIFY,
          type_name="System.Net.Mail.DeliveryNotificationOptions"),
    Param("Priority", enum=("Normal", "Low", "High"), type_name="System.Net.Mail.MailPriority"),
    Param("Encoding", ANY, aliases=("BE",)), Param("Attachments", list[str], aliases=("PsPath",)),
    Param("ClientCertificate", help="lab: the name of a PKI certificate the client presents (TLS)"),
)


#: the module's commands, declared once: every console's registry shares them
COMMANDS = (
    declared(send, ("Send-MailMessage",), _PARAMS, _declaration),
)
