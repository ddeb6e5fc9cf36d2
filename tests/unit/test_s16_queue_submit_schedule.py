"""A submit that only queues its message on a transport settled at that instant schedules the one
deadline it adds (the message's delay DSN or expiry) without looking for the next deadline among
all of them: driven side by side with the transport that always schedules in full (its submit
below, as it was), every command, the wakeups asked for included, must be the same at every step,
and so must the queues, messages and next deadlines; and the full schedule must be left out."""
from __future__ import annotations

import random
from types import SimpleNamespace as NS
from typing import Any

import pytest

from lab.core.exchange import outcomes as O
from lab.core.exchange.queue import Transport, _NS
from lab.core.exchange import dsn as D
from lab.core.exchange.queue_records import QueuedMessage, SubmitResult, TransportSettings
from lab.core.fastpath import uuid5_text

from test_s16_queue_delivery_settle import SettleTwins
from test_transport_indexes import INTERNET, ORG, PARTNER


class Scheduling(Transport):
    """submit as it was: the settle that ends it schedules in full."""

    def submit(self, msg: Any, now: float) -> SubmitResult:
        internal_id = self._take_internal_id()
        data = bytes(msg.data)
        message_id = str(getattr(msg, "message_id", "") or "") or str(D.original_headers(data).get("Message-ID", "") or "")
        if not message_id:
            message_id = f"<{uuid5_text(_NS, f'{self.fqdn}/{self.boot}/{internal_id}')}@{self.fqdn}>"
            data = f"Message-ID: {message_id}\r\n".encode() + data
        record = QueuedMessage(internal_id=internal_id, message_id=message_id,
                               mail_from=str(msg.mail_from or ""), recipients=tuple(msg.rcpt_tos), data=data,
                               received_at=now, source=str(getattr(msg, "source", "SMTP") or "SMTP"),
                               source_ip=str(getattr(msg, "source_ip", "") or ""),
                               connector=str(getattr(msg, "connector", "") or ""), done=(), delay_dsn_sent=False,
                               dsn_of=getattr(msg, "dsn_of", None))
        self._out.append(O.Persist(record))
        self._admit(record, now, "accepted")
        self._settle(now)
        return SubmitResult(message_id, internal_id)


class Counting(Transport):
    schedules = 0

    def _schedule(self, now: float) -> None:
        Counting.schedules += 1
        super()._schedule(now)


class ScheduleTwins(SettleTwins):
    def __init__(self, rng: random.Random, settings: TransportSettings):
        super().__init__(rng, settings)
        self.pair = [cls(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET, PARTNER], settings, boot="b")
                     for cls in (Transport, Scheduling)]

    def check(self) -> None:
        super().check()
        assert all(t._added is None for t in self.pair)

    def step(self) -> None:
        super().step()
        if self.rng.random() < 0.3:  # (more messages at one instant: a submit on a settled transport)
            msg = NS(mail_from=self.rng.choice(["alice@contoso.com", ""]), rcpt_tos=("bob@contoso.com",),
                     data=b"Subject: again\r\n\r\nbody\r\n", message_id="", source_ip="")
            assert repr(self.pair[0].submit(msg, self.now)) == repr(self.pair[1].submit(msg, self.now))
            self.drain()


@pytest.mark.parametrize("seed", range(40))
def test_a_submit_schedules_what_the_full_schedule_asked_for(seed):
    settings = TransportSettings(queue_max_idle_time=[180, 0, 3600, 60][seed % 4], delay_dsn_enabled=seed % 5 != 0,
                                 delay_notification_timeout=[4 * 3600, 0, 60][seed % 3])
    twins = ScheduleTwins(random.Random(seed), settings)
    for _ in range(60):
        twins.step()


def test_the_full_schedule_is_left_out():
    Counting.schedules = 0
    t = Counting(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET])
    msg = NS(mail_from="a@contoso.com", rcpt_tos=("x@d.example",), data=b"Subject: s\r\n\r\nb\r\n", message_id="",
             source_ip="")
    t.submit(msg, 0.0)  # (the first event: nothing held or asked for before it)
    assert Counting.schedules == 0
    assert [c.at for c in t.pop_commands() if isinstance(c, O.RequestWakeup)] == [4 * 3600.0]
    t.submit(msg, 0.0)  # (settled at 0: the delay DSN of the second message is no earlier)
    t.submit(msg, 10.0)  # (not settled at 10)
    assert Counting.schedules == 1
    t.wakeup(20.0)
    t.submit(msg, 20.0)
    assert Counting.schedules == 2
    assert not [c for c in t.pop_commands() if isinstance(c, O.RequestWakeup)]


@pytest.mark.parametrize("sender", ["", "alice@contoso.com"])
def test_a_message_bounced_at_once_adds_no_deadline_of_its_own(sender):
    """Every recipient bounced while routing (no DSN for a null sender): the message is not held,
    its delay DSN and expiry are no deadlines; with a sender, the NDR's are."""
    out = []
    for cls in (Transport, Scheduling):
        t = cls(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET])
        t.wakeup(0.0)  # (settled at 0, nothing to wait for)
        t.submit(NS(mail_from=sender, rcpt_tos=("ghost@contoso.com",), data=b"Subject: s\r\n\r\nb\r\n",
                    message_id="", source_ip=""), 0.0)
        out.append([c.at for c in t.pop_commands() if isinstance(c, O.RequestWakeup)])
    assert out[0] == out[1] == ([] if not sender else [4 * 3600.0])
