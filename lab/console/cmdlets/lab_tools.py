"""The lab's own cmdlets: the public CA's issuing desk, the lab clock, EOP's banned IPs, the console's host.

- ``Submit-LabCertificateRequest -RequestFile|-Request -CertificateAuthority -OutFile``: the CA
  validates domain ownership (every name of the CSR resolves in the lab's public DNS to an A
  or CNAME record; a ``*.domain`` wildcard needs ``domain`` to exist) and writes the chain.
- ``Get-LabClock`` / ``Set-LabClock -Advance 04:00:00`` (``2.00:00:00``, ``45m``, ``4h``, ``2d``,
  ``90`` = minutes): lab time drives retries, delay DSNs and expiries.
- ``Add-/Remove-/Get-LabBlockedIP``: EOP's banned sending IPs (``world.banned_ips``).
- ``Get-LabHost`` / ``Set-LabHost``: which lab host the console acts as (Send-MailMessage,
  telnet and nslookup run from it); naming an Exchange server opens that server's Exchange
  Management Shell (``Set-LabHost mail1`` then ``Get-ReceiveConnector`` lists MAIL1's connectors).
"""
from __future__ import annotations

import ipaddress
import re
from datetime import timedelta

from lab.console import records as R
from lab.console.cmdlets._common import changed, register_all
from lab.console.host import ConsoleHost, source_node
from lab.console.registry import ANY, SWITCH, Cmdlet, CmdletError, Invocation, Param, Registry, declared
from lab.core.catalogue import cmdlets as M

