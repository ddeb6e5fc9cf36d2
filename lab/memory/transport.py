"""The in-memory driver of one server's :class:`~lab.core.exchange.queue.Transport` (``TransportDriver``'s twin).

It is the ``MessageSink`` of the server's sessions. Commands are executed as the live driver
executes them: ``Track`` into the lab's tracking list, ``DeliverLocal`` into the mailbox store
(answered at once); ``ResolveMx`` / ``ResolveHosts`` (against the world's zones) and ``Connect``
(the in-memory client) run as deferred work, as the live driver runs them as lab tasks;
``RequestWakeup`` goes to the lab's timer heap. None of it takes lab time. Nothing of an in-memory lab outlives it (no
restart takes a message back): the transport keeps no spool (``spool=False``: no ``Persist`` /
``Checkpoint`` / ``Release``, which the live driver writes to disk).
"""
from __future__ import annotations

import math
from functools import partial
from heapq import heappush
from itertools import islice
from typing import TYPE_CHECKING, Any, Iterator

from lab.core.dns_resolution import MxResult, Target, resolve_host, resolve_mx
from lab.core.exchange import outcomes as O
from lab.core.exchange.outcomes import Connect, DeliverLocal, RequestWakeup, ResolveHosts, ResolveMx, Track, Tracks
from lab.core.exchange.queue import Transport
from lab.core.exchange.queue_records import SubmitResult
from lab.core.world_views import directory_for, send_connectors_for
from lab.memory.client import ExchangeClient

if TYPE_CHECKING:
    from lab.memory.lab import MemoryLab


# Resolutions per (zone set, question): a ZoneSet is immutable (a DNS edit makes a new one) and
# resolution against it is pure, so the answers of the world's current set are remembered (MX
# answers per domain, host answers per host name; both dropped together when the set changes).
_MX_ANSWERS: dict[str, MxResult] = {}
_HOST_ANSWERS: dict[str, MxResult] = {}
_ANSWERS_OF: list[object] = [None]  # the ZoneSet the answers came from (held: its id is never reused)


def _answers(zones: Any) -> None:
    """Forget the answers unless they came from ``zones`` (and are not too many)."""
    if _ANSWERS_OF[0] is not zones or len(_MX_ANSWERS) + len(_HOST_ANSWERS) > 4096:
        _MX_ANSWERS.clear()
        _HOST_ANSWERS.clear()
        _ANSWERS_OF[0] = zones


def _resolve_mx(zones: Any, domain: str) -> MxResult:
    _answers(zones)
    found = _MX_ANSWERS.get(domain)
    if found is None:
        found = _MX_ANSWERS[domain] = resolve_mx(zones, domain)
    return found


def _resolve_host(zones: Any, host: str) -> MxResult:
    _answers(zones)
    found = _HOST_ANSWERS.get(host)
    if found is None:
        found = _HOST_ANSWERS[host] = resolve_host(zones, host)
    return found


#: The outcome of every ``DeliverLocal`` (the mailbox stored it): a frozen record of defaults, equal
#: to a new ``O.Delivered()`` (the transport only reads it), made once.
_STORED = O.Delivered()

#: A memory-lab fast-forward through a stretch of lab time in which one queue retries the same
#: failing resolution and nothing else happens (:meth:`MemoryTransport._wake`); off: every retry
#: goes event by event (the differential test compares both).
FAST_RETRIES = True


class _Built:
    """``MemoryTransport.transport`` when none was given: the server's transport, built from the
    lab's world when first read (then an instance attribute, read as any other).

    A transport no event has reached holds nothing a world change acts on: the change gives it the
    new world's directory and send connectors (and has nothing waiting to route again), which is
    what one built from that world starts with; so a server nobody sends to or looks at costs nothing."""

    def __get__(self, service: "MemoryTransport | None", owner: type | None = None) -> Any:
        if service is None:
            return self
        lab, node = service.lab, service.node
        world = lab._world
        transport = Transport(world.server(node).server, directory_for(world, node), send_connectors_for(world, node),
                              lab.settings, boot=f"memory/{node}", spool=False)
        # (set as attributes, not through __dict__: reading ``__dict__`` would give the service a
        # split dict, whose attribute reads CPython 3.11 does not specialise; the service's own
        # methods read ``_transport``, a name no class attribute shadows, which it specialises)
        service.transport = service._transport = transport
        service.built = True
        return transport


def _skip(numbers: "Iterator[int]", n: int) -> None:
    """Take ``n`` numbers of ``numbers`` (a timer sequence), at once: ``islice`` skips ``n - 1`` and
    ``next`` takes the last (none when ``n`` < 1)."""
    if n > 0:
        next(islice(numbers, n - 1, None))


