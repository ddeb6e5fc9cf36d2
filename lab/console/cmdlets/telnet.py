"""``telnet <host> <port>``: a raw SMTP conversation from the console's lab host.

The client's side of the dialogue is what the user types: :meth:`ConsoleHost.read_client_line`
(an interactive console prompts; :func:`run_script` feeds the script's following lines). The
command prints exactly the server's lines; it reads one reply after each line the client sends,
except inside DATA (after ``354``) until the lone ``.``. When the server closes the connection
(after ``221`` to QUIT or a ``421``, or any refusal that drops it) telnet prints ``Connection to host lost.``, as Windows does.

Name resolution: an address is used as given; a name is looked up as an A record in the lab's
public DNS from the console's host, then among the lab's own host names and FQDNs (what the
LAN's DNS answers for ``telnet mail1 25``). telnet never looks up MX records.
"""
from __future__ import annotations

import ipaddress
from typing import Any, Callable, Iterable

from lab.console.cmdlets._common import register_all
from lab.console.evaluator import RunResult
from lab.console.host import ConsoleHost, SmtpConversation, source_node
from lab.console.registry import Cmdlet, CmdletError, Invocation, Registry, declared
from lab.core.catalogue import cmdlets as M
from lab.core.errors import LabRuntimeError

READERS = ("telnet", "telnet.exe")  # console programs that read the user's following lines
_READER_MARK = "telnet"  # in every reader's name (run_script's test for a script with no reader)


def _lan_address(host: ConsoleHost, name: str) -> str | None:
    """The address a lab host name / FQDN has for the source host (a shared network first)."""
    hosts = host.world.topology.hosts
    lowered = name.lower().rstrip(".")
    node = next((n for n, h in hosts.items() if lowered in (n.lower(), (h.fqdn or "").lower())), None)
    if node is None:
        return None
    network = host.world.network
    src = network.node(source_node(host.session))
    dst = network.node(node)
    for net in src.networks:
        shared = dst.address_on(net)
        if shared:
            return shared
    addresses = network.addresses_of(node)
    return addresses[0] if addresses else None


def resolve_address(host: ConsoleHost, name: str) -> str | None:
    """telnet's resolution of ``name``: an IPv4 literal, the lab DNS's A record, else a lab host name."""
    try:
        return str(ipaddress.IPv4Address(name))
    except ValueError:
        pass
    try:
        answer = host.resolve(name, "A").answer
        found = [str(r.value) for r in answer.answer if r.rtype == "A"]
        if found:
            return found[0]
    except TimeoutError:
        pass
    return _lan_address(host, name)


SERVICES = {"telnet": 23, "smtp": 25, "submission": 587}  # service names telnet.exe looks up itself


def parse_port(text: str) -> int | None:
    """telnet's port argument: 1-65535 or a service name (``smtp``); None when it is neither."""
    if text.isdigit():
        port = int(text)
        return port if 1 <= port <= 65535 else None
    return SERVICES.get(text.lower())


def _closing(reply: tuple[str, ...]) -> bool:
    """221 (QUIT) and 421 replies end the session: the server closes the connection after them."""
    return reply[-1][:4] in ("221 ", "421 ", "221-", "421-") or reply[-1] in ("221", "421")


def converse(host: ConsoleHost, session: SmtpConversation) -> list[str]:
    """Run the dialogue: greeting, then one reply per client line (none inside DATA)."""
    out: list[str] = []
    reply = session.read_reply()
    out += reply
    in_data = False
    while reply and not _closing(reply):
        line = host.read_client_line()
        if line is None:
            session.close()
            return out
        session.send_line(line)
        if in_data and line != ".":
            continue
        reply = session.read_reply()
        out += reply
        in_data = (not in_data and line.strip().upper() == "DATA" and bool(reply) and reply[-1].startswith("354"))
    session.close()
    return out + M.TELNET_CONNECTION_LOST.text.split("\n")


def telnet(inv: Invocation) -> list[str]:
    host = inv.console_host
    if not inv.args:
        return [M.TELNET_USAGE.text]
    name = inv.args[0]
    port_text = str(inv.args[1]).strip() if len(inv.args) > 1 else "23"
    port = parse_port(port_text)
    failed = [M.TELNET_CONNECT_FAILED.format(host=name, port=port_text if port is None else port)]
    if port is None:
        return failed  # telnet.exe cannot open a connection on a port it cannot use
    address = resolve_address(host, name)
    if address is None:
        return failed
    try:
        session = host.open_smtp_session(address, port)
    except ConnectionError:
        return failed
    except LabRuntimeError:
        raise CmdletError(M.NEEDS_RUNNING_LAB.format(what="telnet"), "InvalidOperation", name,
                          "NeedsRunningLab", "InvalidOperationException") from None
    return converse(host, session)


def register(registry: Registry, host: ConsoleHost) -> None:
    """Register the telnet native command."""
    register_all(registry, host, COMMANDS)


def _declaration() -> Cmdlet:
    return Cmdlet("telnet", None, native=True, aliases=("telnet.exe",),  # type: ignore[arg-type]
                  command_type="Application", synopsis="Windows telnet client (raw SMTP tests)")


def run_script(console: Any, text: str | Iterable[str], result: Callable[[str, list[Any], list[str], bool], Any] = RunResult) -> list[Any]:
    """Run a script the way ``powershell -c`` / a pasted block does, feeding console programs.

    Lines are run in blocks (so multi-line statements such as a splatted hashtable work); a
    line that starts a reader (``telnet``) runs alone with the script's following lines queued
    in ``console.host.typed`` as what the user types; the lines it consumed are not run as
    PowerShell. Returns each block's result, ``console.run(block, result)``: a RunResult by default (see
    :meth:`lab.console.evaluator.Shell.run`).
    """
    lines = text.splitlines() if isinstance(text, str) else list(text)
    whole = "\n".join(lines)
    if _READER_MARK not in whole.lower():  # (a reader's first word, lowered, is in the lowered text: none here)
        return [console.run(whole, result)] if whole.strip() else []  # (the one block below; blank: nothing runs)
    results, block, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        words = line.split()
        if words and words[0].lower() in READERS:
            if block:
                results.append(console.run("\n".join(block), result))
                block = []
            rest = lines[i + 1:]
            console.host.typed[:] = rest
            results.append(console.run(line, result))
            consumed = len(rest) - len(console.host.typed)
            console.host.typed.clear()
            i += 1 + consumed
            continue
        block.append(line)
        i += 1
    if any(b.strip() for b in block):
        results.append(console.run("\n".join(block), result))
    return results


#: the module's commands, declared once: every console's registry shares them
COMMANDS = (
    declared(telnet, ("telnet",), (), _declaration),
)
