"""Get/New/Import/Enable/Remove-ExchangeCertificate on the shell's server.

A pending request (New-ExchangeCertificate -GenerateRequest) is a store entry with status
``PendingRequest``; its key stays with the host. Import-ExchangeCertificate joins the CA's
answer to that key and replaces the pending entry with the certificate (services none);
Enable-ExchangeCertificate assigns services.
"""
from __future__ import annotations

import base64
import re

from lab.console import records as R
from lab.console.cmdlets._common import Errors, changed, exchange, identity_text, register_all
from lab.console.host import ConsoleHost
from lab.console.registry import ANY, SWITCH, Invocation, Param, Registry
from lab.core.catalogue import cmdlets as M
from lab.core.catalogue import lab as LAB
from lab.core.fastpath import evolve
from lab.core.tls import parse_x500
from lab.core.world import InstalledCertificate, ServerState

SERVICES = ("None", "IIS", "SMTP", "IMAP", "POP", "UM", "Federation", "UMCallRouter")


def _thumb(cert: InstalledCertificate) -> str:
    return cert.thumbprint or (cert.name.split(":")[-1] if cert.status == "PendingRequest" else "")


def _state(host: ConsoleHost) -> ServerState:
    return host.world.server(host.session.server)


def _record(s: ServerState, c: InstalledCertificate) -> R.ExRecord:
    """The Get-ExchangeCertificate record of ``c``, installed on the server of ``s``."""
    return R.exchange_certificate(c, s.server.name, s.server.version, _thumb(c))


def _find(host: ConsoleHost, thumbprint: str, task: str) -> InstalledCertificate:
    wanted = thumbprint.strip().upper()
    found = [c for c in _state(host).certificates if _thumb(c) == wanted]
    if not found:
        raise Errors(host).make(M.CERTIFICATE_NOT_FOUND.format(thumbprint=thumbprint), M.NOT_FOUND_REASON, task,
                                "ObjectNotFound")
    return found[0]


def _thumb_param(inv: Invocation) -> str | None:
    value = inv.params.get("Thumbprint")
    return None if value is None else identity_text(value).split("\\")[-1]


def get_cert(inv: Invocation) -> list[R.ExRecord]:
    host = inv.console_host
    thumb = _thumb_param(inv)
    if thumb is not None:
        return [_record(_state(host), _find(host, thumb, "GetExchangeCertificate"))]
    s = _state(host)
    return [_record(s, c) for c in s.certificates]


def new_cert(inv: Invocation) -> object:
    host = inv.console_host
    task = "NewExchangeCertificate"
    subject_text = inv.params.get("SubjectName")
    domains = [str(d).strip().lower() for d in inv.params.get("DomainName") or []]
    try:
        subject = parse_x500(subject_text) if subject_text else (("CN", domains[0]),) if domains else ()
    except ValueError as e:
        raise Errors(host).make(M.BAD_SUBJECT_NAME.format(value=subject_text, detail=e), M.ARGUMENT_REASON, task,
                                "InvalidArgument") from None
    if not subject:
        raise Errors(host).make(M.BAD_SUBJECT_NAME.format(value="", detail=""), M.ARGUMENT_REASON, task,
                                "InvalidArgument")
    if not inv.params.get("GenerateRequest"):
        raise Errors(host).make(LAB.CERTIFICATES_BY_REQUEST_ONLY.text,
                                M.ARGUMENT_REASON, task, "InvalidArgument")
    if not inv.should_process(M.WHATIF_NEW_CERTIFICATE_REQUEST, subject=subject_text or domains[0]):
        return None
    pending = host.generate_request(host.session.server, subject, domains)
    friendly = inv.params.get("FriendlyName") or next((v for k, v in subject if k == "CN"), "")
    entry = InstalledCertificate(name=pending.key_ref, facts=None, services=(), status="PendingRequest",
                                 friendly_name=friendly, request=pending.csr_pem)
    s = _state(host)
    if inv.params.get("RequestFile"):
        host.write_file(inv.params["RequestFile"], pending.csr_pem.encode("ascii"))
    changed(inv, host, host.world.with_server(evolve(s, certificates=s.certificates + (entry,))))
    body = "".join(pending.csr_pem.strip().splitlines()[1:-1])
    return None if inv.params.get("RequestFile") else body


