"""The live driver of one server's transport: executes its commands with the lab's adapters.

It is the ``MessageSink`` the receive side calls: :meth:`TransportDriver.submit` hands the
message to the core, writes the spool (``Persist``) *before* returning, so the 250 goes out
only for a message on disk. Then it executes commands in order:

- ``Persist`` / ``Checkpoint`` / ``Release`` -> :class:`lab.adapters.spool.Spool`
- ``Track`` -> :class:`lab.adapters.spool.TrackingLog`
- ``DeliverLocal`` -> :class:`lab.adapters.maildir.Maildirs`
- ``ResolveMx`` / ``ResolveHosts`` -> the ``resolve_mx`` / ``resolve_host`` coroutines (lab DNS)
- ``Connect`` -> :class:`lab.adapters.smtp_client.SmtpClient`
- ``RequestWakeup`` -> :meth:`lab.adapters.clock.LabClock.sleep_until`

Network work runs as lab tasks (``clock.spawn``), so lab time stands still while it runs.
A task that raises is logged and answered for the transport as a dropped connection
(``421 4.4.2 Connection dropped due to SocketError``), so its queue retries instead of
staying Active forever.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from typing import Any, Awaitable, Callable

from lab.adapters.clock import LabClock
from lab.adapters.maildir import Maildirs
from lab.adapters.smtp_client import SmtpClient
from lab.adapters.spool import Spool, TrackingLog
from lab.core.dns_resolution import MxResult, Target
from lab.core.exchange import outcomes as O
from lab.core.exchange.queue import Transport
from lab.core.exchange.queue_records import SubmitResult

Resolve = Callable[[str], Awaitable[Any]]  # name -> MxResult (lab.core.dns_resolution)
log = logging.getLogger(__name__)
FAILED_TASK = "SocketError"  # the reason of the transient failure a crashed network task reports


class TransportDriver:
    """Runs a :class:`Transport` against the clock, the state dir and the network.

    Args:
        transport: the core transport.
        clock: the lab clock.
        spool: the server's durable queue.
        mailboxes: Maildir storage.
        tracking: the tracking log.
        client: the outbound SMTP client.
        resolve_mx: coroutine ``domain -> MxResult``.
        resolve_host: coroutine ``host -> MxResult`` (smart hosts; ``[ip]`` literals never reach it).
    """

    def __init__(self, transport: Transport, clock: LabClock, spool: Spool, mailboxes: Maildirs,
                 tracking: TrackingLog, client: SmtpClient, resolve_mx: Resolve, resolve_host: Resolve):
        self.transport, self.clock, self.spool = transport, clock, spool
        if not transport.boot:  # Message-IDs must not repeat after a restart (see Transport's ``boot``)
            transport.boot = uuid.uuid4().hex
        self.mailboxes, self.tracking, self.client = mailboxes, tracking, client
        self.resolve_mx, self.resolve_host = resolve_mx, resolve_host
        self._tasks: set[asyncio.Task] = set()
        self._pending: deque[O.Command] = deque()
        self._running = False

    def start(self) -> int:
        """Take back every spooled message (after a restart); returns how many."""
        records = self.spool.load()
        for record in records:
            self.transport.restore(record, self.clock.now)
        self._run()
        return len(records)

    def submit(self, msg: Any) -> SubmitResult:
        """``MessageSink.submit``: queue the message; it is on disk when this returns."""
        result = self.transport.submit(msg, self.clock.now)
        self._run()
        return result

    def kick(self) -> None:
        """Execute what the transport asks for after an outside change (connectors, Retry-Queue ...)."""
        self._run()

    def _run(self) -> None:
        """Execute commands until none are left (synchronous ones inline, network ones as lab tasks)."""
        self._pending.extend(self.transport.pop_commands())
        if self._running:
            return
        self._running = True
        try:
            while self._pending:
                self._execute(self._pending.popleft())
                self._pending.extend(self.transport.pop_commands())
        finally:
            self._running = False

    def _execute(self, cmd: O.Command) -> None:
        t = self.transport
        if isinstance(cmd, O.Persist):
            self.spool.write(cmd.record)
        elif isinstance(cmd, O.Checkpoint):
            self.spool.checkpoint(cmd.internal_id, cmd.done, cmd.delay_dsn_sent)
        elif isinstance(cmd, O.Release):
            self.spool.remove(cmd.internal_id)
        elif isinstance(cmd, O.Track):
            self.tracking.append(cmd.event)
        elif isinstance(cmd, O.DeliverLocal):
            for rcpt in cmd.recipients:
                self.mailboxes.deliver(rcpt, cmd.data)
            t.delivery_result(cmd.queue, O.Delivered(), self.clock.now, items=(cmd.item,))
        elif isinstance(cmd, O.ResolveMx):
            self._spawn(self._resolve(cmd.queue, self.resolve_mx(cmd.domain)), cmd.queue)
        elif isinstance(cmd, O.ResolveHosts):
            self._spawn(self._resolve_hosts(cmd), cmd.queue)
        elif isinstance(cmd, O.Connect):
            self._spawn(self._connect(cmd), cmd.queue)
        elif isinstance(cmd, O.RequestWakeup):
            self._spawn(self._wake(cmd.at))

    def _spawn(self, coro: Any, queue: str | None = None) -> None:
        task = self.clock.spawn(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda t: self._task_done(t, queue))

    def _task_done(self, task: asyncio.Task, queue: str | None) -> None:
        """Read a finished task's exception: log it, and answer the transport for ``queue`` with a
        transient failure (only the items still being attempted take it) so the queue retries."""
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        log.error("transport task of queue %s failed", queue, exc_info=(type(exc), exc, exc.__traceback__))
        if queue is None:
            return
        try:
            self.transport.delivery_result(queue, O.connection_dropped(FAILED_TASK), self.clock.now)
            self._run()
        except Exception:  # noqa: BLE001 - a callback must not raise into the event loop
            log.exception("reporting the failure of a transport task of queue %s failed", queue)

    async def _resolve(self, queue: str, pending: Awaitable[Any]) -> None:
        result = await pending
        self.transport.resolution_result(queue, result, self.clock.now)
        self._run()

    async def _resolve_hosts(self, cmd: O.ResolveHosts) -> None:
        targets, error = [], None
        for host in cmd.hosts:
            if host.startswith("[") and host.endswith("]"):
                targets.append(Target(host, 0, (host[1:-1],)))
                continue
            result = await self.resolve_host(host)
            if result.error:
                error = error or result.error
            targets.extend(result.targets)
        combined = MxResult(",".join(cmd.hosts), tuple(targets), None if targets else error)
        self.transport.resolution_result(cmd.queue, combined, self.clock.now)
        self._run()

    async def _connect(self, cmd: O.Connect) -> None:
        for items, outcome in await self.client.deliver(cmd):
            self.transport.delivery_result(cmd.queue, outcome, self.clock.now, items=items)
        self._run()

    async def _wake(self, at: float) -> None:
        await self.clock.sleep_until(at)
        self.transport.wakeup(self.clock.now)
        self._run()

    async def drain(self) -> None:
        """Wait until no network work is in flight (pending wakeups may remain)."""
        await self.clock.settle()

    async def close(self) -> None:
        """Cancel every lab task of this driver (a stop; the spool keeps the mail)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
