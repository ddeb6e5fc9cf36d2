"""The on-premises Exchange transport as a sans-I/O state machine: queues, retries, DSNs, tracking.

Theory of operation. :meth:`Transport.submit` routes each recipient (:func:`routing.next_hop`)
and puts one item per (message, next hop) in that hop's queue. Events go in, commands come
out (:meth:`Transport.pop_commands`, in order):

- ``Persist`` first, so the driver spools the message before the 250 goes out;
- a Ready queue starts an attempt: ``ResolveMx``/``ResolveHosts`` (connector queues, answered
  by :meth:`resolution_result`), then ``Connect`` with every item of the queue in ONE session,
  or ``DeliverLocal`` per item (mailbox queue); both answered by :meth:`delivery_result`;
- a :class:`outcomes.Transient` puts the queue in Retry with Exchange's LastError and a
  ``RequestWakeup(next retry)``; a :class:`outcomes.Permanent` bounces the recipients (NDR);
- :meth:`wakeup` fires due retries, the delay DSN (4 h) and expiry (2 days);
- every step lands in the message's :class:`Trace` and in ``Track`` events; ``Checkpoint``
  and ``Release`` keep the spool in step (a message leaves it once every recipient is done);
  a transport made with ``spool=False`` (a driver that keeps no spool) emits none of those three.

The transport never reads a clock: every event carries ``now`` (lab seconds).
"""
from __future__ import annotations

import bisect
import functools
import itertools
import math
import operator
import uuid
from typing import Any, Iterable, Sequence

from lab.core.catalogue import Reply
from lab.core.catalogue import exchange_queue as C
from lab.core.exchange import dsn as D
from lab.core.exchange import outcomes as O
from lab.core.exchange import queue_views as V
from lab.core.exchange import routing as R
from lab.core.exchange.queue_records import (MessageView, QueuedMessage, QueueView, SubmitResult, TrackingEvent,
                                             TransportSettings)
from lab.core.exchange.queue_views import ACTIVE, READY, RETRY, SUSPENDED, ItemState, QueueState
from lab.core.exchange.send_connector import SendConnector
from lab.core.fastpath import evolve, uuid5_text
from lab.core.trace import Step, Trace

__all__ = ["ACTIVE", "READY", "RETRY", "SUSPENDED", "Transport"]
_NS = uuid.UUID("9d7c3a52-6f0e-4e8e-b7f1-6c61622d6d73")
# (C-level getters for the loops that take one field of each: an item's (original, envelope)
# recipient pairs, the connectors' size limits)
_first, _second = operator.itemgetter(0), operator.itemgetter(1)
_max_message_size = operator.attrgetter("max_message_size")


#: The Unreachable queue's next hop (every transport's: a frozen record of constants, made once).
_UNREACHABLE_HOP = R.NextHop(R.UNREACHABLE, str(C.UNREACHABLE_DOMAIN), None, "")
_UNREACHABLE_KEY = _UNREACHABLE_HOP.key
#: Transport._settled_at before the transport's first event
_UNTOUCHED: Any = object()


