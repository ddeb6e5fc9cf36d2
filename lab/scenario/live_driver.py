"""LiveDriver: the scenario driver over the loopback lab (:class:`lab.runtime.Lab`).

The lab runs on its own event loop in a background thread (:class:`~lab.console.live_bridge.LabThread`)
with lab time frozen (``live_clock=False``): it moves only when a scenario advances it. The
runner and the consoles run on the calling thread and reach the loop through a
:class:`~lab.console.live_bridge.LoopBridge` (the console must never run on the loop thread).
Each run takes a loopback block of its own (a free ``127.N.0.0/16``), so runs go in parallel.
"""
from __future__ import annotations

import email
import functools
import os
import random
import tempfile
from pathlib import Path
from typing import Any, Sequence

from lab.console.cmdlets.telnet import resolve_address, run_script
from lab.console.host import Session
from lab.console.live_bridge import LabThread, LoopBridge
from lab.console.live_host import LiveHost
from lab.console.transcript import LabConsole
from lab.core.errors import LabRuntimeError
from lab.core.exchange.queue_records import MessageView, QueueView, TrackingEvent
from lab.core.model import Topology
from lab.core.world import World
from lab.scenario.driver import ConsoleResult, DriverInfo, EopItem, SendOutcome, SendSpec, block_result, script_result
from lab.scenario import live_client

BLOCKS = tuple(f"127.{n}.0.0/16" for n in range(100, 250))
SETTLE_ROUNDS = 3
#: Where a run without a state dir keeps its throw-away one: memory-backed when the system has
#: it (the spool's and mailboxes' fsyncs and the final removal cost no disk I/O; the directory
#: is deleted at stop anyway), unless TMPDIR chooses a place.
SCRATCH = "/dev/shm"


def scratch_dir() -> str | None:
    """The parent for a run's temporary state dir (None: the system's temporary directory)."""
    if os.environ.get("TMPDIR"):
        return None
    return SCRATCH if os.path.isdir(SCRATCH) and os.access(SCRATCH, os.W_OK | os.X_OK) else None


async def settle(lab: Any) -> None:
    """Let in-flight work finish (every lab task blocked on a timer); lab time stays put."""
    import asyncio
    for _ in range(SETTLE_ROUNDS):
        await lab.clock.settle()
        await asyncio.sleep(0)