_SPAN = re.compile(r"^(?:(\d+)\.)?(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?$")
_UNIT = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$", re.IGNORECASE)
_FACTORS = {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds of a TimeSpan text (``04:00:00``, ``2.00:00:00``) or ``45m`` / ``4h`` / ``2d`` / ``90`` (minutes)."""
    value = str(text).strip()
    m = _SPAN.match(value)
    if m:
        days, hours, minutes, seconds = m.groups()
        if int(minutes) > 59 or (seconds and float(seconds) >= 60):
            raise ValueError(value)
        return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds or 0)
    m = _UNIT.match(value)
    if m:
        return float(m.group(1)) * _FACTORS[m.group(2).lower()]
    raise ValueError(value)


def _lab_error(message: str, error_id: str, category: str = "InvalidArgument", target: str = "") -> CmdletError:
    return CmdletError(message, category, target, error_id, "LabException")


# -- the public CA's issuing desk ---------------------------------------------------------
def _validate_names(host: ConsoleHost, names: tuple[str, ...]) -> None:
    for name in names:
        wildcard = name.startswith("*.")
        asked = name[2:] if wildcard else name
        try:
            reply = host.resolve(asked, "ANY" if wildcard else "A")
        except TimeoutError:
            raise _lab_error(M.CA_VALIDATION_FAILED.format(domain=name, reason=M.CA_DNS_UNREACHABLE.format(
                name=name)), "DomainValidationFailed", "ObjectNotFound", name) from None
        answer = reply.answer
        if wildcard:
            ok = answer.rcode == "NOERROR" and bool(answer.answer or answer.authority)
            reason = M.CA_PARENT_NOT_IN_DNS.format(name=asked)
        else:
            ok = answer.rcode == "NOERROR" and any(r.rtype in ("A", "CNAME") for r in answer.answer)
            reason = M.CA_NAME_NOT_IN_DNS.format(name=name)
        if not ok:
            raise _lab_error(M.CA_VALIDATION_FAILED.format(domain=name, reason=reason), "DomainValidationFailed",
                             "ObjectNotFound", name)


def submit(inv: Invocation) -> R.ExRecord:
    host = inv.console_host
    p = inv.params
    if (p.get("Request") is None) == (p.get("RequestFile") is None):
        raise _lab_error(M.REQUEST_OR_FILE.text, "RequestOrFile")
    if p.get("RequestFile") is not None:
        try:
            csr = host.read_file(p["RequestFile"]).decode("ascii", errors="replace")
        except FileNotFoundError:
            raise _lab_error(M.FILE_NOT_FOUND.format(path=p["RequestFile"]), "FileNotFound",
                             "ObjectNotFound", p["RequestFile"]) from None
    else:
        csr = str(p["Request"])
    if "-----BEGIN NEW CERTIFICATE REQUEST-----" not in csr and "-----BEGIN CERTIFICATE REQUEST-----" not in csr:
        raise _lab_error(M.CA_BAD_REQUEST.format(detail=M.CSR_NOT_PEM.text), "BadRequest")
    try:
        names = host.request_names(csr)
    except ValueError as error:
        raise _lab_error(M.CA_BAD_REQUEST.format(detail=error), "BadRequest") from None
    _validate_names(host, names)
    authority = p["CertificateAuthority"]
    try:
        chain = host.issue_certificate(authority, csr)
    except KeyError:
        raise _lab_error(M.CA_NOT_FOUND.format(name=authority), "CertificateAuthorityNotFound",
                         "ObjectNotFound", authority) from None
    if p.get("OutFile") is not None:
        host.write_file(p["OutFile"], chain)
    inv.report_change()
    props = [("Status", "Issued"), ("CertificateAuthority", authority), ("DnsNames", list(names)),
             ("OutFile", p.get("OutFile"))]
    if p.get("OutFile") is None:
        props.append(("Certificate", chain.decode("ascii")))
    return R.generic(props, ["Status", "CertificateAuthority", "DnsNames", "OutFile"], "Lab.CertificateIssued")


# -- the clock ----------------------------------------------------------------------------
def _clock_record(host: ConsoleHost) -> R.ExRecord:
    now = host.clock_now()
    return R.generic([("LabTime", now)], ["LabTime"], "Lab.Clock")


def get_clock(inv: Invocation) -> R.ExRecord:
    return _clock_record(inv.console_host)


def set_clock(inv: Invocation) -> R.ExRecord:
    host = inv.console_host
    text = inv.params["Advance"]
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise _lab_error(M.BAD_DURATION.format(value=text), "BadDuration") from None
    if seconds <= 0:
        raise _lab_error(M.CLOCK_BACKWARDS.format(value=text), "ClockBackwards")
    now = host.clock_now()
    try:
        now + timedelta(seconds=seconds)  # lab time is shown as a date: it must stay one
    except OverflowError:
        raise _lab_error(M.CLOCK_TOO_FAR.format(value=text, now=now), "ClockTooFar") from None
    host.advance_clock(seconds)
    return _clock_record(host)


# -- EOP's banned sending IPs -------------------------------------------------------------
def _eop_of(host: ConsoleHost, inv: Invocation) -> str:
    nodes = sorted(host.world.banned_ips) or [h.name for h in host.world.topology.hosts.values()
                                              if h.kind == "eop"]
    wanted = inv.params.get("Eop")
    if wanted is not None:
        if wanted not in nodes:
            raise _lab_error(M.NO_EOP_NODE.format(detail=f" called '{wanted}'"), "NoEop", "ObjectNotFound")
        return wanted
    if not nodes:
        raise _lab_error(M.NO_EOP_NODE.format(detail=""), "NoEop", "ObjectNotFound")
    return nodes[0]


def _ip_of(inv: Invocation) -> str:
    text = str(inv.params["IPAddress"]).strip()
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise _lab_error(M.NOT_AN_IP.format(value=text), "NotAnIP") from None


def _change_ban(adding: bool):
    def fn(inv: Invocation) -> None:
        host = inv.console_host
        eop, ip = _eop_of(host, inv), _ip_of(inv)
        current = host.world.banned_ips.get(eop, frozenset())
        if adding == (ip in current):
            text = (M.BANNED_IP_EXISTS if adding else M.BANNED_IP_MISSING).format(ip=ip, eop=eop)
            raise _lab_error(text, "BannedIP", "InvalidOperation", ip)
        new = current | {ip} if adding else current - {ip}
        changed(inv, host, host.world.evolve(banned_ips={**host.world.banned_ips, eop: frozenset(new)}))
    return fn


def get_bans(inv: Invocation) -> list[R.ExRecord]:
    host = inv.console_host
    return [R.generic([("Eop", eop), ("IPAddress", ip)], ["Eop", "IPAddress"], "Lab.BannedIP")
            for eop, ips in sorted(host.world.banned_ips.items()) for ip in sorted(ips)]


# -- which host the console acts as ---------------------------------------------------------
def _host_record(host: ConsoleHost, name: str) -> R.ExRecord:
    h = host.world.topology.hosts.get(name)
    addresses = list(host.world.network.addresses_of(name))
    props = [("Name", name), ("Kind", h.kind if h else ""), ("Fqdn", h.fqdn if h else None),
             ("Addresses", addresses), ("Current", name == source_node(host.session))]
    return R.generic(props, ["Name", "Kind", "Fqdn", "Addresses", "Current"], "Lab.Host")


def get_host(inv: Invocation) -> list[R.ExRecord]:
    host = inv.console_host
    if inv.params.get("List"):
        return [_host_record(host, n) for n in sorted(host.world.topology.hosts)]
    return [_host_record(host, source_node(host.session))]


def set_host(inv: Invocation) -> R.ExRecord:
    host = inv.console_host
    wanted = str(inv.params["Name"]).strip()
    names = sorted(host.world.topology.hosts)
    match = next((n for n in names if n.lower() == wanted.lower()), None)
    if match is None:
        match = next((n for n in names if (host.world.topology.hosts[n].fqdn or "").lower() == wanted.lower()),
                     None)
    if match is None:
        raise _lab_error(M.UNKNOWN_LAB_HOST.format(name=wanted, names=", ".join(names)), "UnknownHost",
                         "ObjectNotFound", wanted)
    if match in host.world.servers:  # an Exchange server: its Exchange Management Shell, acting from it
        host.session.server, host.session.source_host = match, None
    else:  # any other host: commands that connect (telnet, Send-MailMessage, nslookup) run from it
        host.session.source_host = None if match == host.session.server else match
    return _host_record(host, match)


def register(registry: Registry, host: ConsoleHost) -> None:
    """Register the lab tools."""
    register_all(registry, host, COMMANDS)


# The cmdlets' parameters, declared once (frozen: every console's registry shares them).
_SUBMIT = (Param("RequestFile"), Param("Request"), Param("CertificateAuthority", mandatory=True, aliases=("CA",)),
           Param("OutFile"))
_SET_CLOCK = (Param("Advance", position=0, mandatory=True),)
_BAN = (Param("IPAddress", position=0, mandatory=True), Param("Eop"))
_GET_HOST = (Param("List", SWITCH),)
_SET_HOST = (Param("Name", ANY, position=0, mandatory=True),)


def _lab_cmdlet(name: str, fn, params, **options) -> Cmdlet:
    # (the name, the options and the params tuple are all the declaration: declared copies its first build)
    return declared(fn, ("lab", name, *options.items()), params, _lab_declaration, name, params, options)


def _lab_declaration(name: str, params, options) -> Cmdlet:
    return Cmdlet(name, None, tuple(params), module="Lab", synopsis=f"lab: {name}", **options)  # type: ignore[arg-type]


#: the module's commands, declared once: every console's registry shares them
COMMANDS = (
    _lab_cmdlet("Submit-LabCertificateRequest", submit, _SUBMIT),
    _lab_cmdlet("Get-LabClock", get_clock, ()),
    _lab_cmdlet("Set-LabClock", set_clock, _SET_CLOCK, should_process=False),
    _lab_cmdlet("Add-LabBlockedIP", _change_ban(True), _BAN),
    _lab_cmdlet("Remove-LabBlockedIP", _change_ban(False), _BAN),
    _lab_cmdlet("Get-LabBlockedIP", get_bans, ()),
    _lab_cmdlet("Get-LabHost", get_host, _GET_HOST),
    _lab_cmdlet("Set-LabHost", set_host, _SET_HOST, should_process=False),
)