class Transport:
    """One Exchange server's transport. See the module docstring for the event/command contract.

    Args:
        server: the server (``name`` and ``fqdn`` attributes, e.g. ``ExchangeServer``).
        org: a :class:`routing.Directory`, or an organization with ``accepted_domains``,
            ``mailboxes`` and optionally ``remote_mailboxes``.
        connectors: the organization's send connectors.
        settings: timers and defaults.
        boot: a token unique to this start of the server (the driver passes a random one), mixed
            into generated Message-IDs so that they never repeat across restarts.
        spool: the driver keeps a durable spool (``Persist`` / ``Checkpoint`` / ``Release`` keep it in
            step). False for a driver with nothing to keep across a restart (the in-memory lab): those
            commands are then not emitted (every other command, and their order, is the same).
    """

    _standing_max = 64  # how many times asked for may be kept before those passed are forgotten

    def __init__(self, server: Any, org: Any, connectors: Sequence[SendConnector],
                 settings: TransportSettings = TransportSettings(), boot: str = "",
                 spool: bool = True):
        self.name = str(getattr(server, "name")).upper()
        self.fqdn = str(getattr(server, "fqdn", "") or self.name.lower())
        self.directory = org if isinstance(org, R.Directory) else R.Directory.build(
            getattr(org, "accepted_domains", ()), getattr(org, "mailboxes", ()), getattr(org, "remote_mailboxes", ()))
        self.connectors = {c.name: c for c in connectors}
        self.settings = settings
        self.boot = boot
        self._spool = spool
        self._messages: dict[int, QueuedMessage] = {}
        self._traces: dict[int, _TraceLog] = {}  # the trace of each message held, built when read
        self._queues: dict[int, QueueState] = {}
        self._items: dict[int, ItemState] = {}
        self._held: dict[int, int] = {}  # internal id -> how many of _items are that message's
        self._out: list[O.Command] = []
        self._next_internal = settings.first_internal_id
        self._next_item = 1
        self._next_queue = 1
        self._requested: float | None = None
        # The times asked for (RequestWakeup): those after every wakeup's time so far (_woken) stand,
        # as the driver holds a timer for each (it calls wakeup at or after that time), so asking for
        # one again adds nothing. (A time up to _woken is not known to stand: asked for again.)
        self._standing: set[float] = set()
        self._woken = -math.inf
        # The lab time of the last settle, while nothing happened since (every event ends with one): a
        # settle again at that instant would do nothing (its passes found nothing more to do then).
        # Before the first one (no event yet: _UNTOUCHED) a settle at any instant does nothing either:
        # there is no message, no item, and no queue but Unreachable (which is never removed).
        self._settled_at: Any = _UNTOUCHED
        # Indexes over the queues, so that an event costs O(what it touches) and not O(queues): a
        # server keeps one queue per next hop it has used (until QueueMaxIdleTime), which a flow
        # matrix makes dozens of while lab time stands still.
        # hop key -> its (only) queue, and identity (as :meth:`identity` writes it) -> its queue: one
        # dict for both (a hop key is a tuple, an identity a string: never equal)
        self._index: dict[tuple[str, str, str] | str, QueueState] = {}
        self._retrying: set[int] = set()  # numbers of queues put in Retry (a superset: checked on use)
        self._occupied: set[int] = set()  # numbers of the queues that hold an item (busy ones too)
        self._idle_low = math.inf  # <= the IdleSince of every queue that has one (a lower bound)
        self._message_due = math.inf  # <= when any held message's delay DSN or expiry falls due (a lower bound)
        # The delay DSN and expiry times of the messages held, sorted (what _next_deadline reads of
        # them); None when to be worked out again: set so by every change of _messages or of the
        # messages in _held (admission, a message's last item gone or its first one queued, a
        # delay DSN sent, a release).
        self._marks: list[float] | None = []
        # (_next_hop's memo: directory, connectors mapping, smallest MaxMessageSize, the connectors, answers)
        self._hops: tuple[Any, Any, float, tuple[SendConnector, ...], dict[tuple[str, int | None], R.Decision]] = (
            None, None, 0, (), {})
        self._submission: QueueView | None = None  # Get-Queue's Submission queue (queue_views), once asked for
        # The Unreachable queue (number 0), made when first needed (an item routed to it, a look at it):
        # None until then. An Unreachable queue with no item is never started, timed or shown, and
        # index but _queues/_index holds it, so a transport without one acts as one with an
        # empty one; once made it stands where it was made before, first in _queues (see _unreachable_queue).
        self._unreach: QueueState | None = None

    @property
    def _unreachable(self) -> QueueState:
        """The Unreachable queue (made now if it is not yet)."""
        q = self._unreach
        return q if q is not None else self._unreachable_queue()

    def _unreachable_queue(self) -> QueueState:
        """Make the Unreachable queue, as the transport's first queue (number 0, created idle at 0.0)."""
        q = self._unreach
        if q is not None:
            return q
        q = self._unreach = QueueState(0, _UNREACHABLE_HOP, idle_since=0.0, identity=self._identity_of(0))
        queues = self._queues
        rest = list(queues.items())  # (the dict itself stays: callers may hold it)
        queues.clear()
        queues[0] = q
        queues.update(rest)
        self._index[_UNREACHABLE_KEY] = q
        self._index[q.identity] = q
        self._idle_low = min(self._idle_low, 0.0)
        return q

    # --- events in ----------------------------------------------------------------------------------------
    def submit(self, msg: Any, now: float) -> SubmitResult:
        """Accept a message (``MessageSink.submit``): queue it and emit ``Persist`` first.

        Args:
            msg: an accepted message (``mail_from``, ``rcpt_tos``, ``data``; see ``AcceptedMessageLike``).
            now: lab seconds.
        """
        internal_id = self._take_internal_id()
        data = bytes(msg.data)
        message_id = str(getattr(msg, "message_id", "") or "") or str(D.original_headers(data).get("Message-ID", "") or "")
        if not message_id:
            message_id = f"<{uuid5_text(_NS, f'{self.fqdn}/{self.boot}/{internal_id}')}@{self.fqdn}>"
            data = f"Message-ID: {message_id}\r\n".encode() + data
        # (internal_id, message_id, mail_from, recipients, data, received_at, source, source_ip, connector,
        # done, delay_dsn_sent, dsn_of: positional, without the keywords' matching)
        record = QueuedMessage(internal_id, message_id, str(msg.mail_from or ""), tuple(msg.rcpt_tos), data, now,
                               str(getattr(msg, "source", "SMTP") or "SMTP"), str(getattr(msg, "source_ip", "") or ""),
                               str(getattr(msg, "connector", "") or ""), (), False, getattr(msg, "dsn_of", None))
        if self._spool:
            self._out.append(O.Persist(record))
        self._admit(record, now, "accepted")
        self._settle(now)
        return SubmitResult(message_id, internal_id)

    def restore(self, record: QueuedMessage, now: float) -> None:
        """Take back a spooled message after a restart (no ``Persist``, no RECEIVE event)."""
        self._next_internal = max(self._next_internal, record.internal_id + 1)
        self._admit(record, now, "reloaded from the spool")
        self._settle(now)

    def resolution_result(self, queue: str, result: Any, now: float) -> None:
        """The answer to ``ResolveMx``/``ResolveHosts``: an ``MxResult`` (``error``, ``targets``)."""
        q = self._index.get(queue)  # self._queue(queue), its first lookup inline (the command's own identity)
        if q is None:
            q = self._queue(queue)
        if q is None or not q.busy or q.hop.connector is None:
            return
        conn = self.connectors.get(q.hop.connector)
        if conn is None:
            busy, q.busy, q.status = list(q.busy), set(), READY
            self._reroute(busy, now)
            self._settle(now)
            return
        error = getattr(result, "error", None)
        if error:
            settled = self._settled_at == now
            outcome = _dns_failure(error, conn.dns_routing_enabled, conn.downgrades_dns_failures, q.hop.next_hop_domain)
            self._step_all(q, "fidelity §6", outcome.detail, now)
            self._apply(q, outcome, list(q.busy), now)
            if (settled and outcome.__class__ is O.Transient and q.status == RETRY and q.next_retry is not None
                    and q.next_retry > now and now < self._message_due):
                # The transport was left settled at this instant, and all this event changed is this
                # queue, now in Retry until later with its items waiting (a transient failure): a pass
                # would find it not due, every other queue as the last settle left it, and no message
                # due (only the wakeup it asks for is new). The settle left the wakeup requested at or
                # before every deadline after now (or none requested after now when there was none):
                # the next one is this retry when it comes first.
                requested, at = self._requested, q.next_retry
                if requested is None or requested <= now or at < requested:
                    self._request(at)
                return
            self._settle(now)
            return
        port = conn.port
        targets = tuple([O.Endpoint(t.host, ip, port) for t in result.targets for ip in t.addresses])
        domain = conn.tls_domain or (q.hop.next_hop_domain if conn.dns_routing_enabled else None)
        policy = O.TlsPolicy(conn.require_tls, conn.ignore_starttls, conn.tls_auth_level, domain,
                             conn.tls_certificate_name)
        messages, items = self._messages, self._items
        envelopes = []
        for i in sorted(q.busy):
            item = items[i]
            record = messages[item.internal_id]
            envelopes.append(O.Envelope(i, record.mail_from, tuple(map(_second, item.recipients)), record.data))
        envelopes = tuple(envelopes)
        self._chunk_all(q, (self.name, _resolve_step, (targets, now)))
        self._out.append(O.Connect(q.identity, self.name, conn.fqdn or self.fqdn, targets, policy, envelopes))

    def delivery_result(self, queue: str, outcome: O.Outcome, now: float, items: Iterable[int] | None = None) -> None:
        """The outcome of ``Connect`` (per envelope, or for the whole attempt) or ``DeliverLocal``."""
        q = self._index.get(queue)  # self._queue(queue), its first lookup inline (the command's own identity)
        if q is None:
            q = self._queue(queue)
        if q is None:
            return
        ids = [i for i in (q.busy if items is None else items) if i in q.busy]
        if ids:
            settled = self._settled_at == now
            self._apply(q, outcome, ids, now)
            if (settled and outcome.__class__ is O.Delivered and not outcome.refused and not outcome.deferred
                    and now < self._message_due):
                # The transport was left settled at this instant, and all this event changed is that
                # items of this queue were taken (and their messages checkpointed or released): no item
                # queued, no message admitted, no queue put in Retry. A pass would find what the last
                # settle left (nothing to do: no message due, every other queue as it was) and this
                # queue busy still, or empty and Ready since now (not idle past QueueMaxIdleTime when
                # that is positive and no sweep is due). The deadlines are those the settle left, less
                # the marks of the messages released, and, for an empty queue, its idle time: the
                # settle left the wakeup requested at or before every deadline after now (or none
                # requested after now when there was none), so only that idle time may be asked for.
                if q.busy:
                    return
                max_idle = self.settings.queue_max_idle_time
                if not q.items and q.status == READY and max_idle > 0 and now < self._idle_low + max_idle:
                    requested, at = self._requested, q.idle_since + max_idle
                    if requested is None or requested <= now or at < requested:
                        self._request(at)
                    return
        self._settle(now)

    def wakeup(self, now: float) -> None:
        """Lab time reached a requested wakeup: fire due retries, delay DSNs and expiries."""
        requested = self._requested
        if requested is not None and requested <= now:
            self._requested = None
        if now > self._woken:  # (the times up to now may have fired; only later ones surely stand)
            self._woken = now
        self._settle(now)

    def failing_retries(self, now: float, answer: Any, until: float, before: float) -> list[float] | None:
        """A driver's fast-forward: :meth:`wakeup` at ``now``, answered by ``answer(domain)`` (the
        driver's ``ResolveMx`` answer, the same one for every attempt), and so on for every retry
        that follows, while only this one queue's retry would happen: at each retry time after
        ``now`` that is before ``before`` (the driver's next other timer) and not after ``until``
        (where the driver stops), as if the driver had held a timer for each (it never fires them:
        every ``RequestWakeup`` but the last one's is left out, the ``Track`` commands stay in order,
        as one ``Tracks`` command).

        Returns the lab times of the retries done (``now`` first), each leaving exactly what
        :meth:`wakeup`, then :meth:`resolution_result` with that answer, leave; or None, having
        changed nothing, unless that wakeup would only start this one queue's attempt and the
        answer would fail it for now (then the driver takes the event-by-event path). The commands
        emitted are one ``Tracks`` (the retries' ``Track`` commands, in order, made when read), then
        at most one ``RequestWakeup``."""
        if (self._out or (self._requested is not None and self._requested > now) or now >= self._message_due
                or self._woken > now or self.__class__ is not Transport  # (a subclass may time otherwise,
                or self.settings.__class__ is not TransportSettings):  # and settings may delay otherwise)
            return None
        s = self.settings
        max_idle = s.queue_max_idle_time
        idle_end = self._idle_low + max_idle
        if now >= idle_end:  # (a sweep: every queue looked at)
            return None
        # the pass _fire_due_queues would make: it must only start one queue whose retry is due
        queues, unreachable, limit = self._queues, self._unreach, self._next_queue
        target: QueueState | None = None
        drop = []
        for n in sorted(self._occupied | self._retrying):
            if n >= limit:
                return None
            q = queues.get(n)
            if q is None:
                continue
            if q.busy:
                return None
            if q.status == RETRY:
                due = q.next_retry
                if due is not None and now >= due:
                    if target is not None:
                        return None
                    target = q
            else:
                drop.append(n)
                if q.status == READY and q.items and q is not unreachable:
                    return None
            if (not q.items and q is not unreachable and q.idle_since is not None
                    and now >= q.idle_since + max_idle):
                return None
        q = target
        if q is None or not q.items or q is unreachable or q.hop.delivery_type == R.TO_MAILBOX \
                or q.hop.connector is None or q.refused_error:
            return None
        conn = self.connectors.get(q.hop.connector)
        if conn is None or not conn.enabled or not conn.dns_routing_enabled:
            return None
        cmd = q.resolve_mx
        identity = cmd.queue if cmd is not None else q.identity
        if self._index.get(identity) is not q:
            return None
        items, messages, traces = self._items, self._messages, self._traces
        order = list(set(q.items))  # (the order of the attempt's busy set: set(q.items))
        if any(i not in items or items[i].internal_id not in messages for i in order):
            return None
        domain = q.hop.next_hop_domain
        error = getattr(answer(domain), "error", None)
        if not error:
            return None
        outcome = _dns_failure(error, conn.dns_routing_enabled, conn.downgrades_dns_failures, domain)
        if outcome.__class__ is not O.Transient:
            return None
        # what the wakeup's _schedule requests once the queue is busy (the same at every retry:
        # nothing it reads changes, and every retry falls before it): it must be a time already held
        q.status = ACTIVE
        other = self._next_deadline(now, math.inf)
        q.status = RETRY
        standing = self._standing
        if other is not None and other not in standing:
            return None
        # the retries: each one's next retry is the next one when nothing else comes first
        # (a next retry is one of them when before the driver's next timer, every other deadline,
        # the first message due, the first idle sweep; not after until; and not a time held already)
        bound = min(before, math.inf if other is None else other, self._message_due, idle_end)
        failures = q.failures
        # (n < bound and n <= until, as one comparison)
        limit = min(bound, math.nextafter(until, math.inf))
        head, steady = s.retry_schedule(failures + 1)  # (retry_delay(failures + 1), ...)
        times, last_next = _retry_times(now, head, steady, limit, standing)
        if not times:
            return None

        # -- from here on, every change the event-by-event path makes, in its order
        retrying = self._retrying
        for n in drop:
            retrying.discard(n)
        if cmd is None:
            q.resolve_mx = O.ResolveMx(identity, domain)
        name = self.name
        detail, why = outcome.detail, outcome.detail or "transient failure"
        last_error = outcome.last_error.line()
        statuses, connector = (last_error,), q.hop.connector or ""
        k = len(times)
        # Each retry adds to the log of every busy item's message one _step_all chunk per such item,
        # then one _apply chunk per such item (in the order of the attempt); each _apply chunk is
        # followed by the item's DEFER event, which reads the log as long as it is then. Those
        # chunks go in as one _Retries run per log (its Steps made when the log is read).
        shares: dict[int, list] = {}  # id(log) -> [log, its items so far]
        ranks = []
        for item_id in order:
            log = traces.get(items[item_id].internal_id)
            if log is None:
                ranks.append(None)
                continue
            share = shares.get(id(log))
            if share is None:
                share = shares[id(log)] = [log, 0]
            share[1] += 1
            ranks.append((share, share[1]))
        run_times = tuple(times)
        for log, a in shares.values():
            log.add_run(_Retries(name, run_times, (("fidelity §6", detail, None),) * a
                                 + (("transport.delivery", why, last_error),) * a))
        # the DEFER events, item by item within each retry (built when read, as _apply's are): one
        # Tracks command for the run (its Track commands made when read)
        runs = []
        for item_id, rank in zip(order, ranks):
            item = items[item_id]
            record = messages[item.internal_id]
            if rank is None:
                log, counts = None, (0,) * k
            else:
                (log, a), j = rank
                per_retry = 2 * a
                first = len(log.chunks) - per_retry * k + a + j  # (the run is in: the first retry's count)
                counts = range(first, first + per_retry * k, per_retry)
            common = (name, record, tuple(map(_first, item.recipients)), statuses, connector, log)
            runs.append((record.message_id, common, counts))
        self._out.append(O.Tracks(_retry_event, run_times, tuple(runs)))
        for item_id in order:  # (nothing reads them between the retries)
            item = items[item_id]
            item.last_error = last_error
            item.retry_count += k
        # each retry but the last requested the next (a time not held: asked for), the times held
        # being cut to those after the retry's time first whenever _standing_max of them are
        i, end, most = 0, k - 1, self._standing_max
        while i < end:
            if len(standing) >= most:
                t = times[i]
                standing = self._standing = set(filter(functools.partial(operator.lt, t), standing))  # (x > t)
            # (the next retries are new and distinct: each one added makes one more, up to _standing_max)
            j = min(end, i + max(1, most - len(standing)))
            standing.update(times[i + 1:j + 1])  # (the next retry of each: the retry after it)
            i = j
        now = times[-1]
        q.busy, q.status, q.attempt_failed = set(), RETRY, True
        q.failures = failures + len(times)
        if q.first_retry is None:
            q.first_retry = times[0]
        q.last_retry, q.next_retry, q.last_error = now, last_next, last_error
        retrying.discard(q.number)
        retrying.add(q.number)
        if now > self._woken:
            self._woken = now
        self._settled_at = now
        self._requested = other  # (the last wakeup's _schedule; then resolution_result's own request)
        requested, at = self._requested, q.next_retry
        if requested is None or requested <= now or at < requested:
            self._request(at)
        return times

    def retry_queue(self, identity: str, now: float, resubmit: bool = False) -> None:
        """Retry-Queue: try a Retry queue now (with ``resubmit``, route its messages again)."""
        q = self._queue_or_raise(identity)
        if resubmit or q is self._unreach:
            self._reroute([i for i in q.items if i not in q.busy], now)
        elif q.status == RETRY:
            q.status, q.next_retry = READY, None
        self._settle(now)

    def suspend_queue(self, identity: str, now: float, suspend: bool = True) -> None:
        """Suspend-Queue (``suspend=False``: Resume-Queue, back to Retry if its NextRetryTime is ahead)."""
        q = self._queue_or_raise(identity)
        if suspend:
            q.status = SUSPENDED
        elif q.status == SUSPENDED:
            waiting = q.next_retry is not None and q.next_retry > now
            q.status = ACTIVE if q.busy else (RETRY if waiting else READY)
            if q.status == RETRY:
                self._retrying.add(q.number)
        self._settle(now)

    def resume_queue(self, identity: str, now: float) -> None:
        """Resume-Queue."""
        self.suspend_queue(identity, now, suspend=False)

    def set_connectors(self, connectors: Sequence[SendConnector], now: float) -> None:
        """The send connectors changed (New-/Set-/Remove-SendConnector): route waiting items again.

        The same connector objects in the same order (a world change that left them alone) keep
        the mapping object itself, so the routing answers remembered for it (:meth:`_next_hop`) stay."""
        current = self.connectors
        if len(connectors) != len(current) or any(map(operator.is_not, connectors, current.values())):
            self.connectors = {c.name: c for c in connectors}
        self.reroute_waiting(now)

    def reroute_waiting(self, now: float) -> None:
        """:meth:`set_connectors` with the connectors in force (a world change that left this
        server's connectors and directory alone): the waiting items are routed again."""
        # (the queues holding an item, in the order of _queues: by number, Unreachable (0) first)
        queues = self._queues
        waiting = [i for n in sorted(self._occupied) for q in (queues[n],) if q.hop.delivery_type != R.TO_MAILBOX
                   for i in q.items if i not in q.busy] if self._occupied else []
        if not waiting and (self._settled_at == now or self._settled_at is _UNTOUCHED):
            # Nothing to route again, and the transport was left settled at this very instant (no
            # event since), or has had no event yet: a settle now would find nothing due and request
            # no wakeup (a queue starts only at a settle, so no Ready queue waits for the new connectors).
            return
        self._reroute(waiting, now)
        self._settle(now)

    # --- commands out, views ------------------------------------------------------------------------------
    def pop_commands(self) -> list[O.Command]:
        """Every command emitted since the last call, in order."""
        out, self._out = self._out, []
        return out

    def identity(self, q: QueueState) -> str:
        """``<Server>\\<n>``, or ``<Server>\\Unreachable`` (written into the queue when it is made)."""
        return q.identity

    def _identity_of(self, number: int) -> str:
        return f"{self.name}\\Unreachable" if number == 0 else f"{self.name}\\{number}"

    def queues(self, nonempty: bool = False) -> tuple[QueueView, ...]:
        """Get-Queue: Submission, the delivery queues and Unreachable (``nonempty``: only the queues
        that hold a message, the same views in the same order, none made for the others)."""
        return V.queue_views(self, nonempty)

    def messages(self) -> tuple[MessageView, ...]:
        """Get-Message: every queued item."""
        return V.message_views(self)

    def statistics(self) -> dict[str, int]:
        """Counters for Get-Queue summaries and tests."""
        return V.statistics(self)

    def trace(self, internal_id: int) -> Trace | None:
        """The trace of a message still held (tracking events carry finished ones)."""
        log = self._traces.get(internal_id)
        return log.trace(len(log.chunks)) if log is not None else None

    # --- internals: admission and routing -----------------------------------------------------------------
    def _take_internal_id(self) -> int:
        self._next_internal += 1
        return self._next_internal - 1

    def _admit(self, record: QueuedMessage, now: float, how: str) -> None:
        self._messages[record.internal_id] = record
        self._marks = None
        self._message_due = min(self._message_due, self._due_of(record))
        pending = record.pending
        log = self._traces[record.internal_id] = _TraceLog(record.message_id)
        log.chunks.append((self.name, _submit_step, (how, record.mail_from, pending, now)))
        if how == "accepted":
            self._track("RECEIVE", record, record.recipients, now, source=record.source)
        self._route(record, list(zip(pending, pending)), now)
        if self._spool:
            routed = self._messages.get(record.internal_id)
            # just persisted (or reloaded): a checkpoint only when routing finished recipients (e.g. an NDR)
            changed = routed is not None and (routed.done, routed.delay_dsn_sent) != (record.done, record.delay_dsn_sent)
        else:  # (no spool: no checkpoint)
            changed = False
        self._finish_if_done(record.internal_id, checkpoint=changed)

    def _route(self, record: QueuedMessage, recipients: list[tuple[str, str]], now: float) -> None:
        groups: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
        hops: dict[tuple[str, str, str], R.NextHop] = {}
        size, name = len(record.data), self.name
        log = self._traces.get(record.internal_id)  # (a bounce below adds to it, never replaces it)
        for original, _ in recipients:
            decision = self._next_hop(original, size)
            hop: R.NextHop = decision.result
            if log is not None:  # (its steps, made when read: self._trace(id, decision.steps(now)); no reason, no step)
                log.chunks.append((name, decision.steps, (now,)))
            if hop.failure is not None:
                self._bounce(record.internal_id, [(original, hop.failure, None)], now)
                continue
            key = hop.key
            pairs = groups.get(key)
            if pairs is None:
                groups[key] = [(original, hop.recipient)]
            else:
                pairs.append((original, hop.recipient))
            hops[key] = hop  # (the last one of the key, as the queue's hop when it is new)
        for key, pairs in groups.items():
            if key[0] == R.UNREACHABLE and self._unreach is None:  # (its queue made first, as it always stood)
                self._unreachable_queue()
            q = self._queue_for(hops[key], now, key)
            item = ItemState(self._next_item, record.internal_id, q.number, pairs)
            self._next_item += 1
            self._items[item.id] = item
            held = self._held.get(record.internal_id, 0)
            if not held:
                self._marks = None
            self._held[record.internal_id] = held + 1
            q.items.append(item.id)
            self._occupied.add(q.number)
            q.idle_since = None

    def _next_hop(self, recipient: str, size: int) -> R.Decision:
        """:func:`routing.next_hop` for this server, remembered per (recipient, size when it matters).

        The answer is a pure function of the directory and the connectors (both replaced, never
        changed, when the configuration changes: the memo is dropped then) and of the message size
        only through the connectors' MaxMessageSize (a size none of them refuses reads as any other).
        """
        memo = self._hops
        if memo[0] is not self.directory or memo[1] is not self.connectors or len(memo[4]) >= 4096:
            connectors = tuple(self.connectors.values())
            smallest = min(map(_max_message_size, connectors), default=math.inf)
            memo = self._hops = (self.directory, self.connectors, smallest, connectors, {})
        key = (recipient, size if size > memo[2] else None)
        decision = memo[4].get(key)
        if decision is None:
            decision = memo[4][key] = R.next_hop(self.directory, memo[3], recipient, self.name, size)
        return decision

    def _queue_for(self, hop: R.NextHop, now: float, key: tuple[str, str, str] | None = None) -> QueueState:
        # (key: hop.key, when the caller has it)
        if key is None:
            key = hop.key
        q = self._index.get(key)
        if q is not None:
            return q
        number = 0 if hop.delivery_type == R.UNREACHABLE else self._next_queue
        q = QueueState(number, hop, idle_since=now, identity=self._identity_of(number))
        if hop.delivery_type != R.UNREACHABLE:
            self._next_queue += 1
        self._queues[q.number] = q
        self._index[key] = q
        self._index[q.identity] = q
        self._idle_low = min(self._idle_low, now)
        return q

    def _queue(self, identity: str) -> QueueState | None:
        """The queue whose identity is ``identity`` (case-insensitive), without formatting every one."""
        q = self._index.get(identity)  # (written as identity() writes it: the commands' own identities)
        if q is not None:
            return q
        unreachable = self._unreachable  # (a queue to look at: made, as it always stood)
        prefix, sep, number = identity.rpartition("\\")
        if sep and self.name.isascii() and prefix.isascii() and prefix.lower() == self.name.lower():
            if number.lower() == "unreachable":
                return unreachable if self._queues.get(0) is unreachable else None
            q = self._queues.get(int(number)) if number.isdigit() and number.isascii() else None
            return q if q is not None and str(q.number) == number and q is not unreachable else None
        return next((q for q in self._queues.values() if q.identity.lower() == identity.lower()), None)

    def _queue_or_raise(self, identity: str) -> QueueState:
        if self._unreach is None:  # (a queue a cmdlet may name: made, as it always stood)
            self._unreachable_queue()
        q = self._queue(identity)
        if q is None:
            raise KeyError(identity)
        return q

    def _reroute(self, item_ids: list[int], now: float) -> None:
        for item_id in item_ids:
            item = self._items.pop(item_id)
            self._release_item(item)
            q = self._queues[item.queue]
            q.items.remove(item_id)
            if not q.items:
                self._occupied.discard(q.number)
            self._route(self._messages[item.internal_id], item.recipients, now)

    # --- internals: attempts and outcomes -----------------------------------------------------------------
    def _start(self, q: QueueState, now: float) -> None:
        q.busy = set(q.items)
        q.status, q.attempt_failed = ACTIVE, False
        if q.hop.delivery_type == R.TO_MAILBOX:
            identity = q.identity
            for item_id in sorted(q.busy):
                item = self._items[item_id]
                self._out.append(O.DeliverLocal(identity, item_id, tuple(map(_second, item.recipients)),
                                                self._messages[item.internal_id].data))
            return
        conn = self.connectors.get(q.hop.connector or "")
        if conn is None or not conn.enabled:
            q.busy = set()
            q.status = READY
            self._reroute(list(q.items), now)
            return
        if conn.dns_routing_enabled:
            cmd = q.resolve_mx  # (the queue's identity is in it)
            if cmd is None:
                cmd = q.resolve_mx = O.ResolveMx(q.identity, q.hop.next_hop_domain)
            self._out.append(cmd)
        else:
            self._out.append(O.ResolveHosts(q.identity, conn.smart_hosts))

    def _apply(self, q: QueueState, outcome: O.Outcome, ids: list[int], now: float) -> None:
        for item_id in ids:
            q.busy.discard(item_id)
            item = self._items[item_id]
            if outcome.__class__ is O.Delivered and not outcome.refused and not outcome.deferred:
                # (every recipient taken: the general case below with nothing refused or deferred,
                # self._delivered(q, item, every recipient, outcome, now) then self._drop_item(q, item_id),
                # inline; the recipients finished are not written into a record that leaves at once)
                internal_id = item.internal_id
                recipients = tuple(map(_first, item.recipients))
                held = self._held
                left = held[internal_id] - 1  # (the message's items after this one)
                if recipients:
                    record = self._messages[internal_id]
                    hop = q.hop
                    local = hop.delivery_type == R.TO_MAILBOX
                    log = self._traces.get(internal_id)
                    if log is not None:
                        chunks = log.chunks
                        chunks.append((self.name, _delivered_step, (recipients, local, hop.next_hop_domain, outcome,
                                                                    now)))
                        steps = len(chunks)
                    else:
                        steps = 0
                    status = outcome.reply or str(C.S250_2_0_0_OK)
                    self._out.append(O.Track.later(record.message_id, _tracking_event, now,
                                                   "DELIVER" if local else "SEND", "STOREDRIVER" if local else "SMTP",
                                                   self.name, record, recipients,
                                                   (status,) if isinstance(status, str) else tuple(status),
                                                   hop.connector or "", "", log, steps))
                    if left:  # (else _finish_if_done below releases the message: its record is never read again)
                        self._mark_done(internal_id, recipients)
                del self._items[item_id]
                if left:  # self._release_item(item), inline
                    held[internal_id] = left
                else:
                    del held[internal_id]
                    self._marks = None
                items = q.items
                items.remove(item_id)
                if not items:
                    self._occupied.discard(q.number)
                self._finish_if_done(internal_id)
            elif isinstance(outcome, O.Delivered):
                refused, deferred = dict(outcome.refused), dict(outcome.deferred)
                for original, envelope in item.recipients:
                    if envelope in refused:
                        self._bounce(item.internal_id, [(original, refused[envelope], outcome.endpoint or None)], now)
                self._delivered(q, item, [o for o, e in item.recipients if e not in refused and e not in deferred],
                                outcome, now)
                later = [(o, e) for o, e in item.recipients if e in deferred]
                if later:
                    self._defer_part(q, item, later, deferred[later[0][1]], now)
                self._drop_item(q, item_id)
            elif isinstance(outcome, O.Permanent):
                self._trace(item.internal_id, (Step("transport.delivery", outcome.detail, outcome.reply.line(), now),))
                if outcome.remote:  # the next hop refused it in session: the queue shows what it answered
                    q.refused_error = O.failover(outcome.reply).last_error.line()
                self._bounce(item.internal_id, [(o, outcome.reply, outcome.remote) for o, _ in item.recipients], now)
                self._drop_item(q, item_id)
            else:
                q.attempt_failed = True
                last_error = item.last_error = outcome.last_error.line()
                item.retry_count += 1
                # self._trace(...) and self._track("DEFER", ...), inline (a retry of every queue
                # that fails for now comes here): the step, then the event with the trace as it is then
                internal_id = item.internal_id
                log = self._traces.get(internal_id)
                if log is not None:
                    log.chunks.append((self.name, _step, ("transport.delivery", outcome.detail or "transient failure",
                                                          last_error, now)))
                record = self._messages[internal_id]
                self._out.append(O.Track.later(record.message_id, _tracking_event, now, "DEFER", "SMTP", self.name,
                                               record, tuple(map(_first, item.recipients)), (last_error,),
                                               q.hop.connector or "", "", log,
                                               len(log.chunks) if log is not None else 0))
                q.last_error = last_error
        if not q.busy:
            self._end_attempt(q, now)

    def _defer_part(self, q: QueueState, item: ItemState, pairs: list[tuple[str, str]], reply: Reply, now: float) -> None:
        """Recipients refused with a 4xx while others were taken: a new item keeps them queued."""
        last_error = O.failover(reply).last_error.line()
        part = ItemState(self._next_item, item.internal_id, q.number, pairs, last_error, item.retry_count + 1)
        self._next_item += 1
        self._items[part.id] = part
        self._held[item.internal_id] = self._held.get(item.internal_id, 0) + 1
        q.items.append(part.id)
        self._occupied.add(q.number)
        q.attempt_failed, q.last_error = True, last_error
        self._trace(item.internal_id, (Step("transport.delivery", f"deferred {', '.join(o for o, _ in pairs)}",
                                            last_error, now),))

    def _end_attempt(self, q: QueueState, now: float) -> None:
        if q.status == SUSPENDED:
            return
        if q.attempt_failed and q.items:
            q.failures += 1
            q.first_retry = q.first_retry if q.first_retry is not None else now
            q.last_retry, q.next_retry = now, now + self.settings.retry_delay(q.failures)
            q.status = RETRY
            self._retrying.add(q.number)
        else:
            if not q.attempt_failed:
                q.failures, q.last_error, q.first_retry, q.next_retry = 0, None, None, None
            q.status = READY
        if q.refused_error:
            q.last_error, q.refused_error = q.refused_error, None
        if not q.items:
            q.idle_since = now
            self._idle_low = min(self._idle_low, now)

    def _drop_item(self, q: QueueState, item_id: int) -> None:
        item = self._items.pop(item_id)
        self._release_item(item)
        q.items.remove(item_id)
        if not q.items:
            self._occupied.discard(q.number)
        self._finish_if_done(item.internal_id)

    def _delivered(self, q: QueueState, item: ItemState, recipients: list[str], outcome: O.Delivered, now: float) -> None:
        if not recipients:
            return
        record = self._messages[item.internal_id]
        local = q.hop.delivery_type == R.TO_MAILBOX
        recipients = tuple(recipients)
        log = self._traces.get(item.internal_id)
        if log is not None:
            log.chunks.append((self.name, _delivered_step, (recipients, local, q.hop.next_hop_domain, outcome, now)))
        self._track("DELIVER" if local else "SEND", record, recipients, now,
                    source="STOREDRIVER" if local else "SMTP", status=outcome.reply or str(C.S250_2_0_0_OK),
                    connector=q.hop.connector or "")
        self._mark_done(item.internal_id, recipients)

    def _mark_done(self, internal_id: int, recipients: Iterable[str]) -> None:
        record = self._messages[internal_id]
        done = record.done
        done = done + tuple([r for r in recipients if r not in done]) if done else tuple(recipients)
        self._messages[internal_id] = evolve(record, done=done)

    def _release_item(self, item: ItemState) -> None:
        """``item`` left ``_items``: one fewer item of its message held."""
        left = self._held[item.internal_id] - 1
        if left:
            self._held[item.internal_id] = left
        else:
            del self._held[item.internal_id]
            self._marks = None

    def _finish_if_done(self, internal_id: int, checkpoint: bool = True) -> None:
        record = self._messages.get(internal_id)
        if record is None or internal_id in self._held:  # (an item of it is still queued)
            if record is not None and checkpoint and self._spool:
                self._out.append(O.Checkpoint(internal_id, record.done, record.delay_dsn_sent))
            return
        self._messages.pop(internal_id)
        self._marks = None
        self._traces.pop(internal_id, None)
        if self._spool:
            self._out.append(O.Release(internal_id))

    # --- internals: DSNs ----------------------------------------------------------------------------------
    def _bounce(self, internal_id: int, failures: list[tuple[str, Reply, str | None]], now: float) -> None:
        record = self._messages[internal_id]
        recipients = tuple([o for o, _, _ in failures])
        status = tuple([r.line() for _, r, _ in failures])
        log = self._traces.get(internal_id)
        if log is not None:
            log.chunks.append((self.name, _ndr_step, (recipients, status[0], now)))
        self._track("FAIL", record, recipients, now, status=status)
        self._mark_done(internal_id, recipients)
        self._generate_dsn(D.FAILED, record, [D.DsnRecipient(o, r, remote) for o, r, remote in failures], now)

    def _generate_dsn(self, kind: str, record: QueuedMessage, recipients: list[D.DsnRecipient], now: float) -> None:
        if not record.mail_from or record.source == "DSN":
            self._trace(record.internal_id, (Step("transport.dsn", f"no {kind} DSN: null reverse path", None, now),))
            return
        dsn_id = self._take_internal_id()
        message_id = f"<{uuid5_text(_NS, f'{self.fqdn}/{self.boot}/dsn/{dsn_id}')}@{self.fqdn}>"
        data = D.build_dsn(kind, record.data, record.mail_from, recipients, self.fqdn,
                           f"postmaster@{self.directory.default_domain or self.fqdn}",
                           self.settings.at(now), message_id, self.settings.at(record.received_at))
        dsn = QueuedMessage(dsn_id, message_id, "", (record.mail_from,), data, now, "DSN", dsn_of=record.internal_id)
        if self._spool:
            self._out.append(O.Persist(dsn))
        self._out.append(O.EmitDsn(kind, record.internal_id, dsn_id, tuple(r.address for r in recipients)))
        self._track("DSN", dsn, dsn.recipients, now, source="DSN", reference=record.message_id)
        self._admit(dsn, now, "generated")

    # --- internals: timers --------------------------------------------------------------------------------
    def _settle(self, now: float) -> None:
        # passes until one fires nothing, at most 10 000 (the first one outside the loop: most settles
        # need only that one)
        fire_due = self._fire_due
        settled: float | None = now
        if fire_due(now):
            for _ in range(9_999):
                if not fire_due(now):
                    break
            else:
                settled = None  # (cut short: not known to be settled)
        self._schedule(now)
        self._settled_at = settled

    def _fire_due(self, now: float) -> bool:
        if now >= self._message_due:
            fired = self._fire_due_messages(now)
            self._message_due = min(map(self._due_of, self._messages.values()), default=math.inf)
            return self._fire_due_queues(now) or fired
        return self._fire_due_queues(now)

    def _due_of(self, record: QueuedMessage) -> float:
        """When :meth:`_fire_due_messages` may first act on ``record``: its delay DSN (enabled, not sent
        yet) or its expiry. A record due but not acted on (its items busy) stays due: looked at again."""
        s = self.settings
        expiry = record.received_at + s.message_expiration_timeout
        if s.delay_dsn_enabled and not record.delay_dsn_sent:
            return min(expiry, record.received_at + s.delay_notification_timeout)
        return expiry

    def _fire_due_messages(self, now: float) -> bool:
        """Delay DSNs and expiry of the messages held (only looked at once the oldest could be due)."""
        fired = False
        s = self.settings
        for record in list(self._messages.values()):
            if record.internal_id not in self._messages:
                continue
            delay_due = (s.delay_dsn_enabled and not record.delay_dsn_sent
                         and now >= record.received_at + s.delay_notification_timeout)
            if not delay_due and now < record.received_at + s.message_expiration_timeout:
                continue
            waiting = [i for i in self._items.values() if i.internal_id == record.internal_id
                       and i.id not in self._queues[i.queue].busy]
            if waiting and now >= record.received_at + s.message_expiration_timeout:
                for item in waiting:
                    q = self._queues[item.queue]
                    self._bounce(item.internal_id, [(o, O.expiry_reply(q is self._unreach, item.last_error, self.settings.expiry_with_last_error), None) for o, _ in item.recipients],
                                 now)
                    self._drop_item(q, item.id)
                fired = True
            elif (waiting and s.delay_dsn_enabled and not record.delay_dsn_sent
                  and now >= record.received_at + s.delay_notification_timeout):
                self._messages[record.internal_id] = evolve(record, delay_dsn_sent=True)
                self._marks = None
                rcpts = [D.DsnRecipient(o, C.S400_4_4_7_MESSAGE_DELAYED) for i in waiting for o, _ in i.recipients]
                self._trace(record.internal_id, (Step("transport.delay", "delay DSN to the sender",
                                                      C.S400_4_4_7_MESSAGE_DELAYED.line(), now),))
                self._generate_dsn(D.DELAYED, record, rcpts, now)
                self._finish_if_done(record.internal_id)
                fired = True
        return fired

    def _fire_due_queues(self, now: float) -> bool:
        """Retries due, Ready queues started, idle queues past QueueMaxIdleTime removed. True when
        the pass may have made work for another (new items, or a start that sent nothing out)."""
        # Every queue that exists now, in order (numbers grow with creation; Unreachable is 0), except
        # those with nothing to do: no items (busy ones are items too), not in Retry, not idle past
        # QueueMaxIdleTime. Starting a queue may reroute its items into a later queue: the rest of the
        # pass is then looked up again.
        max_idle = self.settings.queue_max_idle_time
        sweep = now >= self._idle_low + max_idle
        retrying = self._retrying
        if not sweep and not self._occupied and not retrying:
            return False  # no queue holds an item or waits for a retry: the pass would find none
        fired = False
        limit = self._next_queue
        unreachable = self._unreach
        queues = self._queues
        # the numbers of the queues that may have work (every queue's in a sweep), ascending: _queues'
        # keys are, as numbers grow with creation and Unreachable (0) is made first; those from
        # limit on (made by this pass) are left to the next
        # (no queue retrying, the common case: the occupied ones alone, without a union)
        numbers = list(queues) if sweep else sorted(self._occupied | retrying) if retrying else sorted(self._occupied)
        i, end = 0, len(numbers)
        while i < end:
            n = numbers[i]
            i += 1
            if n >= limit:
                break
            q = queues.get(n)
            if q is None:
                continue
            status = q.status
            if status == RETRY:
                due = q.next_retry
                if due is not None and now >= due:
                    q.status = status = READY
                    retrying.discard(q.number)
            else:
                retrying.discard(q.number)
            if status == READY and q.items and not q.busy and q is not unreachable:
                made = self._next_item
                self._start(q, now)
                if self._next_item != made:  # (only new items can put work in a queue the pass has not seen)
                    numbers = list(queues) if sweep else sorted(self._occupied | retrying)
                    i, end = bisect.bisect_right(numbers, n), len(numbers)
                    fired = True
                elif not q.busy:  # (its items went elsewhere: a bounce, a DSN)
                    fired = True
                # else its attempt went out (a command for the driver) and nothing else changed: a
                # pass after this one would find nothing new to do, so it is not asked for
            if (not q.items and q is not unreachable and q.idle_since is not None and not q.busy
                    and now >= q.idle_since + max_idle):
                self._delete_queue(q)
        if sweep:
            self._idle_low = min((q.idle_since for q in self._queues.values()
                                  if q.idle_since is not None and q is not self._unreach), default=math.inf)
        return fired

    def _delete_queue(self, q: QueueState) -> None:
        del self._queues[q.number]
        del self._index[q.hop.key]
        del self._index[q.identity]
        self._retrying.discard(q.number)

    def _deadlines(self, before: float = math.inf) -> Iterable[float]:
        """The times something falls due (retries, idle queues, delay DSNs, expiry); those at or
        after ``before`` may be left out."""
        s = self.settings
        for number in sorted(self._retrying):
            q = self._queues.get(number)
            if q is not None and q.status == RETRY and q.next_retry is not None:
                yield q.next_retry
        if self._idle_low + s.queue_max_idle_time < before:
            for q in self._queues.values():
                if not q.items and q.idle_since is not None and q is not self._unreach:
                    yield q.idle_since + s.queue_max_idle_time
        if before <= self._message_due:  # (every message's times are at or after it: left out)
            return
        held = self._held  # (the messages with an item queued)
        for record in self._messages.values():
            if record.internal_id in held:
                yield record.received_at + s.message_expiration_timeout
                if s.delay_dsn_enabled and not record.delay_dsn_sent:
                    yield record.received_at + s.delay_notification_timeout

    def _next_deadline(self, now: float, before: float) -> float | None:
        """``min((t for t in self._deadlines(before) if t > now), default=None)``, in one pass
        without generators (it runs after every event)."""
        s = self.settings
        best: float | None = None
        queues = self._queues
        for number in self._retrying:
            q = queues.get(number)
            if q is not None and q.status == RETRY:
                t = q.next_retry
                if t is not None and t > now and (best is None or t < best):
                    best = t
        idle = s.queue_max_idle_time
        if self._idle_low + idle < before:
            unreachable = self._unreach
            for q in queues.values():
                if not q.items and q.idle_since is not None and q is not unreachable:
                    t = q.idle_since + idle
                    if t > now and (best is None or t < best):
                        best = t
        # Every delay DSN and expiry time of a message held is at or after _message_due: none of
        # them when that is not before ``before`` (they may be left out), and none comes first when
        # best is not after it while it is after now.
        due = self._message_due
        if before <= due or (best is not None and best <= due and now < due):
            return best
        marks = self._marks
        if marks is None:
            marks = self._marks = self._message_marks()
        for t in marks:  # (the first one after now)
            if t > now:
                return t if best is None or t < best else best
        return best

    def _message_marks(self) -> list[float]:
        """The delay DSN and expiry times of the messages held (:meth:`_deadlines`'), sorted."""
        s = self.settings
        held = self._held
        expiry, delay, delay_on = s.message_expiration_timeout, s.delay_notification_timeout, s.delay_dsn_enabled
        marks = []
        for record in self._messages.values():
            if record.internal_id in held:
                marks.append(record.received_at + expiry)
                if delay_on and not record.delay_dsn_sent:
                    marks.append(record.received_at + delay)
        marks.sort()
        return marks

    def _schedule(self, now: float) -> None:
        # A wakeup already requested for later than now stays unless something falls due before it.
        requested = self._requested  # (_next_deadline leaves it as it is)
        pending = requested if requested is not None and requested > now else math.inf
        at = self._next_deadline(now, pending)
        if at is None:
            return
        if requested is None or at < requested or requested <= now:
            self._request(at)

    def _request(self, at: float) -> None:
        """The next wakeup is ``at``: asked for unless the driver holds one for it."""
        self._requested = at
        standing = self._standing
        if at not in standing or at <= self._woken:  # (else the driver still holds a timer for it)
            if len(standing) >= self._standing_max:  # (the times passed by a wakeup left out)
                woken = self._woken
                standing = self._standing = set(filter(functools.partial(operator.lt, woken), standing))  # (t > woken)
            standing.add(at)
            self._out.append(O.RequestWakeup(at))

    # --- internals: trace and tracking --------------------------------------------------------------------
    def _trace(self, internal_id: int, steps: Sequence[Step]) -> None:
        if steps:  # (Trace.extend with no steps is the same trace)
            log = self._traces.get(internal_id)
            if log is not None:
                log.chunks.append((self.name, steps if steps.__class__ is tuple else tuple(steps)))

    def _step_all(self, q: QueueState, rule: str, detail: str, now: float) -> None:
        # one step (made when read) in one chunk, added to the trace of every busy item's message
        self._chunk_all(q, (self.name, _step, (rule, detail, None, now)))

    def _chunk_all(self, q: QueueState, chunk: tuple) -> None:
        # one chunk added to the trace of every busy item's message
        busy = q.busy
        if busy:
            traces, items = self._traces, self._items
            for item_id in busy:
                log = traces.get(items[item_id].internal_id)
                if log is not None:
                    log.chunks.append(chunk)

    def _track(self, event_id: str, record: QueuedMessage, recipients: Sequence[str], now: float,
               source: str = "SMTP", status: str | tuple[str, ...] = (), connector: str = "",
               reference: str = "") -> None:
        # The event is built when first read (O.Track.later): every input is immutable and taken now
        # (the record, the trace as it is now: its log and how many of its steps there are yet,
        # recipients and statuses as tuples).
        statuses = (status,) if isinstance(status, str) else tuple(status)
        log = self._traces.get(record.internal_id)
        self._out.append(O.Track.later(record.message_id, _tracking_event, now, event_id, source, self.name, record,
                                       tuple(recipients), statuses, connector, reference, log,
                                       len(log.chunks) if log is not None else 0))