class MemoryTransport:
    """Runs the transport of ``node`` inside a :class:`MemoryLab`.

    Attributes:
        transport: the core transport (made with ``spool=False``).
    """

    def __init__(self, lab: "MemoryLab", node: str, transport: Transport | None = None):
        self.lab, self.node = lab, node
        #: the transport exists (a server no event or look has reached yet has none)
        self.built = transport is not None
        self._transport = transport  # (None until built: see _Built)
        if transport is not None:
            self.transport = transport  # (else built when first read: see _Built)
        self._client: ExchangeClient | None = None
        self._running = False
        # Lab times a wakeup is pending for: one timer per time. The transport asks again for a time
        # it already asked for (each attempt of a queue re-requests the message's next deadline);
        # a second wakeup at the same lab time would find it settled there and do nothing.
        self._wakes: set[float] = set()

    transport = _Built()

    @property
    def client(self) -> ExchangeClient:
        """The server's outbound SMTP client, made at its first ``Connect`` (most servers of a lab
        never send one)."""
        client = self._client
        if client is None:
            client = self._client = ExchangeClient(self.lab, self.node)
        return client

    def submit(self, msg: Any) -> SubmitResult:
        """``MessageSink.submit``: queue the message (spooled when this returns)."""
        transport = self._transport
        if transport is None:
            transport = self.transport
        result = transport.submit(msg, self.lab._now)
        self.run()
        return result

    def run(self) -> None:
        """Execute the transport's commands until none are left (network work is deferred)."""
        transport = self._transport
        if transport is None:
            transport = self.transport
        out = transport._out
        if self._running or not out:  # (nothing emitted: pop_commands would give nothing)
            return
        self._running = True
        try:
            tracks = self.lab._tracks
            while out:  # (transport.pop_commands(), inline: its list taken, an empty one left)
                transport._out = []
                for cmd in out:
                    # the most frequent kinds inline, as _execute runs them, without its frame
                    kind = cmd.__class__
                    if kind is Track:  # lab.track(cmd)
                        tracks.append(cmd)
                    else:
                        self._execute(cmd)
                out = transport._out
        finally:
            self._running = False

    def _execute(self, cmd: O.Command) -> None:
        # commands are plain records of their exact types: no isinstance walk, most frequent first;
        # deferred work and timers are bound methods (partial), resolved when they run
        kind = cmd.__class__
        if kind is RequestWakeup:
            at = cmd.at
            if at not in self._wakes:
                self._wakes.add(at)
                lab = self.lab  # lab.wake_at, inline
                heappush(lab._timers, (at, next(lab._seq), partial(self._wake, at)))
        elif kind is ResolveMx:
            self.lab._work.append(partial(self._resolve_mx, cmd))  # lab.defer, inline
        elif kind is Track:  # its event is built when someone reads it
            self.lab.track(cmd)
        elif kind is DeliverLocal:
            lab = self.lab
            for rcpt in cmd.recipients:
                lab.mailboxes.deliver(rcpt, cmd.data)
            self._transport.delivery_result(cmd.queue, _STORED, lab._now, items=(cmd.item,))
        elif kind is ResolveHosts:
            self.lab.defer(partial(self._resolve_hosts_now, cmd))
        elif kind is Connect:
            self.lab.defer(partial(self._connect, cmd))
        elif kind is Tracks:  # (a fast-forward's run of Track commands: made when someone reads them)
            self.lab.track_run(cmd)
        # EmitDsn (for observers) needs nothing here, nor would Persist / Checkpoint / Release (a
        # transport given to the driver may keep a spool: there is none here to keep in step).

    def _resolve_mx(self, cmd: ResolveMx) -> None:
        """The deferred answer to ``ResolveMx``, against the world's zones when it runs."""
        lab = self.lab
        zones = lab._world.zones
        answer = _MX_ANSWERS.get(cmd.domain) if _ANSWERS_OF[0] is zones else None
        if answer is None:
            answer = _resolve_mx(zones, cmd.domain)
        self._transport.resolution_result(cmd.queue, answer, lab._now)
        self.run()

    def _resolve_hosts_now(self, cmd: ResolveHosts) -> None:
        """The deferred answer to ``ResolveHosts``."""
        self._resolved(cmd.queue, self._resolve_hosts(cmd))

    def _resolved(self, queue: str, result: MxResult) -> None:
        self._transport.resolution_result(queue, result, self.lab._now)
        self.run()

    def _resolve_hosts(self, cmd: O.ResolveHosts) -> MxResult:
        targets: list[Target] = []
        error = None
        for host in cmd.hosts:
            if host.startswith("[") and host.endswith("]"):
                targets.append(Target(host, 0, (host[1:-1],)))
                continue
            result = _resolve_host(self.lab._world.zones, host)
            if result.error:
                error = error or result.error
            targets.extend(result.targets)
        return MxResult(",".join(cmd.hosts), tuple(targets), None if targets else error)

    def _connect(self, cmd: O.Connect) -> None:
        for items, outcome in self.client.deliver(cmd):
            self._transport.delivery_result(cmd.queue, outcome, self.lab._now, items=items)
        self.run()

    def _wake(self, at: float) -> None:
        self._wakes.discard(at)
        lab = self.lab
        transport = self._transport
        if FAST_RETRIES and lab._until >= at and not lab._work and not self._running:
            # Fired by MemoryLab.advance: while nothing else is due (no other timer before the next
            # one's time, none past the advance's target), a queue retrying the same failed
            # resolution needs no round trip per retry (Transport.failing_retries does them all).
            timers = lab._timers
            times = transport.failing_retries(lab._now, self._mx_answer, lab._until,
                                              timers[0][0] if timers else math.inf)
            if times is not None:
                # (the timer each retry but the last asked for, pushed and fired in turn, took a number)
                _skip(lab._seq, len(times) - 1)
                lab.now = times[-1]
                # its commands: the retries' Track commands as one Tracks, then the last one's RequestWakeup if any
                for cmd in transport.pop_commands():
                    self._execute(cmd)
                return
        transport.wakeup(lab._now)
        self.run()

    def _mx_answer(self, domain: str) -> MxResult:
        """What the deferred ``ResolveMx`` of ``domain`` would be answered now (:meth:`_resolve_mx`)."""
        zones = self.lab._world.zones
        answer = _MX_ANSWERS.get(domain) if _ANSWERS_OF[0] is zones else None
        return answer if answer is not None else _resolve_mx(zones, domain)
