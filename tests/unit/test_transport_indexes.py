"""The transport's queue indexes (hop key -> queue, Retry set, idle lower bound, identity lookup,
items held per message)
must not change a single command: a Transport is driven side by side with one that scans every
queue on every event, as the transport did before the indexes (the methods below are that code,
verbatim), and both must emit the same commands and show the same queues at every step."""
from __future__ import annotations

import random
from types import SimpleNamespace as NS
from typing import Iterable

import pytest

from lab.core.dns_resolution import MxResult, Target
from lab.core.exchange import dsn as D
from lab.core.exchange import outcomes as O
from lab.core.exchange.queue import Transport
from lab.core.exchange.queue_records import TransportSettings
from lab.core.exchange.queue_views import READY, RETRY, QueueState
from lab.core.exchange import routing as R
from lab.core.exchange.send_connector import SendConnector
from lab.core.catalogue import exchange_queue as C
from lab.core.trace import Step

from transport_twins import TwinDrive

ORG = NS(accepted_domains=[{"DomainName": "contoso.com", "DomainType": "Authoritative", "Default": True}],
         mailboxes=[{"PrimarySmtpAddress": "alice@contoso.com"}, {"PrimarySmtpAddress": "bob@contoso.com"}])
INTERNET = SendConnector.from_mapping({"Name": "Internet", "AddressSpaces": "*"})
PARTNER = SendConnector.from_mapping({"Name": "Partner", "AddressSpaces": "fabrikam.com",
                                      "DNSRoutingEnabled": False, "SmartHosts": ["relay.partner.example"]})
RECIPIENTS = ["bob@contoso.com", "ghost@contoso.com"] + [f"u{i}@d{i % 7}.example" for i in range(12)] + \
    ["x@fabrikam.com", "y@fabrikam.com"]


class Scanning(Transport):
    """The transport as it was: every queue looked at on every event."""

    def _queue_for(self, hop: R.NextHop, now: float, key: object = None) -> QueueState:  # (key: hop.key)
        for q in self._queues.values():
            if q.hop.key == hop.key:
                return q
        number = 0 if hop.delivery_type == R.UNREACHABLE else self._next_queue
        q = QueueState(number, hop, idle_since=now, identity=self._identity_of(number))
        if hop.delivery_type != R.UNREACHABLE:
            self._next_queue += 1
        self._queues[q.number] = q
        return q

    def _queue(self, identity: str) -> QueueState | None:
        return next((q for q in self._queues.values() if self.identity(q).lower() == identity.lower()), None)

    def _fire_due(self, now: float) -> bool:
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
                    self._bounce(item.internal_id, [(o, O.expiry_reply(q is self._unreachable, item.last_error, self.settings.expiry_with_last_error), None) for o, _ in item.recipients],
                                 now)
                    self._drop_item(q, item.id)
                fired = True
            elif (waiting and s.delay_dsn_enabled and not record.delay_dsn_sent
                  and now >= record.received_at + s.delay_notification_timeout):
                from dataclasses import replace
                self._messages[record.internal_id] = replace(record, delay_dsn_sent=True)
                rcpts = [D.DsnRecipient(o, C.S400_4_4_7_MESSAGE_DELAYED) for i in waiting for o, _ in i.recipients]
                self._trace(record.internal_id, [Step("transport.delay", "delay DSN to the sender",
                                                      C.S400_4_4_7_MESSAGE_DELAYED.line(), now)])
                self._generate_dsn(D.DELAYED, record, rcpts, now)
                self._finish_if_done(record.internal_id)
                fired = True
        for q in list(self._queues.values()):
            if q.status == RETRY and q.next_retry is not None and now >= q.next_retry:
                q.status = READY
            if q.status == READY and q.items and not q.busy and q is not self._unreachable:
                self._start(q, now)
                fired = True
            if (not q.items and q is not self._unreachable and q.idle_since is not None and not q.busy
                    and now >= q.idle_since + s.queue_max_idle_time):
                del self._queues[q.number]
        return fired

    def _deadlines(self, before: float = 0.0) -> Iterable[float]:
        s = self.settings
        for q in self._queues.values():
            if q.status == RETRY and q.next_retry is not None:
                yield q.next_retry
            if not q.items and q.idle_since is not None and q is not self._unreachable:
                yield q.idle_since + s.queue_max_idle_time
        held = {i.internal_id for i in self._items.values()}
        for record in self._messages.values():
            if record.internal_id in held:
                yield record.received_at + s.message_expiration_timeout
                if s.delay_dsn_enabled and not record.delay_dsn_sent:
                    yield record.received_at + s.delay_notification_timeout

    def _schedule(self, now: float) -> None:
        upcoming = [t for t in self._deadlines() if t > now]
        if not upcoming:
            return
        at = min(upcoming)
        if self._requested is None or at < self._requested or self._requested <= now:
            self._requested = at
            self._out.append(O.RequestWakeup(at))


    def _finish_if_done(self, internal_id: int, checkpoint: bool = True) -> None:
        record = self._messages.get(internal_id)
        if record is None or any(i.internal_id == internal_id for i in self._items.values()):
            if record is not None and checkpoint:
                self._out.append(O.Checkpoint(internal_id, record.done, record.delay_dsn_sent))
            return
        self._messages.pop(internal_id)
        self._traces.pop(internal_id, None)
        self._out.append(O.Release(internal_id))