#: Exchange's answer to a failed resolution is a pure function of plain values (the error, two
#: connector flags, the domain) and a frozen record: a queue retrying the same failure reuses it.
_dns_failure = functools.lru_cache(maxsize=256)(O.dns_failure)


def _retry_times(now: float, head: tuple[float, ...], steady: float, limit: float,
                 standing: set[float]) -> tuple[list[float], float]:
    """The retries from ``now`` on (``now`` first), each one ``t + delay`` after the one before (the
    delays: ``head``, then ``steady`` for ever) while it is before ``limit`` and not in ``standing``;
    and the next retry of the last one (the first not taken). A next retry not after the one before
    (resolution_result would settle again: left to the event-by-event path) is not taken, and neither
    is the one before it, whose next retry it is."""
    delays = itertools.chain(head, itertools.repeat(steady))
    ordered = steady > 0 and all(d > 0 for d in head)  # (then each sum is at least the one before)
    times, t = [now], now
    while True:
        # the next 64, as the sums one by one would make them (t + delay, in turn)
        batch = list(itertools.accumulate(itertools.islice(delays, 64), initial=t))
        if ordered and len(set(batch)) == len(batch):  # each one after the one before: sorted
            cut = bisect.bisect_left(batch, limit, 1)  # (the first not before limit)
            if standing:
                held = standing.intersection(batch[1:cut])
                if held:
                    cut = bisect.bisect_left(batch, min(held), 1)
            times += batch[1:cut]
            if cut < len(batch):
                return times, batch[cut]
        else:
            for j in range(1, len(batch)):
                n = batch[j]
                if not n > batch[j - 1]:
                    last = times.pop()
                    return times, last
                if n < limit and n not in standing:
                    times.append(n)
                else:
                    return times, n
        t = batch[-1]


