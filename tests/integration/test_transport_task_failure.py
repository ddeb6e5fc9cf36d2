"""A transport network task that raises (resolver, smart-host lookup, connect) is not lost.

MAIL1 relays a message to fabrikam while its resolver raises: the driver logs the exception and
answers the transport with a dropped connection, so the queue goes to Retry (not Active forever)
and the message is delivered at the next retry once the resolver works again.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from onprem_support import default_lab, settle, with_subject
from test_onprem_restart import SUBJECT, _relay


def test_a_raising_resolver_leaves_the_queue_in_retry_and_the_message_is_retried(tmp_path: Path, caplog):
    async def main() -> None:
        async with default_lab(tmp_path / "state") as lab:
            driver = lab.exchange["mail1"].driver
            working = driver.resolve_mx, driver.resolve_host

            async def broken(name: str):
                raise RuntimeError("resolver crashed")

            driver.resolve_mx = driver.resolve_host = broken
            await _relay(lab)
            await settle(lab)
            [queue] = [q for q in lab.exchange["mail1"].transport.queues() if q.next_hop_domain == "fabrikam.com"]
            assert queue.status == "Retry", queue.status
            assert queue.last_error.startswith("421 4.4.2 Connection dropped due to SocketError"), queue.last_error
            assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)
            driver.resolve_mx, driver.resolve_host = working
            await lab.clock.advance(15 * 60)
            await settle(lab)
            assert len(with_subject(lab, "someone@fabrikam.com", SUBJECT)) == 1

    with caplog.at_level(logging.ERROR, logger="lab.adapters.transport_driver"):
        asyncio.run(asyncio.wait_for(main(), 60))
