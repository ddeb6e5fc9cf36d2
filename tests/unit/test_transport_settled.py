"""The transport's shortcuts around a settle (a transport left settled at an instant, or never
touched, does not settle again there when a connector change (or a world change that left the
connectors alone: reroute_waiting) gives it nothing to route; a DNS
failure that only puts its queue in Retry until later schedules without a pass) and its
index of occupied queues must not change a single command: a Transport is driven side by side with
one that always takes the general path (the methods below are that code, verbatim), and both must
emit the same commands and show the same queues, messages and traces at every step."""
from __future__ import annotations

import math
import random
from types import SimpleNamespace as NS
from typing import Sequence

import pytest

from lab.core.dns_resolution import MxResult, Target
from lab.core.exchange import outcomes as O
from lab.core.exchange import routing as R
from lab.core.exchange.queue import Transport
from lab.core.exchange.queue_records import TransportSettings
from lab.core.exchange.send_connector import SendConnector

from transport_twins import TwinDrive

ORG = NS(accepted_domains=[{"DomainName": "contoso.com", "DomainType": "Authoritative", "Default": True}],
         mailboxes=[{"PrimarySmtpAddress": "alice@contoso.com"}, {"PrimarySmtpAddress": "bob@contoso.com"}])
INTERNET = SendConnector.from_mapping({"Name": "Internet", "AddressSpaces": "*"})
PARTNER = SendConnector.from_mapping({"Name": "Partner", "AddressSpaces": "fabrikam.com",
                                      "DNSRoutingEnabled": False, "SmartHosts": ["relay.partner.example"]})
OFF = SendConnector.from_mapping({"Name": "Internet", "AddressSpaces": "*", "Enabled": False})
RECIPIENTS = ["bob@contoso.com", "ghost@contoso.com", "x@fabrikam.com"] + [f"u{i}@d{i % 5}.example" for i in range(8)]
CONNECTOR_SETS = [[INTERNET, PARTNER], [INTERNET], [PARTNER], [], [OFF, PARTNER]]


class General(Transport):
    """The transport without the shortcuts: every connector change and every DNS failure settles,
    every wakeup is asked for again even while the driver holds one for that time, and the next
    deadline is looked for among every deadline."""

    def _schedule(self, now: float) -> None:
        self.emitted = getattr(self, "emitted", 0)
        pending = self._requested if self._requested is not None and self._requested > now else math.inf
        at = min((t for t in self._deadlines(pending) if t > now), default=None)
        if at is None:
            return
        if self._requested is None or at < self._requested or self._requested <= now:
            self._requested = at
            self.emitted += 1
            self._out.append(O.RequestWakeup(at))

    def set_connectors(self, connectors: Sequence[SendConnector], now: float) -> None:
        current = self.connectors
        if len(connectors) != len(current) or any(a is not b for a, b in zip(connectors, current.values())):
            self.connectors = {c.name: c for c in connectors}
        waiting = [i for q in self._queues.values() if q.hop.delivery_type != R.TO_MAILBOX
                   for i in q.items if i not in q.busy]
        self._reroute(waiting, now)
        self._settle(now)

    def resolution_result(self, queue: str, result: object, now: float) -> None:
        q = self._queue(queue)
        if q is None or not q.busy or q.hop.connector is None:
            return
        conn = self.connectors.get(q.hop.connector)
        if conn is None:
            busy, q.busy, q.status = list(q.busy), set(), "Ready"
            self._reroute(busy, now)
            self._settle(now)
            return
        error = getattr(result, "error", None)
        if error:
            outcome = O.dns_failure(error, conn.dns_routing_enabled, conn.downgrades_dns_failures,
                                    q.hop.next_hop_domain)
            self._step_all(q, "fidelity §6", outcome.detail, now)
            self._apply(q, outcome, list(q.busy), now)
            self._settle(now)
            return
        super().resolution_result(queue, result, now)