class _TraceLog:
    """A message's trace as the steps added to it, in order: ``(node, steps)`` per addition, or
    ``(node, build, args)`` for the steps ``build(*args)`` (made when read, from immutable ``args``).

    The transport only appends; the :class:`Trace` after the first ``n`` additions is built when
    read (:meth:`trace`), as ``Trace(message_id).extend(node, steps)`` for each of them in turn,
    which is exactly the trace the transport would have held then. The last one built is kept.

    A stretch of retries goes in as one :class:`_Retries` run (:meth:`add_run`): it fills as many
    places of ``chunks`` as it makes additions (the same object in each), so ``len(chunks)`` counts
    additions either way; its chunks are made in their places the first time the trace is read.
    """

    __slots__ = ("message_id", "chunks", "_built", "_runs")

    def __init__(self, message_id: str):
        self.message_id = message_id
        self.chunks: list[Any] = []
        self._built: tuple[int, Trace] | None = None
        self._runs = False

    def add_run(self, run: "_Retries") -> None:
        """Append every chunk of ``run``, in its order (made when read)."""
        self.chunks += [run] * run.size
        self._runs = True

    def trace(self, n: int) -> Trace:
        """The trace after the first ``n`` additions."""
        if self._runs:
            self._expand()
        built = self._built
        if built is not None and built[0] <= n:
            done, trace = built
        else:
            done, trace = 0, Trace(self.message_id)
        chunks = self.chunks
        for i in range(done, n):
            chunk = chunks[i]
            if len(chunk) == 3:  # (its steps made now, in its place)
                chunk = chunks[i] = (chunk[0], chunk[1](*chunk[2]))
            trace = trace.extend(chunk[0], chunk[1])
        self._built = (n, trace)
        return trace

    def _expand(self) -> None:
        """Every run's chunks in its places (the same list object)."""
        chunks, made, i = self.chunks, [], 0
        end = len(chunks)
        while i < end:
            chunk = chunks[i]
            if chunk.__class__ is _Retries:
                made += chunk.chunks()
                i += chunk.size
            else:
                made.append(chunk)
                i += 1
        chunks[:] = made
        self._runs = False


