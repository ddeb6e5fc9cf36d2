"""The live loopback driver and the in-memory driver give the same outcomes for the same sends.

Both labs are built from the default topology and the SAME PKI (the memory lab's trust table is
computed from the live lab's PKI). Each flow is sent on both; the final replies (Message-IDs
aside: the live listeners mint uuid4 GUIDs), the delivered mailboxes (by subject) and every
queue's LastError must be equal.
"""
from __future__ import annotations

import asyncio
import re
from email import message_from_bytes
from pathlib import Path

import aiosmtplib

from lab.core.world import World
from lab.memory import MemoryLab, trust_from_pki
from lab.runtime import Lab
from lab.topology.load import load_topology

TOPOLOGY = Path(__file__).resolve().parents[2] / "topology.yaml"
_ID = re.compile(r"<[^<>@\s]+@")

FLOWS = [
    # (label, source node, server, port, mail_from, rcpts, tls, auth)
    ("contoso to xutonglin through TMG", "internet-client", "100.100.100.10", 587, "contoso@contoso.com",
     ["allen@xutonglin.com"], True, ("contoso@contoso.com", "P@ssw0rd")),
    ("ERP relay refused", "erp", "192.168.0.10", 25, "erp@office26.com", ["someone@fabrikam.com"], False, None),
    ("ERP internal", "erp", "192.168.0.10", 25, "erp@office26.com", ["administrator@office26.com"], False, None),
    ("587 AUTH relay", "erp", "192.168.0.10", 587, "erp@office26.com", ["someone@fabrikam.com"], True,
     ("erp@office26.com", "Erp-Passw0rd")),
    ("on-prem to cloud (user02)", "internet-client", "198.51.100.30", 25, "someone@fabrikam.com",
     ["user02@ixmsoft.com"], False, None),
    ("cloud to on-prem (user01)", "internet-client", "52.97.10.10", 587, "user02@ixmsoft.com",
     ["user01@ixmsoft.com"], True, ("user02@ixmsoft.com", "P@ssw0rd")),
    ("relay01 without a connector", "relay01", "40.107.22.10", 25, "app@ixmsoft.com", ["someone@fabrikam.com"],
     False, None),
    ("anonymous to Exchange 2010 default", "internet-client", "100.100.100.10", 25, "x@fabrikam.com",
     ["contoso@contoso.com"], False, None),
]
MAILBOXES = ["allen@xutonglin.com", "administrator@office26.com", "someone@fabrikam.com", "user01@ixmsoft.com",
             "user02@ixmsoft.com", "contoso@contoso.com"]


def body(subject: str) -> bytes:
    return f"From: probe@lab\r\nSubject: {subject}\r\n\r\n{subject}\r\n".encode()


def normal(reply: str) -> str:
    return _ID.sub("<ID@", reply)


async def live_send(lab: Lab, src: str, ip: str, port: int, mail_from: str, rcpts: list[str], data: bytes,
                    tls: bool, auth: tuple[str, str] | None) -> tuple[bool, str]:
    where = lab.addressing.locate(src, ip, port)
    assert not isinstance(where, str), where
    smtp = aiosmtplib.SMTP(hostname=where[0], port=where[1], source_address=(lab.addressing.primary(src), 0),
                           local_hostname=src, start_tls=False, timeout=10)
    await smtp.connect()
    try:
        await smtp.ehlo()
        if tls:
            import ssl  # noqa: PLC0415
            ctx = ssl.create_default_context()
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            await smtp.starttls(tls_context=ctx)
            await smtp.ehlo()
        if auth:
            await smtp.login(*auth)
        _, message = await smtp.sendmail(mail_from, rcpts, data)
        return True, f"250 {message}"
    except aiosmtplib.SMTPRecipientsRefused as exc:
        first = exc.recipients[0]
        return False, f"{first.code} {first.message}"
    except aiosmtplib.SMTPResponseException as exc:
        return False, f"{exc.code} {exc.message}"
    finally:
        smtp.close()


def live_mailbox(lab: Lab, address: str) -> list[str]:
    box = lab.state_dir / "mailboxes" / address / "new"
    files = sorted(box.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name)) if box.exists() else []
    return sorted(message_from_bytes(p.read_bytes())["Subject"] for p in files)


def memory_mailbox(lab: MemoryLab, address: str) -> list[str]:
    return sorted(message_from_bytes(m)["Subject"] for m in lab.mailbox(address))


async def settle(lab: Lab) -> None:
    """Lab tasks blocked, and EOP's own delivery tasks (not lab tasks) done: nothing moves for a while."""
    previous = None
    for _ in range(100):
        await lab.clock.settle()
        await asyncio.sleep(0.05)
        state = (tuple(tuple(live_mailbox(lab, a)) for a in MAILBOXES), len(lab.eop["eop"].events),
                 tuple(q.last_error for s in lab.exchange.values() for q in s.transport.queues()))
        if state == previous:
            return
        previous = state


def queue_errors(transports) -> dict[str, list[tuple[str, str, str | None]]]:
    return {node: [(q.identity, q.status, q.last_error) for q in t.queues()] for node, t in transports.items()}


def compare(live: Lab, memory: MemoryLab) -> None:
    assert {a: live_mailbox(live, a) for a in MAILBOXES} == {a: memory_mailbox(memory, a) for a in MAILBOXES}
    assert queue_errors({n: s.transport for n, s in live.exchange.items()}) == \
        queue_errors({n: s.transport for n, s in memory.transports.items()})
    assert [(p.item.recipients, p.item.last_error) for p in live.eop["eop"].pending] == \
        [(i.recipients, i.last_error) for i in memory.eop_queue()]


def test_the_article_flows_agree(tmp_path):
    asyncio.run(_article_flows(tmp_path))


async def _article_flows(tmp_path: Path) -> None:
    topology = load_topology(TOPOLOGY)
    async with Lab(topology, tmp_path, loopback_base="127.93.0.0/16", live_clock=False) as live:
        trust = trust_from_pki(live.pki)
        memory = MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)
        for label, src, ip, port, sender, rcpts, tls, auth in FLOWS:
            live_ok, live_reply = await live_send(live, src, ip, port, sender, rcpts, body(label), tls, auth)
            await settle(live)
            result = memory.send(src, ip, port, sender, rcpts, body(label), tls=tls, auth=auth)
            assert (label, result.accepted, normal(result.reply)) == (label, live_ok, normal(live_reply))
            compare(live, memory)

        # missing MX: queued with 451 4.4.0 DNS query failed ... InfoNoRecords, then an NDR after 2 days
        broken = live.world.zones.without_record("xutonglin.com", "MX").without_record("mail.xutonglin.com", "A")
        live.world = live.world.evolve(zones=broken)
        memory.world = memory.world.evolve(zones=broken)
        flow = FLOWS[0]
        live_ok, live_reply = await live_send(live, *flow[1:6], body("no MX"), *flow[6:])
        await settle(live)
        result = memory.send(*flow[1:6], body("no MX"), tls=flow[6], auth=flow[7])
        assert (result.accepted, normal(result.reply)) == (live_ok, normal(live_reply))
        compare(live, memory)
        errors = [q.last_error for q in memory.queues("contoso-ex") if q.last_error]
        assert errors and "InfoNoRecords" in errors[0]
        for step in (4 * 3600 + 60, 44 * 3600, 3600):
            await live.clock.advance(step)
            await settle(live)
            memory.advance(step)
            compare(live, memory)
        assert "Undeliverable: no MX" in memory_mailbox(memory, "contoso@contoso.com")