class Twins(TwinDrive):
    """The same events into both transports; every command answered the same way in both."""

    def __init__(self, rng: random.Random, settings: TransportSettings):
        self.rng = rng
        self.now = 0.0
        self.held: list[tuple[O.Command, O.Command]] = []
        # the times each driver holds a timer for (one per time, as MemoryTransport keeps them)
        self.wakeups: list[set[float]] = [set(), set()]
        self.pair = [cls(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET, PARTNER], settings, boot="b")
                     for cls in (Transport, Scanning)]
        self.steps = 0

    def check(self) -> None:
        new, old = self.pair
        assert repr(new.queues()) == repr(old.queues())
        assert repr(new.messages()) == repr(old.messages())
        assert new.statistics() == old.statistics()
        counts: dict[int, int] = {}
        for item in new._items.values():  # the per-message item counts are the items held
            counts[item.internal_id] = counts.get(item.internal_id, 0) + 1
        assert new._held == counts
        # the one-pass next deadline is the minimum of the deadlines after now
        for before in (float("inf"), self.now + 300, self.now):
            for now in (self.now, self.now - 1, self.now + 600):
                assert new._next_deadline(now, before) == min((t for t in Transport._deadlines(new, before) if t > now),
                                                              default=None)

    def answer(self, a: O.Command, b: O.Command) -> None:
        if isinstance(a, (O.ResolveMx, O.ResolveHosts)):
            fail = self.rng.random() < 0.15
            result = MxResult("x", (), "NXDOMAIN") if fail else MxResult("x", (Target("mx", 10, ("192.0.2.1",)),))
            for t, c in zip(self.pair, (a, b)):
                t.resolution_result(c.queue, result, self.now)
        elif isinstance(a, O.DeliverLocal):
            for t, c in zip(self.pair, (a, b)):
                t.delivery_result(c.queue, O.Delivered(), self.now, items=(c.item,))
        elif isinstance(a, O.Connect):
            if self.rng.random() < 0.2:
                self.held.append((a, b))
            else:
                self.connect(a, b)

    def connect(self, a: O.Connect, b: O.Connect) -> None:
        choice = self.rng.choice(["ok", "ok", "transient", "permanent", "refuse-one", "defer-one"])
        for i, env in enumerate(a.envelopes):
            first = env.recipients[0]
            if choice == "ok":
                outcome = O.Delivered("250 ok", "192.0.2.1:25")
            elif choice in ("refuse-one", "defer-one"):
                reply = O.remote_reply(550 if choice == "refuse-one" else 451, "5.1.1 nope", "rcpt").__dict__
                outcome = O.Delivered("250 ok", "192.0.2.1:25",
                                      ((first, reply["reply"]),) if choice == "refuse-one" else (),
                                      ((first, reply["last_error"]),) if choice == "defer-one" else ())
            elif choice == "transient":
                outcome = O.connect_failure("Timeout", "192.0.2.1:25")
            else:
                outcome = O.remote_reply(550, "5.7.1 rejected", "data")
            for t, c in zip(self.pair, (a, b)):
                t.delivery_result(c.queue, outcome, self.now, items=(c.envelopes[i].item,))

    def step(self) -> None:
        rng, self.steps = self.rng, self.steps + 1
        op = rng.choice(["submit"] * 5 + ["advance"] * 3 + ["release", "retry", "suspend", "connectors"])
        new, old = self.pair
        if op == "submit":
            msg = NS(mail_from=rng.choice(["alice@contoso.com", "", "someone@fabrikam.com"]),
                     rcpt_tos=tuple(rng.sample(RECIPIENTS, rng.randint(1, 4))),
                     data=f"Subject: m{self.steps}\r\n\r\nbody\r\n".encode(), message_id="", source_ip="192.0.2.9")
            assert repr(new.submit(msg, self.now)) == repr(old.submit(msg, self.now))
        elif op == "advance":
            target = self.now + rng.choice([1, 60, 179, 180, 181, 300, 900, 3600, 4 * 3600, 86400, 2 * 86400])
            while due := sorted(w for w in self.wakeups[0] if w <= target):
                for held in self.wakeups:
                    held.discard(due[0])
                self.now = max(self.now, due[0])
                for t in self.pair:
                    t.wakeup(self.now)
                self.drain()
            self.now = target
            if rng.random() < 0.3:  # a wakeup that nobody asked for (the live driver's timers can be late)
                for t in self.pair:
                    t.wakeup(self.now)
        elif op == "release":
            held, self.held = self.held, []
            for a, b in held:
                self.connect(a, b)
        elif op in ("retry", "suspend"):
            identities = [q.identity for q in new.queues()] + ["EX01\\0", "ex01\\unreachable", "EX01\\07", "nope\\1"]
            identity = rng.choice(identities)
            resubmit, suspend = rng.random() < 0.3, rng.random() < 0.5
            outcomes = []
            for t in self.pair:
                try:
                    if op == "retry":
                        t.retry_queue(identity, self.now, resubmit=resubmit)
                    elif suspend:
                        t.suspend_queue(identity, self.now)
                    else:
                        t.resume_queue(identity, self.now)
                    outcomes.append("ok")
                except KeyError as exc:
                    outcomes.append(repr(exc))
            assert outcomes[0] == outcomes[1]
        else:
            connectors = rng.choice([[INTERNET, PARTNER], [INTERNET], [PARTNER], []])
            for t in self.pair:
                t.set_connectors(connectors, self.now)
        self.drain()