class _Retries:
    """The chunks a stretch of failed retries added to one log (:meth:`Transport.failing_retries`):
    at each of ``times`` in turn, one ``(node, (Step(rule, detail, reply, t),))`` per ``template``
    entry ``(rule, detail, reply)``, in order."""

    __slots__ = ("node", "times", "template", "size")

    def __init__(self, node: str, times: tuple[float, ...], template: tuple[tuple[str, str, str | None], ...]):
        self.node, self.times, self.template = node, times, template
        self.size = len(times) * len(template)

    def chunks(self) -> list[tuple[str, tuple[Step, ...]]]:
        node, template = self.node, self.template
        return [(node, (Step(rule, detail, reply, t),)) for t in self.times for rule, detail, reply in template]


def _step(rule: str, detail: str, reply: str | None, at: float) -> tuple[Step]:
    return (Step(rule, detail, reply, at),)


def _submit_step(how: str, mail_from: str, pending: tuple[str, ...], at: float) -> tuple[Step]:
    return (Step("transport.submit", f"{how}: from <{mail_from}> for {', '.join(pending)}", None, at),)


def _resolve_step(targets: tuple[O.Endpoint, ...], at: float) -> tuple[Step]:
    return (Step("routing.resolve", f"targets {', '.join(str(t) for t in targets) or 'none'}", None, at),)


