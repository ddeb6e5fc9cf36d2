"""MemoryDriver: the scenario driver over the in-memory lab (:class:`lab.memory.MemoryLab`).

No sockets, no threads, no event loop: the same core answers as on loopback, on a virtual clock
that moves only when a scenario advances it. Every call returns with the work it caused drained
(a delivery takes no lab time), so an expectation read right after sees the result. Shells are
:class:`~lab.console.memory_host.MemoryHost` consoles, one per Exchange server, kept for the run.
Certificates come from the real PKI adapter, built once at start (judged into the memory lab's
trust table); nothing cryptographic happens on the send path.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Sequence

from lab.console.cmdlets.telnet import run_script
from lab.console.host import Session
from lab.console.memory_host import MemoryHost, judge_server_certificate
from lab.console.transcript import LabConsole
from lab.core.errors import LabRuntimeError
from lab.core.exchange.queue_records import MessageView, QueueView, TrackingEvent
from lab.core.model import Topology
from lab.core.world import World
from lab.memory import MemoryLab, trust_from_pki
from lab.memory import probe as mprobe
from lab.scenario.driver import ConsoleResult, DriverInfo, EopItem, SendOutcome, SendSpec, block_result, script_result
from lab.scenario.live_client import build_message


def outcome_of(header_id: str) -> Callable[..., SendOutcome]:
    """What :meth:`lab.memory.MemoryLab.send` builds (its ``result``, called as
    :class:`~lab.memory.results.SendResult` is, with the same parameters) for a message whose
    Message-ID header is ``header_id``: the in-memory client's result as the scenario contract reports
    it (the live client's words), made from the values a SendResult would hold, without building one."""
    def made(transcript: tuple[str, ...], accepted: bool, reply: str, message_id: str = "", failure: str = "",
             refused: tuple[tuple[str, str], ...] = (), detail: str = "") -> SendOutcome:
        if failure == mprobe.TLS_FAILED:
            failure = f"TLS: {detail}"
        return SendOutcome(accepted, reply, transcript, header_id if accepted else "", failure, refused)
    return made


# lab.runtime's two builders, imported when a driver first starts (lab.runtime is the live lab's
# module: importing this one does not bring it in), then held: a function-level ``from ... import``
# costs ~8k instructions a call even with the module loaded (CPython looks for the ``__path__`` of
# a package, and a module has none: an AttributeError made and dropped each time).
_BUILDERS: tuple = ()


def _runtime_builders() -> tuple:
    """``(initial_world, topology_pki)`` of :mod:`lab.runtime`, imported now and held."""
    global _BUILDERS
    from lab.runtime import initial_world, topology_pki  # noqa: PLC0415 (see _BUILDERS)
    _BUILDERS = (initial_world, topology_pki)
    return _BUILDERS


class MemoryDriver:
    """The in-memory lab behind the :class:`~lab.scenario.driver.ScenarioDriver` contract."""

    name = "memory"

    def __init__(self) -> None:
        self.lab: MemoryLab | None = None
        self.pki: Any = None
        self.topology: Topology | None = None
        self.consoles: dict[str, LabConsole] = {}
        self._view: Any = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, topology: Topology, state_dir: Path | None) -> DriverInfo:
        initial_world, topology_pki = _BUILDERS or _runtime_builders()
        self.pki = topology_pki(topology)  # built once per process
        trust = trust_from_pki(self.pki)  # its certificates: the facts of the PKI's, as initial_world reads them
        self.topology = topology
        self.lab = MemoryLab(initial_world(topology, self.pki), trust, topology.settings.clock_start)
        # what build_message reads of a lab (its clock), made once for the lab
        self._view = SimpleNamespace(clock=SimpleNamespace(now_datetime=self.lab.now_datetime))
        self.consoles = {}
        return DriverInfo("memory", state_dir, {"servers": sorted(self.lab._world.servers)})

    def stop(self) -> None:
        if self.lab is not None:
            self.lab.close()  # freed at once, not left to the cyclic collector
        self.lab, self.consoles, self._view = None, {}, None

    # (the hot methods read ``self.lab or self._lab()``: a MemoryLab is always true, so the call is
    # made, and raises, only when the lab is not started)
    def _lab(self) -> MemoryLab:
        if self.lab is None:
            raise LabRuntimeError("the in-memory lab is not started")
        return self.lab

    @property
    def world(self) -> World:
        return (self.lab or self._lab())._world

    # -- console ---------------------------------------------------------------------------------
    def console(self, shell: str) -> LabConsole:
        lab = self.lab or self._lab()
        if shell not in self.consoles:
            if shell not in lab._world.servers:
                raise LabRuntimeError(f"{shell} is not an Exchange server of this lab "
                                      f"(servers: {', '.join(sorted(lab._world.servers))})")
            self.consoles[shell] = LabConsole(MemoryHost(lab, self.pki, Session(server=shell)))
        return self.consoles[shell]

    def run(self, script: str, shell: str) -> ConsoleResult:
        results = run_script(self.console(shell), script, block_result)
        (self.lab or self._lab()).run()
        return script_result(results)

    # -- mail -----------------------------------------------------------------------------------
    def _source(self, source: str | None) -> str:
        return source or (self.lab or self._lab())._world.topology.settings.outside_host

    def send(self, spec: SendSpec) -> SendOutcome:
        lab = self.lab or self._lab()
        source = spec.source or lab._world.topology.settings.outside_host  # (self._source, inline)
        data, message_id = build_message(self._view, spec)  # type: ignore[arg-type]
        cert = lab.trust.by_name_or_thumbprint(spec.client_certificate) if spec.client_certificate else None
        sent = lab.send(source, spec.server, spec.port, spec.mail_from, spec.to, data, tls=spec.tls, auth=spec.auth,
                        client_certificate=cert,
                        helo=spec.helo or lab._world.topology.hosts[source].fqdn or source,
                        judge_server=(lambda facts: judge_server_certificate(
                            self._lab(), source, spec.server, facts)) if spec.verify else None,
                        result=outcome_of(message_id))
        return sent

    def smtp(self, source: str | None, server: str, port: int, lines: Sequence[str]) -> tuple[str, ...]:
        lab = self._lab()
        addresses = mprobe.addresses_of(lab, server)
        if not addresses:
            return (f"*: cannot resolve {server}",)
        transcript: list[str] = []
        opened = mprobe.open_raw(lab, self._source(source), addresses[0], port, transcript)
        if isinstance(opened, str):
            return (f"*: cannot connect to {addresses[0]}:{port}: {opened}",)
        conversation = opened[0]
        for line in lines:
            if conversation.closed:
                transcript.append("*: connection closed by the server")
                break
            conversation.send_line(line)
            lab.run()
        return tuple(transcript)

    def advance(self, seconds: float) -> None:
        (self.lab or self._lab()).advance(seconds)

    # -- observing ----------------------------------------------------------------------------------
    def mailbox(self, address: str) -> list[bytes]:
        return (self.lab or self._lab()).mailbox(address)

    def queues(self, server: str, nonempty: bool = False) -> Sequence[QueueView]:
        return (self.lab or self._lab()).queues(server, nonempty)

    def messages(self, server: str) -> Sequence[MessageView]:
        return (self.lab or self._lab()).messages(server)

    def eop_queue(self) -> Sequence[EopItem]:
        return [EopItem(i.mail_from, tuple(i.recipients), i.attempts,
                        str(i.last_error) if i.last_error is not None else None) for i in self._lab().eop_queue()]

    def trace(self, message_id: str | None = None) -> Sequence[TrackingEvent]:
        return tuple(e for e in self._lab().events if message_id is None or e.message_id == message_id)
