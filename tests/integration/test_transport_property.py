"""Property: no accepted message is ever lost or duplicated across delivery failures and restarts.

A fake network answers the transport's commands with random outcomes, some attempts stay in
flight, and the server "crashes" at random: the in-flight work is lost, a new Transport is
built and reloads the real spool (``state_dir/queue``). At the end the network heals and lab
time runs past expiry. Every (accepted message, recipient) must then be delivered exactly
once or bounced exactly once, and the spool must be empty.
"""
from __future__ import annotations

import tempfile
from collections import Counter
from types import SimpleNamespace as NS

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.adapters.spool import Spool
from lab.core.dns_resolution import MxResult, Target
from lab.core.exchange import dsn as D
from lab.core.exchange import outcomes as O
from lab.core.exchange.queue import Transport
from lab.core.exchange.send_connector import SendConnector

ORG = NS(accepted_domains=[{"DomainName": "contoso.com", "DomainType": "Authoritative", "Default": True}],
         mailboxes=[{"PrimarySmtpAddress": "alice@contoso.com"}, {"PrimarySmtpAddress": "bob@contoso.com"}])
CONNECTORS = [SendConnector.from_mapping({"Name": "Internet", "AddressSpaces": "*"})]
RECIPIENTS = ["bob@contoso.com", "x@fabrikam.com", "y@fabrikam.com", "z@tailspin.example", "ghost@contoso.com"]
OUTCOMES = ["ok", "ok", "transient", "permanent", "refuse-one", "defer-one", "hold"]


class Harness:
    def __init__(self, state_dir: str):
        self.spool = Spool(state_dir)
        self.now = 0.0
        self.delivered: Counter = Counter()
        self.bounced: Counter = Counter()
        self.accepted: dict[str, tuple[str, ...]] = {}
        self.held: list = []
        self.wakeups: list[float] = []
        self.boots = 0
        self.boot()

    def boot(self) -> None:
        self.boots += 1
        self.transport = Transport(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, CONNECTORS, boot=str(self.boots))
        self.held, self.wakeups = [], []
        for record in self.spool.load():
            self.transport.restore(record, self.now)
        self.run(lambda: "ok")

    def run(self, pick) -> None:
        while cmds := self.transport.pop_commands():
            for c in cmds:
                self.execute(c, pick)

    def execute(self, c, pick) -> None:
        t = self.transport
        if isinstance(c, O.Persist):
            self.spool.write(c.record)
        elif isinstance(c, O.Checkpoint):
            self.spool.checkpoint(c.internal_id, c.done, c.delay_dsn_sent)
        elif isinstance(c, O.Release):
            self.spool.remove(c.internal_id)
        elif isinstance(c, O.Track) and c.event.event_id == "FAIL":
            for rcpt in c.event.recipients:
                self.bounced[(c.event.message_id, rcpt)] += 1
        elif isinstance(c, O.RequestWakeup):
            self.wakeups.append(c.at)
        elif isinstance(c, O.ResolveMx):
            t.resolution_result(c.queue, MxResult(c.domain, (Target("mx", 10, ("192.0.2.1",)),)), self.now)
        elif isinstance(c, O.DeliverLocal):
            self.record(c.data, c.recipients)
            t.delivery_result(c.queue, O.Delivered(), self.now, items=(c.item,))
        elif isinstance(c, O.Connect):
            self.connect(c, pick)

    def record(self, data: bytes, recipients) -> None:
        message_id = str(D.original_headers(data).get("Message-ID"))
        for rcpt in recipients:
            self.delivered[(message_id, rcpt)] += 1

    def connect(self, c: O.Connect, pick) -> None:
        choice = pick()
        if choice == "hold":
            self.held.append(c)
            return
        for env in c.envelopes:
            if choice == "ok":
                self.record(env.data, env.recipients)
                outcome = O.Delivered("250 ok", "192.0.2.1:25")
            elif choice in ("refuse-one", "defer-one"):
                first, rest = env.recipients[0], env.recipients[1:]
                self.record(env.data, rest)
                reply = O.remote_reply(550 if choice == "refuse-one" else 451, "5.1.1 nope", "rcpt").__dict__
                refused = ((first, reply["reply"]),) if choice == "refuse-one" else ()
                deferred = ((first, reply["last_error"]),) if choice == "defer-one" else ()
                outcome = O.Delivered("250 ok", "192.0.2.1:25", refused, deferred)
            elif choice == "transient":
                outcome = O.connect_failure("Timeout", "192.0.2.1:25")
            else:
                outcome = O.remote_reply(550, "5.7.1 rejected", "data")
            self.transport.delivery_result(c.queue, outcome, self.now, items=(env.item,))

    def release_held(self, pick) -> None:
        held, self.held = self.held, []
        for c in held:
            self.connect(c, pick)
        self.run(pick)

    def advance(self, dt: float, pick) -> None:
        target = self.now + dt
        while due := sorted(w for w in self.wakeups if w <= target):
            self.wakeups.remove(due[0])
            self.now = max(self.now, due[0])
            self.transport.wakeup(self.now)
            self.run(pick)
        self.now = target


operations = st.lists(st.one_of(
    st.tuples(st.just("submit"), st.lists(st.sampled_from(RECIPIENTS), min_size=1, max_size=4, unique=True)),
    st.tuples(st.just("advance"), st.sampled_from([60, 300, 900, 3600, 4 * 3600, 86400])),
    st.tuples(st.just("release"), st.none()),
    st.tuples(st.just("restart"), st.none()),
), min_size=1, max_size=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations, st.data())
def test_every_accepted_message_ends_exactly_once(ops, data):
    with tempfile.TemporaryDirectory() as state_dir:
        h = Harness(state_dir)
        pick = lambda: data.draw(st.sampled_from(OUTCOMES))  # noqa: E731
        for n, (op, arg) in enumerate(ops):
            if op == "submit":
                msg = NS(mail_from="alice@contoso.com", rcpt_tos=arg, data=f"Subject: m{n}\r\n\r\nx\r\n".encode())
                result = h.transport.submit(msg, h.now)
                h.accepted[result.message_id] = tuple(arg)
                cmds = h.transport.pop_commands()
                assert isinstance(cmds[0], O.Persist) and cmds[0].record.internal_id == result.internal_id
                for c in cmds:
                    h.execute(c, pick)
                h.run(pick)
            elif op == "advance":
                h.advance(arg, pick)
            elif op == "release":
                h.release_held(pick)
            else:
                h.boot()
        heal = lambda: "ok"  # noqa: E731
        h.release_held(heal)
        h.advance(3 * 86400, heal)
        for message_id, rcpts in h.accepted.items():
            for rcpt in rcpts:
                ends = h.delivered[(message_id, rcpt)] + h.bounced[(message_id, rcpt)]
                assert ends == 1, (message_id, rcpt, h.delivered[(message_id, rcpt)], h.bounced[(message_id, rcpt)])
        assert h.spool.ids() == [] and h.transport.statistics()["messages"] == 0