def _delivered_step(recipients: tuple[str, ...], local: bool, domain: str, outcome: O.Delivered,
                    at: float) -> tuple[Step]:
    where = f"mailbox database {domain}" if local else f"{outcome.endpoint} ({outcome.reply})"
    return (Step("transport.delivery", f"delivered to {', '.join(recipients)} via {where}", outcome.reply or None, at),)


def _ndr_step(recipients: tuple[str, ...], status: str, at: float) -> tuple[Step]:
    return (Step("transport.ndr", f"NDR for {', '.join(recipients)}", status, at),)


def _retry_event(common: tuple, now: float, steps: int) -> TrackingEvent:
    """The DEFER event of one retry of :meth:`Transport.failing_retries` (``common``: the same for
    every retry of the item: server, record, recipients, statuses, connector, log)."""
    server, record, recipients, statuses, connector, log = common
    return _tracking_event(now, "DEFER", "SMTP", server, record, recipients, statuses, connector, "", log, steps)


def _tracking_event(now: float, event_id: str, source: str, server: str, record: QueuedMessage,
                    recipients: tuple[str, ...], statuses: tuple[str, ...], connector: str, reference: str,
                    log: _TraceLog | None, steps: int) -> TrackingEvent:
    """The tracking event of ``record`` (``log``, ``steps``: the message's trace when the event happened)."""
    return TrackingEvent(now, event_id, source, server, record.internal_id, record.message_id, record.mail_from,
                         recipients, statuses, connector, D.subject_of(record.data), len(record.data), reference,
                         log.trace(steps) if log is not None else Trace(record.message_id))