def import_cert(inv: Invocation) -> R.ExRecord:
    host = inv.console_host
    task = "ImportExchangeCertificate"
    data = inv.params.get("FileData")
    if data is None and inv.params.get("FileName"):
        try:
            data = host.read_file(inv.params["FileName"])
        except FileNotFoundError:
            raise Errors(host).make(M.FILE_NOT_FOUND.format(path=inv.params["FileName"]), "FileNotFoundException",
                                    task, "ReadError") from None
    pem = _as_pem(data)
    s = _state(host)
    try:
        name, facts = host.complete_request(host.session.server, pem)
    except ValueError:
        raise Errors(host).make(M.NO_PENDING_REQUEST.format(server=s.server.name), M.INVALID_OPERATION_REASON, task,
                                "InvalidOperation") from None
    if any(c.thumbprint == facts.thumbprint for c in s.certificates):
        raise Errors(host).make(M.CERTIFICATE_EXISTS.format(thumbprint=facts.thumbprint), M.INVALID_OPERATION_REASON,
                                task, "InvalidOperation")
    pending = next((c for c in s.certificates if c.status == "PendingRequest" and c.name == name), None)
    new = InstalledCertificate(name=name, facts=facts, services=(), status="Valid",
                               friendly_name=inv.params.get("FriendlyName") or (pending.friendly_name
                                                                                if pending else ""))
    certs = tuple(c for c in s.certificates if c is not pending) + (new,)
    if inv.should_process(M.WHATIF_IMPORT_CERTIFICATE, thumbprint=facts.thumbprint):
        changed(inv, host, host.world.with_server(evolve(s, certificates=certs)))
    return _record(s, new)  # (the server's name and version, as the world changed above holds them)


def enable_cert(inv: Invocation) -> None:
    host = inv.console_host
    task = "EnableExchangeCertificate"
    cert = _find(host, _thumb_param(inv) or "", task)
    if cert.status != "Valid":
        raise Errors(host).make(M.CERTIFICATE_PENDING.format(thumbprint=_thumb(cert)), M.INVALID_OPERATION_REASON,
                                task, "InvalidOperation")
    services = tuple(dict.fromkeys(list(cert.services) + [s for s in inv.params.get("Services") or []
                                                          if s != "None"]))
    s = _state(host)
    new = evolve(cert, services=services)
    if inv.should_process(M.WHATIF_ENABLE_CERTIFICATE, thumbprint=_thumb(cert), services=", ".join(services)):
        changed(inv, host, host.world.with_server(evolve(s, certificates=tuple(
            new if c is cert else c for c in s.certificates))))


def remove_cert(inv: Invocation) -> None:
    host = inv.console_host
    task = "RemoveExchangeCertificate"
    cert = _find(host, _thumb_param(inv) or "", task)
    s = _state(host)
    if inv.should_process(M.WHATIF_REMOVE_CERTIFICATE, thumbprint=_thumb(cert)):
        changed(inv, host, host.world.with_server(evolve(s, certificates=tuple(
            c for c in s.certificates if c is not cert))))


def register(registry: Registry, host: ConsoleHost) -> None:
    """Register the certificate cmdlets."""
    register_all(registry, host, COMMANDS)


# The cmdlets' parameters, declared once (frozen: every console's registry shares them).
_THUMB = Param("Thumbprint", ANY, position=0, pipeline=True, aliases=("Identity",))
_MUST = Param("Thumbprint", ANY, position=0, pipeline=True, mandatory=True, aliases=("Identity",))
_SERVER = Param("Server")
_GET = (_THUMB, _SERVER)
_NEW = (Param("GenerateRequest", SWITCH), Param("SubjectName"), Param("DomainName", list[str]), Param("RequestFile"),
        Param("FriendlyName"), Param("PrivateKeyExportable", bool), Param("KeySize", int), _SERVER)
_IMPORT = (Param("FileData", ANY), Param("FileName"), Param("FriendlyName"), _SERVER,
           Param("PrivateKeyExportable", bool))
_ENABLE = (_MUST, Param("Services", list[str], enum=SERVICES, mandatory=True), Param("Force", SWITCH), _SERVER)
_REMOVE = (_MUST, _SERVER)


def _as_pem(data: object) -> bytes:
    """FileData as bytes: PEM text, a byte array, or base64 DER."""
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, list):
        return bytes(int(b) for b in data)
    text = str(data or "")
    if "-----BEGIN" in text:
        return text.encode("ascii")
    body = re.sub(r"\s+", "", text)
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    try:
        base64.b64decode(body, validate=True)
    except ValueError:
        return text.encode("utf-8", "replace")
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n").encode("ascii")


#: the module's commands, declared once: every console's registry shares them
COMMANDS = (
    exchange("Get-ExchangeCertificate", get_cert, _GET),
    exchange("New-ExchangeCertificate", new_cert, _NEW),
    exchange("Import-ExchangeCertificate", import_cert, _IMPORT),
    exchange("Enable-ExchangeCertificate", enable_cert, _ENABLE),
    exchange("Remove-ExchangeCertificate", remove_cert, _REMOVE),
)