class Twins(TwinDrive):
    """The same events into both transports; every command answered the same way in both."""

    def __init__(self, rng: random.Random, settings: TransportSettings):
        self.rng = rng
        self.now = 0.0
        # the times each driver holds a timer for (one per time, as MemoryTransport keeps them)
        self.wakeups: list[set[float]] = [set(), set()]
        self.held: list[tuple[O.Command, O.Command]] = []  # resolutions and sessions answered later
        self.pair = [cls(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET, PARTNER], settings, boot="b")
                     for cls in (Transport, General)]
        self.connectors = CONNECTOR_SETS[0]
        self.steps = 0

    def check(self) -> None:
        new, old = self.pair
        assert repr(new.queues()) == repr(old.queues())
        assert repr(new.messages()) == repr(old.messages())
        assert new.statistics() == old.statistics()
        assert new._requested == old._requested
        for before in (math.inf, self.now + 300, self.now):  # the next deadline from the sorted marks
            for now in (self.now, self.now - 1, self.now + 600, self.now + 5 * 3600):
                assert new._next_deadline(now, before) == min((t for t in new._deadlines(before) if t > now),
                                                              default=None)
        for internal_id in old._messages:
            assert repr(new.trace(internal_id)) == repr(old.trace(internal_id))
        for t in self.pair:  # the index of occupied queues is the queues of the items held
            assert t._occupied == {i.queue for i in t._items.values()}

    def answer(self, a: O.Command, b: O.Command) -> None:
        if isinstance(a, (O.ResolveMx, O.ResolveHosts)):
            if self.rng.random() < 0.3:  # answered later (lab time may move on meanwhile)
                self.held.append((a, b))
            else:
                self.resolve(a, b)
        elif isinstance(a, O.DeliverLocal):
            for t, c in zip(self.pair, (a, b)):
                t.delivery_result(c.queue, O.Delivered(), self.now, items=(c.item,))
        elif isinstance(a, O.Connect):
            if self.rng.random() < 0.3:
                self.held.append((a, b))
            else:
                self.connect(a, b)

    def resolve(self, a: O.Command, b: O.Command) -> None:
        fail = self.rng.random() < 0.4
        result = MxResult("x", (), self.rng.choice(["NoRecords", "NonExistentDomain", "ServerFailure"])) if fail \
            else MxResult("x", (Target("mx", 10, ("192.0.2.1",)),))
        for t, c in zip(self.pair, (a, b)):
            t.resolution_result(c.queue, result, self.now)

    def connect(self, a: O.Connect, b: O.Connect) -> None:
        choice = self.rng.choice(["ok", "transient", "transient", "permanent", "refuse-one", "defer-one"])
        for i, env in enumerate(a.envelopes):
            first = env.recipients[0]
            if choice in ("refuse-one", "defer-one"):
                reply = O.remote_reply(550 if choice == "refuse-one" else 451, "5.1.1 nope", "rcpt").__dict__
                outcome = O.Delivered("250 ok", "192.0.2.1:25",
                                      ((first, reply["reply"]),) if choice == "refuse-one" else (),
                                      ((first, reply["last_error"]),) if choice == "defer-one" else ())
            else:
                outcome = {"ok": O.Delivered("250 ok", "192.0.2.1:25"),
                           "transient": O.connect_failure("Timeout", "192.0.2.1:25"),
                           "permanent": O.remote_reply(550, "5.7.1 rejected", "data")}[choice]
            for t, c in zip(self.pair, (a, b)):
                t.delivery_result(c.queue, outcome, self.now, items=(c.envelopes[i].item,))

    def set_connectors(self) -> None:
        if self.rng.random() < 0.3:
            self.connectors = self.rng.choice(CONNECTOR_SETS)
        if self.rng.random() < 0.3:  # a world change that left the connectors alone (MemoryLab.world)
            new, old = self.pair
            new.reroute_waiting(self.now)
            old.set_connectors(tuple(old.connectors.values()), self.now)
            return
        connectors = list(self.connectors) if self.rng.random() < 0.5 else self.connectors
        for t in self.pair:
            t.set_connectors(connectors, self.now)

    def step(self) -> None:
        rng, self.steps = self.rng, self.steps + 1
        op = rng.choice(["submit"] * 3 + ["advance"] * 3 + ["connectors"] * 4 + ["release", "retry", "suspend", "late"])
        new, old = self.pair
        if op == "submit":
            msg = NS(mail_from=rng.choice(["alice@contoso.com", ""]),
                     rcpt_tos=tuple(rng.sample(RECIPIENTS, rng.randint(1, 3))),
                     data=f"Subject: m{self.steps}\r\n\r\nbody\r\n".encode(), message_id="", source_ip="192.0.2.9")
            assert repr(new.submit(msg, self.now)) == repr(old.submit(msg, self.now))
        elif op == "advance":
            target = self.now + rng.choice([0, 1, 60, 180, 181, 300, 900, 3600, 4 * 3600, 86400, 2 * 86400])
            while due := sorted(w for w in self.wakeups[0] if w <= target):
                for held in self.wakeups:
                    held.discard(due[0])
                self.now = max(self.now, due[0])
                for t in self.pair:
                    t.wakeup(self.now)
                self.drain()
                if rng.random() < 0.3:
                    self.set_connectors()
                    self.drain()
            self.now = target
            if rng.random() < 0.2:  # a wakeup that nobody asked for
                for t in self.pair:
                    t.wakeup(self.now)
        elif op == "late":  # lab time moves on while the wakeups due stay pending (late timers)
            self.now += rng.choice([1, 180, 300, 3600, 5 * 3600, 3 * 86400])
            held, self.held = self.held, []
            for a, b in held:
                if isinstance(a, O.Connect):
                    self.connect(a, b)
                else:
                    self.resolve(a, b)
        elif op in ("retry", "suspend"):
            identity = rng.choice([q.identity for q in new.queues()])
            resubmit, suspend = rng.random() < 0.3, rng.random() < 0.5
            for t in self.pair:
                try:
                    if op == "retry":
                        t.retry_queue(identity, self.now, resubmit=resubmit)
                    else:
                        t.suspend_queue(identity, self.now, suspend=suspend)
                except KeyError:
                    pass
        else:
            self.set_connectors()
        self.drain()


