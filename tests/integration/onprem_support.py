"""Helpers for the on-prem integration tests: the default lab in-process, hosts that send, a console.

The lab runs with ``live_clock=False``: lab time moves only when a test advances it. A test acts
as a lab host by binding its socket to the host's own loopback address (``lab.addressing``), so
the receiving server sees that host's virtual address after the network model's NAT.
"""
from __future__ import annotations

import asyncio
import email
import ssl
from contextlib import asynccontextmanager
from email.message import Message
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

import aiosmtplib

from lab.console.host import Session, WorldHost
from lab.console.transcript import LabConsole
from lab.runtime import Lab
from lab.topology.load import load_topology

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGY = ROOT / "topology.yaml"
BASE = "127.92.0.0/16"
TEST_TIMEOUT = 60.0  # seconds of wall time for one scenario


@asynccontextmanager
async def default_lab(state_dir: Path) -> AsyncIterator[Lab]:
    """The default world of topology.yaml, running on loopback, lab time frozen."""
    async with Lab(load_topology(TOPOLOGY), state_dir, loopback_base=BASE, live_clock=False) as lab:
        yield lab


def endpoint(lab: Lab, server: str, virtual_ip: str, port: int) -> tuple[str, int]:
    """The loopback address and port where ``server`` listens for ``virtual_ip:port``."""
    return lab.addressing.loopback[(server, virtual_ip)], lab.port(port)


def client(lab: Lab, host: str, server: str, virtual_ip: str, port: int = 25, helo: str | None = None,
           ) -> aiosmtplib.SMTP:
    """An SMTP client on lab host ``host`` talking to ``server`` at ``virtual_ip:port`` (not connected)."""
    ip, live = endpoint(lab, server, virtual_ip, port)
    return aiosmtplib.SMTP(hostname=ip, port=live, source_address=(lab.addressing.primary(host), 0),
                           local_hostname=helo or host, start_tls=False, timeout=10)


def any_server_context() -> ssl.SSLContext:
    """A client TLS context that accepts the lab server's certificate (the test is not about trust)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def message(sender: str, rcpt: str, subject: str) -> bytes:
    return (f"From: {sender}\r\nTo: {rcpt}\r\nSubject: {subject}\r\n\r\n{subject} body\r\n").encode()


async def settle(lab: Lab) -> None:
    """Let in-flight network work finish (every lab task blocked on a timer); lab time stays put.

    A delivery is a lab task until the next hop's 250, and the next hop spawns its own work
    before it answers, so one settle covers a chain of hops.
    """
    await lab.clock.settle()
    await asyncio.sleep(0)
    await lab.clock.settle()


def mailbox(lab: Lab, address: str) -> list[Message]:
    """The messages in ``state_dir/mailboxes/<address>/new``, oldest first."""
    box = lab.state_dir / "mailboxes" / address / "new"
    if not box.exists():
        return []
    files = sorted(box.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
    return [email.message_from_bytes(p.read_bytes()) for p in files]


def with_subject(lab: Lab, address: str, subject: str) -> list[Message]:
    return [m for m in mailbox(lab, address) if m["Subject"] == subject]


def console(lab: Lab, server: str) -> LabConsole:
    """An Exchange Management Shell on ``server`` over the running lab's world."""
    host = WorldHost(world=lab.world, session=Session(server=server),
                     start=lab.topology.settings.clock_start, pki=lab.pki)
    return LabConsole(host)


def run(lab: Lab, shell: LabConsole, line: str) -> str:
    """Run an administrator's line and put the changed world in force in the running lab."""
    shell.host.world = lab.world
    result = shell.run(line)
    assert not result.errors, f"{line!r} failed: {result.errors}"
    lab.world = shell.host.world
    return result.output_text


def in_default_lab(scenario: Callable[[Lab], Awaitable[None]]) -> Callable[[Path], None]:
    """Turn ``async def scenario(lab)`` into a pytest test that runs it in a fresh default lab."""
    def test(tmp_path: Path) -> None:
        async def main() -> None:
            async with default_lab(tmp_path / "state") as lab:
                await asyncio.wait_for(scenario(lab), TEST_TIMEOUT)
        asyncio.run(main())
    test.__name__, test.__qualname__, test.__doc__ = scenario.__name__, scenario.__qualname__, scenario.__doc__
    return test
