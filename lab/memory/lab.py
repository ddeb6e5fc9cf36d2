"""MemoryLab: the whole lab world in memory, on a virtual clock (no sockets, no asyncio).

Every Exchange server's :class:`~lab.core.exchange.queue.Transport` runs under a
:class:`~lab.memory.transport.MemoryTransport`, EOP under :class:`~lab.memory.eop.MemoryEop`;
connections go through the :class:`~lab.memory.network.Switchboard` (network model, then the
landing node's session). Work the live driver runs as lab tasks is deferred here and drained
before a call returns, so a delivery takes zero lab time; :meth:`MemoryLab.advance` moves the
clock, firing due wakeups in order (transport retries, delay DSNs, expiry; EOP's queue every
lab minute, as the live lab looks at it).
"""
from __future__ import annotations

import heapq
import itertools
import math
import operator
from collections import deque
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence

from lab.core.exchange.outcomes import Track, Tracks
from lab.core.exchange.queue_records import MessageView, QueueView, TrackingEvent, TransportSettings
from lab.core.tls import CertFacts
from lab.core.world import World
from lab.memory.eop import MemoryEop
from lab.memory.network import Switchboard
from lab.memory.probe import converse, raw_dialogue
from lab.memory.results import SendResult
from lab.memory.transport import MemoryTransport
from lab.memory.trust import Trust
from lab.core.world_views import directory_for, eop_world, send_connectors_for

EOP_TICK = 60.0  # the live lab looks at EOP's queue every lab minute


class Mailboxes:
    """Every mailbox of the in-memory lab: address (lower-case) -> messages, oldest first."""

    def __init__(self) -> None:
        self.boxes: dict[str, list[bytes]] = {}

    def deliver(self, address: str, data: bytes) -> None:
        self.boxes.setdefault(address.strip().lower(), []).append(bytes(data))

    def messages(self, address: str, since: int = 0) -> list[bytes]:
        """The messages of ``address``, oldest first (from the ``since``-th one on)."""
        return list(self.boxes.get(address.strip().lower(), ())[since:])

    def count(self, address: str) -> int:
        """How many messages ``address`` has received."""
        return len(self.boxes.get(address.strip().lower(), ()))