@pytest.mark.parametrize("seed", range(40))
def test_indexed_queues_emit_what_scanning_every_queue_emitted(seed):
    settings = TransportSettings(queue_max_idle_time=[180, 0, 3600][seed % 3],
                                 delay_dsn_enabled=seed % 4 != 0)
    twins = Twins(random.Random(seed), settings)
    for _ in range(60):
        twins.step()


def test_identity_lookup_matches_the_scan():
    t = Transport(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET])
    t.submit(NS(mail_from="a@contoso.com", rcpt_tos=("x@d1.example", "y@d2.example"), data=b"\r\n\r\nb\r\n",
                message_id="", source_ip=""), 0.0)
    for identity in ["EX01\\1", "ex01\\2", "EX01\\3", "EX01\\01", "EX01\\0", "EX01\\Unreachable", "ex01\\UNREACHABLE",
                     "EX02\\1", "\\1", "1", "", "EX01\\", "EX01\\1 ", "EX01\\١", "EX01\\\\1"]:
        assert t._queue(identity) is Scanning._queue(t, identity), identity


def _hop_of(t: Transport, rcpt: str, data: bytes = b"Subject: s\r\n\r\nbody\r\n") -> str:
    t.submit(NS(mail_from="a@contoso.com", rcpt_tos=(rcpt,), data=data, message_id="", source_ip=""), 0.0)
    return [q.delivery_type for q in t.queues() if q.message_count][-1]