class LiveDriver:
    """The loopback lab behind the :class:`~lab.scenario.driver.ScenarioDriver` contract.

    Args:
        control: also open the lab's control channel (``<state>/control.sock``), so ``lab
            shell --state DIR`` can join (exercise mode).
        loopback_base: a fixed block; None picks a free one at random.
    """

    name = "live"

    def __init__(self, control: bool = False, loopback_base: str | None = None):
        self.control = control
        self.loopback_base = loopback_base
        self.thread: LabThread | None = None
        self.lab: Any = None
        self.bridge: LoopBridge | None = None
        self.consoles: dict[str, LabConsole] = {}
        self._tmp: tempfile.TemporaryDirectory | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, topology: Topology, state_dir: Path | None) -> DriverInfo:
        from lab.runtime import Lab
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="lab-scenario-", dir=scratch_dir())
            state_dir = Path(self._tmp.name)
        blocks = [self.loopback_base] if self.loopback_base else random.sample(BLOCKS, 10)
        last: Exception | None = None
        for block in blocks:
            async def start(block: str = block) -> Any:
                lab = Lab(topology, state_dir, loopback_base=block, live_clock=False, control=self.control)
                await lab.start()
                return lab

            async def stop(lab: Any) -> None:
                await lab.stop()
            thread = LabThread(start, stop)
            try:
                thread.__enter__()
            except LabRuntimeError as exc:
                if "in use" not in str(exc):
                    raise
                last = exc
                continue
            self.thread, self.lab = thread, thread.lab
            self.bridge = LoopBridge(thread.loop, timeout=120)
            return DriverInfo("live", Path(state_dir), {"loopback_base": block})
        raise LabRuntimeError(f"no free loopback block for the lab: {last}")

    def stop(self) -> None:
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.__exit__()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def world(self) -> World:
        return self.lab.world

    def _settle(self) -> None:
        assert self.bridge is not None
        self.bridge.call(lambda: settle(self.lab))

    # -- console ---------------------------------------------------------------------------------
    def console(self, shell: str) -> LabConsole:
        if shell not in self.consoles:
            if shell not in self.lab.world.servers:
                raise LabRuntimeError(f"{shell} is not an Exchange server of this lab "
                                      f"(servers: {', '.join(sorted(self.lab.world.servers))})")
            assert self.bridge is not None
            host = LiveHost(self.lab, self.bridge, Session(server=shell))
            self.consoles[shell] = LabConsole(host, self.lab.state_dir)
        return self.consoles[shell]

    def run(self, script: str, shell: str) -> ConsoleResult:
        results = run_script(self.console(shell), script, block_result)
        self._settle()
        return script_result(results)

    # -- mail -----------------------------------------------------------------------------------
    def _source(self, source: str | None) -> str:
        return source or self.lab.topology.settings.outside_host

    def send(self, spec: SendSpec) -> SendOutcome:
        assert self.bridge is not None
        source = self._source(spec.source)

        async def go() -> SendOutcome:
            outcome = await live_client.submit(self.lab, spec, source)
            await settle(self.lab)  # on the loop at once: one hop from this thread, not two
            return outcome
        return self.bridge.call(go)

    def smtp(self, source: str | None, server: str, port: int, lines: Sequence[str]) -> tuple[str, ...]:
        assert self.bridge is not None
        src = self._source(source)
        probe = LiveHost(self.lab, self.bridge, Session(server=next(iter(self.lab.world.servers)), source_host=src))
        address = resolve_address(probe, server)
        if address is None:
            return (f"*: cannot resolve {server}",)

        async def go() -> tuple[str, ...]:
            transcript = await live_client.dialogue(self.lab, src, address, port, lines)
            await settle(self.lab)
            return transcript
        return self.bridge.call(go)

    def advance(self, seconds: float) -> None:
        assert self.bridge is not None

        async def go() -> None:
            await self.lab.clock.advance(seconds)
            await settle(self.lab)
        self.bridge.call(go, timeout=600)

    # -- observing ----------------------------------------------------------------------------------
    def mailbox(self, address: str) -> list[bytes]:
        box = self.lab.state_dir / "mailboxes" / address.strip().lower() / "new"
        if not box.exists():
            return []
        files = sorted(box.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
        return [p.read_bytes() for p in files]

    def queues(self, server: str, nonempty: bool = False) -> Sequence[QueueView]:
        assert self.bridge is not None
        return self.bridge.run_sync(functools.partial(self.lab.exchange[server].transport.queues, nonempty))

    def messages(self, server: str) -> Sequence[MessageView]:
        assert self.bridge is not None
        return self.bridge.run_sync(self.lab.exchange[server].transport.messages)

    def eop_queue(self) -> Sequence[EopItem]:
        assert self.bridge is not None

        def read() -> list[EopItem]:
            return [EopItem(p.item.mail_from, tuple(p.item.recipients), p.item.attempts,
                            str(p.item.last_error) if p.item.last_error is not None else None)
                    for service in self.lab.eop.values() for p in service.pending]
        return self.bridge.run_sync(read)

    def trace(self, message_id: str | None = None) -> Sequence[TrackingEvent]:
        from lab.console.live_host import _event
        if self.lab.tracking is None:
            return ()
        events = [_event(e) for e in self.lab.tracking.read()]
        return tuple(e for e in events if message_id is None or e.message_id == message_id)


def parse(data: bytes) -> email.message.Message:
    """A delivered message, parsed."""
    return email.message_from_bytes(data)