class MemoryLab:
    """The lab world in memory.

    Args:
        world: the configuration (``World.from_topology(topology, trust.certificates)``).
        trust: certificate facts and trust (:func:`lab.memory.trust.trust_from_pki`).
        start: the datetime of lab second 0 (``topology.settings.clock_start``).
        settings: the transports' timers (default: Exchange's, dated from ``start``).
    """

    def __init__(self, world: World, trust: Trust, start: datetime, settings: TransportSettings | None = None):
        self.trust = trust
        self.start = start
        # (the wires and raw conversations read _now_dt, as an attribute, at each event)
        self._now, self._now_dt = 0.0, start
        self.settings = settings or TransportSettings(epoch=start)
        self.mailboxes = Mailboxes()
        # Tracking: the transports' Track commands in order, each event built when first read
        # (O.Track.later), a fast-forward's run of them as one Tracks entry (its Track commands made
        # when read); :attr:`events` builds the ones not read yet (the first _read entries are in).
        self._events: list[TrackingEvent] = []
        self._tracks: list[Track | Tracks] = []
        self._read = 0
        # The entries of _tracks by message id (what :meth:`tracking` reads), indexed when it is
        # called: the first _indexed entries of _tracks are in, in order.
        self._tracking: dict[str, list[Track | Tracks]] = {}
        self._indexed = 0
        self._work: deque[Callable[[], None]] = deque()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._eop_ticks: set[tuple[str, float]] = set()
        self._until = -math.inf  # while advance runs: its target (the last lab time it fires timers for)
        self._world = world
        self.transports: dict[str, MemoryTransport] = {}
        for node in world.servers:  # (each server's transport is built when first needed)
            self.transports[node] = MemoryTransport(self, node)
        self.eop = {h.name: MemoryEop(self, h.name, eop_world(world, h.name))
                    for h in world.topology.hosts_of_kind("eop")}
        self.switchboard = Switchboard(self)

    def close(self) -> None:
        """Let go of the services, the timers and the pending work (each holds this lab): a lab no
        longer driven is then freed by reference counting as soon as it is dropped, instead of
        waiting, with everything it made, for the cyclic garbage collector. What it recorded
        (mailboxes, tracking events, queued views already taken) stays readable; it cannot be
        driven again."""
        self.transports = {}
        self.eop = {}
        self._timers = []
        self._work.clear()
        self._eop_ticks = set()
        self.switchboard.reset()  # (its remembered dials hold the lab in closures)
        self.switchboard = None  # type: ignore[assignment]

    # -- the world -------------------------------------------------------------------------------
    def _set_world(self, world: World) -> None:
        old, self._world = self._world, world
        self.switchboard.reset()
        for node, service in self.transports.items():
            if not service.built:  # (not built: it will be from the world then in force)
                continue
            transport = service._transport
            state = world.servers[node]
            if old.servers.get(node) is not state or old.orgs.get(state.org) is not world.orgs[state.org]:
                # the server or its organization changed: its directory and connectors read again
                transport.directory = directory_for(world, node)
                transport.set_connectors(send_connectors_for(world, node), self._now)
            else:  # (both read from these two immutable objects only: the same as before)
                transport.reroute_waiting(self._now)  # (waiting items are routed again either way)
            service.run()
        if (world.topology is not old.topology or world.tenants is not old.tenants
                or world.banned_ips is not old.banned_ips):  # (what eop_world reads)
            for node, service in self.eop.items():
                service.world = eop_world(world, node)
        self.run()

    # (the getter is a C attrgetter, no Python frame; still a property read costs ~400 instructions more
    # than the attribute, so the memory driver's own modules and the console host read ``_world``)
    world = property(operator.attrgetter("_world"), _set_world,
                     doc="The configuration in force; assigning a new World applies it at once (like ``Lab.world``).")

    # -- time and work ---------------------------------------------------------------------------
    def _set_now(self, seconds: float) -> None:
        if seconds != self._now:
            self._now, self._now_dt = seconds, self.start + timedelta(seconds=seconds)

    # Lab seconds since ``start`` (a C attrgetter, no Python frame; the lab itself reads ``_now``);
    # setting it moves :meth:`now_datetime` with it.
    now = property(operator.attrgetter("_now"), _set_now, doc="Lab time in seconds since ``start``.")

    def now_datetime(self) -> datetime:
        """Lab time as an aware datetime (the same object while lab time stands still)."""
        return self._now_dt

    def defer(self, work: Callable[[], None]) -> None:
        """Run ``work`` after the current step (the live driver's lab task); it takes no lab time."""
        self._work.append(work)

    def wake_at(self, at: float, work: Callable[[], None]) -> None:
        """Run ``work`` when lab time reaches ``at`` (a ``RequestWakeup``)."""
        heapq.heappush(self._timers, (at, next(self._seq), work))

    def eop_wakeup(self, node: str, timestamp: float) -> None:
        """EOP's next attempt is due at ``timestamp``: run its queue at the first lab minute after it."""
        due = timestamp - self.start.timestamp()
        tick = max(self._now, math.ceil(due / EOP_TICK - 1e-9) * EOP_TICK)
        if (node, tick) not in self._eop_ticks:
            self._eop_ticks.add((node, tick))
            self.wake_at(tick, lambda: self._eop_tick(node, tick))

    def _eop_tick(self, node: str, tick: float) -> None:
        self._eop_ticks.discard((node, tick))
        self.eop[node].run_due()

    def run(self) -> None:
        """Drain every piece of deferred work (zero lab time)."""
        work = self._work
        while work:
            work.popleft()()

    def advance(self, seconds: float) -> None:
        """Move lab time forward, firing due wakeups in order (each one's work drained before the next)."""
        target = self._now + seconds
        self.run()
        pending, timers, start = self._work, self._timers, self.start
        self._until = target
        try:
            while timers and timers[0][0] <= target:
                at, _, work = heapq.heappop(timers)
                if at > self._now:  # self.now = at, inline
                    self._now, self._now_dt = at, start + timedelta(seconds=at)
                work()
                if pending:
                    self.run()
        finally:
            self._until = -math.inf
        self.now = max(self._now, target)

    def track(self, event: TrackingEvent | Track) -> None:
        """A message tracking event (or a transport's ``Track`` command: its event is built when read)."""
        self._tracks.append(event if event.__class__ is Track else Track(event))

    def track_run(self, run: Tracks) -> None:
        """:meth:`track` for each of the ``Track`` commands of ``run`` (a transport's fast-forward),
        in order: held as one entry (in the tracking of each of its messages), read when asked for."""
        self._tracks.append(run)

    def _index_tracking(self) -> dict[str, list[Track | Tracks]]:
        """The tracking entries by message id, each message's in order: the entries of ``_tracks``
        not indexed yet added now (a ``Tracks`` run under each of its messages)."""
        tracking, tracks = self._tracking, self._tracks
        if self._indexed < len(tracks):
            for entry in tracks[self._indexed:]:
                for message_id in ((entry.message_id,) if entry.__class__ is Track else entry.message_ids):
                    found = tracking.get(message_id)
                    if found is None:
                        tracking[message_id] = [entry]
                    else:
                        found.append(entry)
            self._indexed = len(tracks)
        return tracking

    @property
    def events(self) -> list[TrackingEvent]:
        """Every tracking event so far, in order (the same list object, grown as events happen)."""
        events, tracks, read = self._events, self._tracks, self._read
        if read < len(tracks):
            events.extend(t.event for entry in tracks[read:]
                          for t in ((entry,) if entry.__class__ is Track else entry.tracks))
            self._read = len(tracks)
        return events

    # -- acting as a host ------------------------------------------------------------------------
    def send(self, source_node: str, server: str, port: int, mail_from: str, rcpt_tos: Sequence[str],
             data: bytes, tls: bool = False, auth: tuple[str, str] | None = None,
             client_certificate: str | CertFacts | None = None, helo: str | None = None, record: bool = True,
             rcpt_params: str = "", judge_server: Callable[[CertFacts | None], str] | None = None,
             result: Callable[..., Any] = SendResult) -> Any:
        """Submit a message from ``source_node`` to ``server`` (virtual IP or host name) and run it
        through to its final disposition (every delivery it causes, at the current lab time).

        ``client_certificate`` is a certificate name or its facts; ``rcpt_params``, ``judge_server``
        and ``result`` (what is returned: a :class:`SendResult` by default) are
        :func:`lab.memory.probe.converse`'s."""
        cert = self.trust.certificates.get(client_certificate) if isinstance(client_certificate, str) \
            else client_certificate
        sent = converse(self, source_node, server, port, mail_from, tuple(rcpt_tos), data, tls=tls, auth=auth,
                        client_certificate=cert, helo=helo or source_node, record=record, rcpt_params=rcpt_params,
                        judge_server=judge_server, result=result)
        self.run()
        return sent

    def telnet(self, source_node: str, host: str, port: int, lines: Sequence[str]) -> list[str]:
        """A raw dialogue: each line as typed; ``DATA`` ... ``.`` sends a body; returns the transcript."""
        transcript = raw_dialogue(self, source_node, host, port, lines)
        self.run()
        return transcript

    # -- observing -------------------------------------------------------------------------------
    def mailbox(self, address: str, since: int = 0) -> list[bytes]:
        """The messages delivered to ``address``, oldest first (``since``: only those after the
        first ``since``, e.g. the ones a send delivered, with :meth:`mailbox_count` taken before it)."""
        return self.mailboxes.messages(address, since)

    def mailbox_count(self, address: str) -> int:
        """How many messages ``address`` has received so far."""
        return self.mailboxes.count(address)

    def queues(self, node: str, nonempty: bool = False) -> tuple[QueueView, ...]:
        """Get-Queue on ``node`` (``nonempty``: only the queues that hold a message)."""
        return self.transports[node].transport.queues(nonempty)

    def messages(self, node: str) -> tuple[MessageView, ...]:
        """Get-Message on ``node``."""
        return self.transports[node].transport.messages()

    def eop_queue(self, node: str | None = None) -> tuple[Any, ...]:
        """EOP's queued items (``lab.core.eop.queue.QueuedItem``)."""
        services = [self.eop[node]] if node else list(self.eop.values())
        return tuple(p.item for s in services for p in s.pending)

    def tracking(self, message_id: str) -> list[TrackingEvent]:
        """Every tracking event of ``message_id``, in order."""
        return [t.event for entry in self._index_tracking().get(message_id, ())
                for t in ((entry,) if entry.__class__ is Track else entry.of(message_id))]

    def retry_queue(self, node: str, identity: str, resubmit: bool = False) -> None:
        """Retry-Queue ``identity`` on ``node`` now."""
        service = self.transports[node]
        service.transport.retry_queue(identity, self._now, resubmit)
        service.run()
        self.run()