@pytest.mark.parametrize("seed", range(30))
def test_settle_shortcuts_emit_what_the_general_path_emits(seed):
    settings = TransportSettings(queue_max_idle_time=[180, 0, 3600][seed % 3], delay_dsn_enabled=seed % 4 != 0,
                                 transient_failure_retry_interval=[300, 0][seed % 5 == 0])
    twins = Twins(random.Random(seed), settings)
    if seed % 2:  # the times passed by a wakeup forgotten as soon as two are kept
        twins.pair[0]._standing_max = 2
    for _ in range(80):
        twins.step()


def test_the_shortcuts_are_taken():
    """The differential test above would be vacuous if the shortcut never fired."""
    taken = []

    class Counting(Transport):
        def _settle(self, now: float) -> None:
            taken.append(now)
            super()._settle(now)

    twins = Twins(random.Random(7), TransportSettings())
    twins.pair[0] = Counting(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET, PARTNER], TransportSettings(),
                             boot="b")
    settles = []

    class CountingGeneral(General):
        def _settle(self, now: float) -> None:
            settles.append(now)
            super()._settle(now)

    twins.pair[1] = CountingGeneral(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET, PARTNER],
                                    TransportSettings(), boot="b")
    for _ in range(80):
        twins.step()
    assert len(taken) < len(settles)


def test_wakeups_the_driver_holds_are_not_asked_for_again():
    """The differential test above would be vacuous if no wakeup were left out."""
    counted = []

    class Counting(Transport):
        def _schedule(self, now: float) -> None:
            before = len(self._out)
            super()._schedule(now)
            counted.extend(self._out[before:])

    twins = Twins(random.Random(3), TransportSettings())
    twins.pair[0] = Counting(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET, PARTNER], TransportSettings(),
                             boot="b")
    for _ in range(120):
        twins.step()
    assert 0 < len(counted) < twins.pair[1].emitted


def test_an_untouched_transport_left_alone_by_connector_changes_shows_the_same():
    pair = [cls(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET], TransportSettings(queue_max_idle_time=0))
            for cls in (Transport, General)]
    for now, connectors in [(0.0, [INTERNET]), (500.0, []), (86400.0, [PARTNER]), (86400.0, [PARTNER])]:
        for t in pair:
            t.set_connectors(connectors, now)
        assert repr(pair[0].pop_commands()) == repr(pair[1].pop_commands())
        assert repr(pair[0].queues()) == repr(pair[1].queues())
    msg = NS(mail_from="alice@contoso.com", rcpt_tos=("x@fabrikam.com",), data=b"Subject: s\r\n\r\nb\r\n",
             message_id="", source_ip="")
    assert repr(pair[0].submit(msg, 90000.0)) == repr(pair[1].submit(msg, 90000.0))
    assert repr(pair[0].pop_commands()) == repr(pair[1].pop_commands())
    assert repr(pair[0].queues()) == repr(pair[1].queues())
