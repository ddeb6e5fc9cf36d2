"""EOP's queue in the running default lab: durable, robust, woken only when something is due.

EX01 is down (its listeners closed): mail user02 sends to user01 (on-prem) is accepted by EOP
with 250 and waits in EOP's queue. The queue item is in ``state_dir/queue/eop`` before the 250,
survives a stop and a start, and is delivered exactly once when EX01 is back. An attempt that
raises is the item's transient failure (the retry loop lives on); a failing QUIT after DATA
does not send the message again; a long clock advance fires only the real retries.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path

import aiosmtplib
import pytest

from hybrid_support import (SUBMISSION_IP, TIMEOUT, any_server, fresh_lab, mailbox, message, settle, smtp,
                            start_lab)

pytestmark = pytest.mark.live

SUBJECT = "accepted while EX01 was down"
RETRY = 15 * 60


async def _ex01_down(lab) -> None:
    service = lab.exchange["ex01"]
    for (_, port), listener in list(service.listeners.items()):
        await listener.close()
        lab.addressing.listening.discard(("ex01", port))
    service.listeners.clear()


async def _user02_sends(lab, subject: str) -> str:
    client = smtp(lab, "internet-client", "eop", SUBMISSION_IP, 587, helo="LAPTOP-02")
    await client.connect()
    try:
        await client.ehlo()
        await client.starttls(tls_context=any_server())
        await client.ehlo()
        await client.login("user02@ixmsoft.com", "P@ssw0rd")
        errors, reply = await client.sendmail("user02@ixmsoft.com", ["user01@ixmsoft.com"],
                                              message("user02@ixmsoft.com", "user01@ixmsoft.com", subject))
        assert errors == {}
        return reply
    finally:
        client.close()


def _spooled(state: Path) -> list[Path]:
    return sorted((state / "queue" / "eop").glob("*.json"))


def test_mail_eop_accepted_survives_a_restart_and_is_delivered_once(tmp_path: Path):
    state = tmp_path / "state"

    async def first_run() -> None:
        lab = await start_lab(state)
        try:
            await _ex01_down(lab)
            reply = await _user02_sends(lab, SUBJECT)
            assert reply.startswith("2.6.0 ")
            await settle(lab)
            [item] = lab.eop["eop"].pending
            assert item.item.attempts == 1 and item.item.last_error is not None
            assert len(_spooled(state)) == 1
        finally:
            await lab.stop()

    async def second_run() -> None:
        lab = await start_lab(state)
        try:
            [item] = lab.eop["eop"].pending  # taken back from the state dir
            assert item.item.recipients == ("user01@ixmsoft.com",) and item.item.attempts == 1
            assert [r.status for r in lab.eop["eop"].message_trace() if r.subject == SUBJECT] == ["Pending"]
            await lab.clock.advance(RETRY)
            await settle(lab)
            assert len(mailbox(lab, "user01@ixmsoft.com", SUBJECT)) == 1
            assert not lab.eop["eop"].pending and _spooled(state) == []
            await lab.clock.advance(3 * 3600)
            await settle(lab)
            assert len(mailbox(lab, "user01@ixmsoft.com", SUBJECT)) == 1, "delivered exactly once"
        finally:
            await lab.stop()

    asyncio.run(asyncio.wait_for(first_run(), TIMEOUT))
    asyncio.run(asyncio.wait_for(second_run(), TIMEOUT))


def test_an_attempt_that_raises_is_a_transient_failure_and_the_queue_keeps_running(tmp_path: Path, caplog):
    async def scenario(lab) -> None:
        service = lab.eop["eop"]
        working = service.outbound

        async def broken(name: str) -> list[str]:
            raise RuntimeError("no resolver")

        service.outbound = dataclasses.replace(working, resolve_host=broken)
        await _user02_sends(lab, "while DNS is broken")
        await settle(lab)
        [item] = service.pending
        assert item.item.last_error is not None and item.item.last_error.enhanced == "4.4.318"
        assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)
        await lab.clock.advance(RETRY)  # the retry loop is alive: a second attempt, still failing
        await settle(lab)
        assert service.pending and service.pending[0].item.attempts == 2
        service.outbound = working
        await lab.clock.advance(RETRY)
        await settle(lab)
        assert not service.pending
        assert len(mailbox(lab, "user01@ixmsoft.com", "while DNS is broken")) == 1

    with caplog.at_level(logging.ERROR, logger="lab.adapters.eop"):
        fresh_lab(tmp_path, scenario)


def test_a_failing_quit_after_data_does_not_send_the_message_again(tmp_path: Path, monkeypatch):
    async def failing_quit(self, *args, **kwargs):
        raise aiosmtplib.SMTPServerDisconnected("gone")

    async def scenario(lab) -> None:
        monkeypatch.setattr(aiosmtplib.SMTP, "quit", failing_quit)
        await _user02_sends(lab, "quit fails")
        await settle(lab)
        await lab.clock.advance(2 * 3600)
        await settle(lab)
        assert len(mailbox(lab, "user01@ixmsoft.com", "quit fails")) == 1
        assert not lab.eop["eop"].pending
        [row] = [r for r in lab.eop["eop"].message_trace() if r.subject == "quit fails"]
        assert row.status == "Delivered"

    fresh_lab(tmp_path, scenario)


def test_eop_wakes_only_for_due_retries_and_a_huge_advance_ends(tmp_path: Path):
    async def scenario(lab) -> None:
        service = lab.eop["eop"]
        await _ex01_down(lab)
        steps = {"n": 0}
        step = lab.clock.env.step

        def counting_step() -> None:
            steps["n"] += 1
            step()

        lab.clock.env.step = counting_step
        await _user02_sends(lab, "never delivered")
        await settle(lab)
        [item] = service.pending
        await lab.clock.advance(3600)
        await settle(lab)
        assert service.pending[0].item.attempts == 5  # at 0, 15, 30, 45 and 60 minutes
        assert steps["n"] < 50, steps  # no polling once a lab minute (that alone would be 60)
        await lab.clock.advance(99_999 * 86400)  # far beyond expiry: ends, with the NDR
        await settle(lab)
        assert not service.pending
        assert [e for e in service.events if e[0] == item.item.id][-1][1] == "Failed"
        assert len(mailbox(lab, "user02@ixmsoft.com")) == 1  # the NDR
        assert steps["n"] < 1000, steps

    fresh_lab(tmp_path, scenario)
