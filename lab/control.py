"""The control channel of a running lab: ``<state>/control.sock``, for ``lab shell``.

A Unix domain socket (mode 0600, in the state dir made 0700, and a peer whose uid is not the
lab's is turned away), so only the state dir's owner can reach it and nothing listens on a
network address. The protocol is JSON lines (``lab export`` sends ``{"export": true}`` and
gets ``{"topology": "<yaml>"}``):

    client -> {"line": "Get-ReceiveConnector"}
    server -> {"output": "...", "errors": ["..."], "changed": false, "prompt": "[PS] EX01>"}

On connect the server first sends ``{"lab": name, "prompt": ...}``. While a line runs, a
program that reads what the user types (``telnet``) makes the server ask
``{"read": true}``; the client answers ``{"input": "EHLO x"}`` or ``{"input": null}`` (end of
input). Each connection is one console session (its own server, tenant, lab host and
variables); every connection's lines run one at a time on one worker thread (see
:mod:`lab.console.live_bridge`), and each successful world-changing line is appended to
``transcript.ps1`` by :class:`~lab.console.transcript.LabConsole`.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.console.live_bridge import LoopBridge
from lab.core.catalogue import lab as L
from lab.core.errors import LabRuntimeError

if TYPE_CHECKING:
    from lab.console.transcript import LabConsole
    from lab.runtime import Lab

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"
MAX_LINE = 1 << 20
READ_TIMEOUT = 24 * 3600.0  # a user typing to telnet may take their time


def socket_path(state_dir: str | Path) -> Path:
    return Path(state_dir) / SOCKET_NAME


def prompt_of(host: Any) -> str:
    """``[PS] EX01>``, ``[PS] ixmsoft.onmicrosoft.com>`` after Connect-ExchangeOnline, ``[lab] host>``."""
    session, world = host.session, host.world
    if session.tenant:
        tenant = world.tenants.get(session.tenant)
        return f"[PS] {tenant.initial_domain if tenant else session.tenant}>"
    if session.source_host:
        return f"[lab] {session.source_host}>"
    state = world.servers.get(session.server)
    return f"[PS] {state.server.name if state else session.server}>"


def run_line(console: LabConsole, line: str) -> dict[str, Any]:
    """Run one line; the reply of the protocol.

    A successful line that moved the session (``Connect-ExchangeOnline``, ``Set-LabHost``)
    is recorded too, so that the transcript replays where it was typed.
    """
    session = console.host.session
    before = (session.server, session.tenant, session.source_host)
    result = console.run(line)
    moved = (session.server, session.tenant, session.source_host) != before
    if not result.errors and not result.changed and moved:
        console.record(line)
    output = result.output_text
    for error in result.errors:
        output = output.replace(error + "\n", "", 1)
    return {"output": output, "errors": list(result.errors), "changed": bool(result.changed),
            "prompt": prompt_of(console.host)}


class ControlServer:
    """Serves ``lab shell`` clients on ``<state>/control.sock`` for a started lab."""

    def __init__(self, lab: "Lab"):
        self.lab = lab
        self.path = socket_path(lab.state_dir)
        self.server: asyncio.AbstractServer | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lab-console")
        self.bridge: LoopBridge | None = None
        self._clients: set[asyncio.StreamWriter] = set()

    async def start(self) -> "ControlServer":
        self.bridge = LoopBridge(asyncio.get_running_loop())
        state = self.lab.state_dir
        state.mkdir(parents=True, exist_ok=True)
        os.chmod(state, 0o700)
        if len(os.fsencode(self.path)) >= 104:
            raise LabRuntimeError(f"the state dir path is too long for a Unix socket: {self.path}")
        self.path.unlink(missing_ok=True)
        old = os.umask(0o177)
        try:
            self.server = await asyncio.start_unix_server(self._serve, path=str(self.path), limit=MAX_LINE)
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for writer in list(self._clients):
                writer.close()  # the session reads EOF and ends
            await self.server.wait_closed()
            self.server = None
        self.path.unlink(missing_ok=True)
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        try:
            if not _same_user(writer):
                await _send(writer, {"error": "the control channel belongs to another user"})
                return
            await self._session(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._clients.discard(writer)
            writer.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self.bridge is not None
        loop = asyncio.get_running_loop()
        pending: list[Any] = []

        async def ask() -> str | None:
            await _send(writer, {"read": True})
            while True:
                message = await _receive(reader)
                if message is None:
                    return None
                if "input" in message:
                    value = message["input"]
                    return None if value is None else str(value)
                pending.append(message)

        # the console (cmdlets, PowerShell engine) loads with the first client, not when the lab starts
        from lab.console.live_host import LiveHost  # noqa: PLC0415
        from lab.console.transcript import LabConsole  # noqa: PLC0415

        host = LiveHost(self.lab, self.bridge, read_line=lambda: self.bridge.call(ask, timeout=READ_TIMEOUT))
        console = LabConsole(host, self.lab.state_dir)
        await _send(writer, {"lab": self.lab.topology.name, "prompt": prompt_of(host)})
        while True:
            message = pending.pop(0) if pending else await _receive(reader)
            if message is None:
                return
            if message.get("export"):
                from lab.topology.export import export_yaml
                await _send(writer, {"topology": export_yaml(self.lab.world)})
                continue
            if "line" not in message:
                await _send(writer, {"error": "expected {\"line\": ...} or {\"export\": true}"})
                continue
            reply = await loop.run_in_executor(self.executor, _guarded, console, str(message["line"]))
            await _send(writer, reply)


def _guarded(console: LabConsole, line: str) -> dict[str, Any]:
    try:
        return run_line(console, line)
    except Exception as exc:  # a lab failure must not kill the session: log it, report one lab text
        log.exception("internal error running console line %r", line)
        return {"output": "", "errors": [L.INTERNAL_ERROR.format(kind=type(exc).__name__)], "changed": False,
                "prompt": prompt_of(console.host)}


def _same_user(writer: asyncio.StreamWriter) -> bool:
    sock = writer.get_extra_info("socket")
    creds = getattr(socket, "SO_PEERCRED", None)
    if sock is None or creds is None:
        return True  # no SO_PEERCRED (not Linux): the 0600 socket in a 0700 dir is the guard
    raw = sock.getsockopt(socket.SOL_SOCKET, creds, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return uid == os.getuid()


async def _send(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
    writer.write(json.dumps(message, ensure_ascii=False, default=str).encode("utf-8") + b"\n")
    await writer.drain()


async def _receive(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    raw = await reader.readline()
    if not raw:
        return None
    try:
        message = json.loads(raw)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


async def start_control(lab: "Lab") -> ControlServer:
    """Open the control channel of a started lab (``lab up`` calls this; close it before ``lab.stop``)."""
    return await ControlServer(lab).start()


class ControlClient:
    """A blocking client of the control channel (``lab shell``)."""

    def __init__(self, state_dir: str | Path, timeout: float | None = None):
        path = socket_path(state_dir)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(str(path))
        except OSError as exc:
            self.sock.close()
            raise LabRuntimeError(f"no lab is listening on {path} ({exc.strerror or exc})") from None
        self.file = self.sock.makefile("rwb")
        hello = self._receive()
        if "error" in hello:
            raise LabRuntimeError(hello["error"])
        self.lab: str = hello.get("lab", "")
        self.prompt: str = hello.get("prompt", "PS>")

    def _receive(self) -> dict[str, Any]:
        raw = self.file.readline()
        if not raw:
            raise LabRuntimeError("the lab closed the control channel")
        return json.loads(raw)

    def _send(self, message: dict[str, Any]) -> None:
        self.file.write(json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\n")
        self.file.flush()

    def run(self, line: str, read_input: Any = lambda: None) -> dict[str, Any]:
        """Run one line; ``read_input()`` answers the lab's requests for typed lines (None: end)."""
        self._send({"line": line})
        while True:
            reply = self._receive()
            if reply.get("read"):
                self._send({"input": read_input()})
                continue
            if "error" in reply:
                raise LabRuntimeError(reply["error"])
            self.prompt = reply.get("prompt", self.prompt)
            return reply

    def export(self) -> str:
        """The running lab's world as topology file text."""
        self._send({"export": True})
        reply = self._receive()
        if "error" in reply:
            raise LabRuntimeError(reply["error"])
        return reply["topology"]

    def close(self) -> None:
        try:
            self.file.close()
        finally:
            self.sock.close()


def lab_running(state_dir: str | Path) -> bool:
    """True when a lab answers on the state dir's control socket."""
    path = socket_path(state_dir)
    if not path.exists():
        return False
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True
