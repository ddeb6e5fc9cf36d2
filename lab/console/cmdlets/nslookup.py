"""``nslookup [-type=mx|a|txt|ptr|cname|soa|ns|any] name [server]`` as Windows prints it.

The question goes from the console's lab host (``Set-LabHost``) to the lab DNS through
:meth:`ConsoleHost.resolve`. The ``Server:`` line names the server by a PTR lookup of its
address on the same server (``UnKnown`` without one, the usual sight in the articles).
"""
from __future__ import annotations

import ipaddress
from typing import Any

from lab.console.cmdlets._common import register_all
from lab.console.host import ConsoleHost
from lab.console.registry import Cmdlet, Invocation, Registry, declared
from lab.core.catalogue import cmdlets as M
from lab.core.dns import Answer, ptr_name

TYPES = ("A", "MX", "TXT", "PTR", "CNAME", "SOA", "NS", "ANY")


def duration(seconds: int) -> str:
    """``900 (15 mins)``, ``3600 (1 hour)``, ``5400 (1 hour 30 mins)``."""
    parts, rest = [], int(seconds)
    for unit, size in M.NSLOOKUP_DURATIONS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return f"{seconds} ({' '.join(parts) or '0 secs'})"


def _soa_lines(rec: Any) -> list[str]:
    v = rec.value
    return M.NSLOOKUP_SOA.format(name=rec.name, mname=v.mname, rname=v.rname, serial=v.serial,
                                 refresh=duration(v.refresh), retry=duration(v.retry), expire=duration(v.expire),
                                 minimum=duration(v.minimum)).split("\n")


def _record_lines(rec: Any) -> list[str]:
    if rec.rtype == "MX":
        return [M.NSLOOKUP_MX.format(name=rec.name, preference=rec.value[0], exchange=rec.value[1])]
    if rec.rtype == "CNAME":
        return [M.NSLOOKUP_CNAME.format(name=rec.name, target=rec.value)]
    if rec.rtype == "PTR":
        return [M.NSLOOKUP_PTR.format(name=rec.name, target=rec.value)]
    if rec.rtype == "NS":
        return [M.NSLOOKUP_NS.format(name=rec.name, target=rec.value)]
    if rec.rtype == "TXT":
        return M.NSLOOKUP_TXT.format(name=rec.name, text=rec.value).split("\n")
    if rec.rtype == "SOA":
        return _soa_lines(rec)
    return [M.NSLOOKUP_A.format(name=rec.name, address=rec.value)]


def _address_lines(name: str, answer: Answer) -> list[str]:
    """The A form: ``Name:`` (the chain's last name), ``Address(es):``, then ``Aliases:``."""
    aliases = [r.name for r in answer.answer if r.rtype == "CNAME"]
    addresses = [str(r.value) for r in answer.answer if r.rtype == "A"]
    final = next((r.name for r in answer.answer if r.rtype == "A"), aliases and answer.answer[-1].value or name)
    lines = [M.NSLOOKUP_NAME.format(name=final)]
    if len(addresses) == 1:
        lines.append(M.NSLOOKUP_ADDRESS.format(address=addresses[0]))
    elif addresses:
        lines.append(M.NSLOOKUP_ADDRESSES.format(address=addresses[0]))
        lines += [M.NSLOOKUP_MORE_ADDRESS.format(address=a) for a in addresses[1:]]
    if aliases:
        lines.append(M.NSLOOKUP_ALIASES.format(name=aliases[0]))
        lines += [M.NSLOOKUP_MORE_ALIAS.format(name=a) for a in aliases[1:]]
    return lines


def answer_lines(name: str, qtype: str, server_name: str, answer: Answer) -> list[str]:
    """What nslookup prints after the header for one answer."""
    if answer.rcode == "NXDOMAIN":
        return [M.NSLOOKUP_NXDOMAIN.format(server=server_name, name=name)]
    if answer.rcode != "NOERROR":
        return [M.NSLOOKUP_REFUSED.format(server=server_name, name=name)]
    lines = [] if answer.authoritative or not answer.answer else [M.NSLOOKUP_NON_AUTHORITATIVE.text]
    if qtype == "A":
        return lines + _address_lines(name, answer)
    if not answer.answer:
        soa = [r for r in answer.authority if r.rtype == "SOA"]
        return [line for r in soa for line in _soa_lines(r)] or [
            M.NSLOOKUP_NO_RECORDS.format(type=qtype, name=name)]
    return lines + [line for r in answer.answer for line in _record_lines(r)]


def parse_args(args: list[str]) -> tuple[str, str | None, str | None] | None:
    """``(type, name, server)`` from nslookup's arguments; None when an option is not understood."""
    qtype, rest = "A", []
    for arg in args:
        if arg.startswith("-") and len(arg) > 1:
            key, _, value = arg[1:].partition("=")
            if key.lower() in ("type", "q", "querytype", "qt", "ty"):
                if value.upper() not in TYPES:
                    return None
                qtype = value.upper()
            continue
        rest.append(arg)
    return qtype, (rest[0] if rest else None), (rest[1] if len(rest) > 1 else None)


def _server_name(host: ConsoleHost, address: str) -> str:
    try:
        reply = host.resolve(ptr_name(address), "PTR", address)
    except (TimeoutError, ValueError):
        return M.NSLOOKUP_UNKNOWN_SERVER.text
    names = [str(r.value) for r in reply.answer.answer if r.rtype == "PTR"]
    return names[0] if names else M.NSLOOKUP_UNKNOWN_SERVER.text


def _server_address(host: ConsoleHost, server: str | None) -> str | None:
    if server is None:
        return None
    try:
        return str(ipaddress.IPv4Address(server))
    except ValueError:
        reply = host.resolve(server, "A")
        found = [str(r.value) for r in reply.answer.answer if r.rtype == "A"]
        return found[0] if found else server


def nslookup(inv: Invocation) -> list[str]:
    host = inv.console_host
    parsed = parse_args(inv.args)
    if parsed is None:
        bad = next(a for a in inv.args if a.startswith("-") and "=" in a)
        return [M.NSLOOKUP_UNKNOWN_TYPE.format(type=bad.partition("=")[2])]
    qtype, name, server = parsed
    if name is None:
        return M.NSLOOKUP_USAGE.text.split("\n")
    try:
        address = _server_address(host, server)
        reply = host.resolve(name, qtype, address)
    except TimeoutError:
        shown = M.NSLOOKUP_UNKNOWN_SERVER.text
        timeout = M.NSLOOKUP_TIMEOUT.text.split("\n")
        return (timeout + [M.NSLOOKUP_SERVER.format(name=shown),
                           M.NSLOOKUP_ADDRESS.format(address=server or ""), ""] + timeout + timeout
                + [M.NSLOOKUP_REQUEST_TIMED_OUT.format(server=shown)])
    shown = _server_name(host, reply.server_address)
    header = [M.NSLOOKUP_SERVER.format(name=shown), M.NSLOOKUP_ADDRESS.format(address=reply.server_address), ""]
    return header + answer_lines(name.rstrip("."), qtype, shown, reply.answer)


def register(registry: Registry, host: ConsoleHost) -> None:
    """Register the nslookup native command."""
    register_all(registry, host, COMMANDS)


def _declaration() -> Cmdlet:
    return Cmdlet("nslookup", None, native=True, aliases=("nslookup.exe",),  # type: ignore[arg-type]
                  command_type="Application", synopsis="Windows nslookup against the lab DNS")


#: the module's commands, declared once: every console's registry shares them
COMMANDS = (
    declared(nslookup, ("nslookup",), (), _declaration),
)
