"""The spool in the running default lab: mail accepted with 250 survives a stop and a start.

fabrikam's server is down (its listeners closed, so a connection is refused): MAIL1 accepts a
relayed message, queues it with the Winsock 10061 LastError and keeps it in
``state_dir/queue/mail1``. The lab stops; a new lab starts on the same state dir, takes the
message back from the spool and delivers it to fabrikam's mailbox, exactly once.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

from onprem_support import any_server_context, client, default_lab, message, settle, with_subject

SUBJECT = "accepted while fabrikam was down"


async def _fabrikam_down(lab) -> None:
    service = lab.exchange["fabrikam-ex"]
    for (_, port), listener in list(service.listeners.items()):
        await listener.close()
        lab.addressing.listening.discard(("fabrikam-ex", port))
    service.listeners.clear()


async def _relay(lab) -> str:
    smtp = client(lab, "erp", "mail1", "192.168.0.10", 587)
    await smtp.connect()
    await smtp.ehlo()
    await smtp.starttls(tls_context=any_server_context())
    await smtp.ehlo()
    await smtp.login("erp@office26.com", "Erp-Passw0rd")
    errors, text = await smtp.sendmail("erp@office26.com", ["someone@fabrikam.com"],
                                       message("erp@office26.com", "someone@fabrikam.com", SUBJECT))
    await smtp.quit()
    assert errors == {}
    return text


def test_message_accepted_while_destination_down_is_delivered_after_restart(tmp_path: Path):
    state = tmp_path / "state"

    async def first_run() -> None:
        async with default_lab(state) as lab:
            await _fabrikam_down(lab)
            reply = await _relay(lab)
            assert reply.startswith("2.6.0 <")
            await settle(lab)
            [queue] = [q for q in lab.exchange["mail1"].transport.queues() if q.next_hop_domain == "fabrikam.com"]
            assert queue.status == "Retry" and queue.message_count == 1
            assert queue.last_error.startswith('441 4.4.1 Error encountered while communicating with primary target '
                                               'IP address: "Failed to connect. Winsock error code: 10061'), \
                queue.last_error
            assert len(list((state / "queue" / "mail1").glob("*.json"))) == 1
            assert not with_subject(lab, "someone@fabrikam.com", SUBJECT)

    async def second_run() -> None:
        async with default_lab(state) as lab:
            await settle(lab)
            if not with_subject(lab, "someone@fabrikam.com", SUBJECT):
                await lab.clock.advance(15 * 60)  # at the latest, the next retry
                await settle(lab)
            assert len(with_subject(lab, "someone@fabrikam.com", SUBJECT)) == 1
            assert list((state / "queue" / "mail1").glob("*.json")) == []
            await lab.clock.advance(3600)
            await settle(lab)
            assert len(with_subject(lab, "someone@fabrikam.com", SUBJECT)) == 1, "delivered exactly once"

    asyncio.run(asyncio.wait_for(first_run(), 60))
    asyncio.run(asyncio.wait_for(second_run(), 60))