def test_remembered_next_hops_follow_connector_directory_and_size_changes():
    small = SendConnector.from_mapping({"Name": "Small", "AddressSpaces": "*", "MaxMessageSize": "1KB"})
    t = Transport(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET])
    t.pop_commands()
    assert _hop_of(t, "x@d.example") == R.DNS_CONNECTOR
    t.set_connectors([], 0.0)
    assert _hop_of(t, "y@d.example") == R.UNREACHABLE
    t.set_connectors([small], 0.0)
    assert _hop_of(t, "z@d.example") == R.DNS_CONNECTOR
    big = Transport(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [small])
    assert _hop_of(big, "z@d.example", b"Subject: s\r\n\r\n" + b"x" * 5000) == R.UNREACHABLE
    steps = [s.detail for s in big.trace(next(iter(big._messages))).steps]
    assert any("exceeds MaxMessageSize" in d for d in steps)
    t.directory = R.Directory.build(ORG.accepted_domains + [{"DomainName": "d.example", "DomainType": "Authoritative"}],
                                    ORG.mailboxes + [{"PrimarySmtpAddress": "w@d.example"}], ())
    assert _hop_of(t, "w@d.example") == R.TO_MAILBOX


def test_a_start_that_reroutes_into_an_earlier_queue_starts_it_in_the_same_settle():
    """A queue whose connector went away while its attempt was out reroutes its items when it next
    starts; the queue they land in comes earlier in the pass, so only a further pass starts it."""
    settings = TransportSettings(queue_max_idle_time=3600)
    pair = [cls(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [PARTNER], settings, boot="b") for cls in (Transport, Scanning)]
    ok = MxResult("x", (Target("mx", 10, ("192.0.2.1",)),))

    def step(fn) -> list[str]:
        out = []
        for t in pair:
            fn(t)
            out.append(repr(t.pop_commands()))
        assert out[0] == out[1]
        return out[0].split("), ")

    def msg(rcpt: str) -> NS:
        return NS(mail_from="alice@contoso.com", rcpt_tos=(rcpt,), data=b"Subject: s\r\n\r\nb\r\n", message_id="",
                  source_ip="")

    step(lambda t: t.submit(msg("a@fabrikam.com"), 0.0))  # the Partner queue (1) is made, then idles
    step(lambda t: t.resolution_result("EX01\\1", ok, 0.0))
    step(lambda t: t.delivery_result("EX01\\1", O.Delivered("250 ok", "192.0.2.1:25"), 0.0))
    step(lambda t: t.set_connectors([INTERNET], 1.0))
    step(lambda t: t.submit(msg("b@fabrikam.com"), 2.0))  # queue 2, through Internet
    step(lambda t: t.resolution_result("EX01\\2", ok, 2.0))  # its Connect is out...
    step(lambda t: t.set_connectors([PARTNER], 3.0))  # ... when Internet goes away
    step(lambda t: t.delivery_result("EX01\\2", O.connect_failure("Timeout", "192.0.2.1:25"), 4.0))
    out = step(lambda t: t.wakeup(4.0 + 300))  # the retry: queue 2 reroutes into queue 1, which starts
    assert any("ResolveHosts" in c and "EX01\\\\1" in c for c in out), out
