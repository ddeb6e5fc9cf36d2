"""Helpers for the hybrid / EOP tests: the default lab in-process, hosts that send, the console.

A :class:`SharedLab` runs one default lab on its own event loop thread, so a test module can
share it (``shared.run(coro)`` runs a coroutine there); :func:`fresh_lab` runs a scenario in a
lab of its own, for tests that change the world. Lab time is frozen (``live_clock=False``):
it moves only when a test advances it. A test acts as a lab host by binding its socket to the
host's own loopback address, so the receiver sees that host's virtual address after NAT.
"""
from __future__ import annotations

import asyncio
import email
import random
import ssl
import threading
from email.message import Message
from pathlib import Path
from typing import Any, Awaitable, Callable, Coroutine

import aiosmtplib

from lab.adapters.tls import client_context
from lab.console.host import Session, WorldHost
from lab.console.transcript import LabConsole
from lab.core.errors import LabRuntimeError
from lab.runtime import Lab
from lab.topology.load import load_topology

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGY = ROOT / "topology.yaml"
BASES = tuple(f"127.{n}.0.0/16" for n in range(150, 250))  # tried in a random order until one is free
TIMEOUT = 60.0
MX_IP, SUBMISSION_IP = "40.107.22.10", "52.97.10.10"
EX01_IP = "10.10.0.10"
FE_INTERNAL = "AM5EUR02FT025.eop-EUR02.prod.protection.outlook.com"


def new_lab(state_dir: Path, base: str) -> Lab:
    return Lab(load_topology(TOPOLOGY), state_dir, loopback_base=base, live_clock=False)


async def start_lab(state_dir: Path) -> Lab:
    """Start the default lab on a loopback block no other lab (another test run) is using."""
    last: Exception | None = None
    for base in random.sample(BASES, 8):
        lab = new_lab(state_dir, base)
        try:
            await lab.start()
            return lab
        except LabRuntimeError as exc:  # an address of this block is in use: try another block
            if "in use" not in str(exc):
                raise
            last = exc
    raise AssertionError(f"no free loopback block for the lab: {last}")


class SharedLab:
    """One default lab on a background event loop, for a whole test module."""

    def __init__(self, state_dir: Path):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="shared-lab", daemon=True)
        self.thread.start()
        self.lab = self.run(start_lab(state_dir))

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = TIMEOUT) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        try:
            self.run(self.lab.stop())
            self.run(_cancel_the_rest())  # Lab.stop() leaves its EOP retry loop running
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


async def _cancel_the_rest() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def fresh_lab(tmp_path: Path, scenario: Callable[[Lab], Awaitable[None]]) -> None:
    """Run ``scenario(lab)`` in a default lab of its own."""
    async def main() -> None:
        lab = await start_lab(tmp_path / "state")
        try:
            await asyncio.wait_for(scenario(lab), TIMEOUT)
        finally:
            await lab.stop()
    asyncio.run(main())


def smtp(lab: Lab, host: str | None, node: str, virtual_ip: str, port: int = 25, helo: str | None = None
         ) -> aiosmtplib.SMTP:
    """A client on lab host ``host`` (None: from 127.0.0.1, i.e. outside the lab) to ``node`` at
    ``virtual_ip:port`` (not connected)."""
    source = (lab.addressing.primary(host), 0) if host else ("127.0.0.1", 0)
    return aiosmtplib.SMTP(hostname=lab.addressing.loopback[(node, virtual_ip)], port=lab.port(port),
                           source_address=source, local_hostname=helo or host or "client", start_tls=False,
                           timeout=10)


def any_server() -> ssl.SSLContext:
    """A client TLS context that accepts any server certificate (these tests are not about that)."""
    return client_context()


async def settle(lab: Lab) -> None:
    """Let in-flight deliveries finish (every lab task blocked); lab time stays put."""
    for _ in range(3):
        await lab.clock.settle()
        await asyncio.sleep(0)


async def advance(lab: Lab, seconds: float) -> None:
    await lab.clock.advance(seconds)
    await settle(lab)


def message(sender: str, rcpt: str, subject: str) -> bytes:
    return f"From: {sender}\r\nTo: {rcpt}\r\nSubject: {subject}\r\n\r\n{subject} body\r\n".encode()


def mailbox(lab: Lab, address: str, subject: str | None = None) -> list[Message]:
    """The messages in ``state_dir/mailboxes/<address>/new`` (with ``subject``), oldest first."""
    box = lab.state_dir / "mailboxes" / address / "new"
    if not box.exists():
        return []
    files = sorted(box.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
    found = [email.message_from_bytes(p.read_bytes()) for p in files]
    return [m for m in found if subject is None or m["Subject"] == subject]


def received(msg: Message) -> list[str]:
    """The Received headers, unfolded, newest first."""
    return [" ".join(str(v).split()) for v in msg.get_all("Received", [])]


def console(lab: Lab, server: str = "ex01") -> LabConsole:
    """An Exchange Management Shell on ``server`` over the running lab's world."""
    host = WorldHost(world=lab.world, session=Session(server=server), start=lab.topology.settings.clock_start,
                     pki=lab.pki)
    return LabConsole(host)


def run(lab: Lab, shell: LabConsole, line: str) -> str:
    """Run an administrator's line and put the changed world in force in the running lab."""
    shell.host.world = lab.world
    result = shell.run(line)
    assert not result.errors, f"{line!r} failed: {result.errors}"
    lab.world = shell.host.world
    return result.output_text


async def rcpt(lab: Lab, host: str | None, recipient: str, sender: str = "app@ixmsoft.com",
               cert: Any = False, helo: str = "relay.ixmsoft.com") -> tuple[str, str]:
    """Talk to the tenant MX endpoint up to RCPT TO; ``cert``: False (no TLS), None (TLS without a
    client certificate) or the certificate to present. Returns the MAIL and RCPT reply lines."""
    client = smtp(lab, host, "eop", MX_IP, helo=helo)
    await client.connect()
    try:
        await client.ehlo()
        if cert is not False:
            await client.starttls(tls_context=client_context(cert))
            await client.ehlo()
        mail = await client.execute_command(f"MAIL FROM:<{sender}>".encode())
        reply = await client.execute_command(f"RCPT TO:<{recipient}>".encode())
        return f"{mail.code} {mail.message}", f"{reply.code} {reply.message}"
    finally:
        client.close()


async def send(lab: Lab, host: str | None, recipient: str, subject: str, sender: str = "app@ixmsoft.com",
               cert: Any = False) -> str:
    """A whole message to the tenant MX endpoint; returns the end-of-DATA reply line."""
    client = smtp(lab, host, "eop", MX_IP, helo="relay.ixmsoft.com")
    await client.connect()
    try:
        await client.ehlo()
        if cert is not False:
            await client.starttls(tls_context=client_context(cert))
            await client.ehlo()
        _, reply = await client.sendmail(sender, [recipient], message(sender, recipient, subject))
        return reply
    finally:
        client.close()
