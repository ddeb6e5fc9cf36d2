"""Running flows on the real lab (``lab check --live``): sockets on loopback, real STARTTLS.

:class:`LiveDriver` starts :class:`lab.runtime.Lab` in-process on its own event loop thread, in a
fresh state dir and its own loopback block (the live clock off: lab time moves only when a
probe asks). Each flow is an aiosmtplib conversation from the source node's loopback address;
then the driver waits until the lab is quiet and looks where the memory driver looks: the
recipient's Maildir, the transports' messages (LastError), EOP's queue, the sender's Maildir
(an NDR and its Diagnostic-Code).
"""
from __future__ import annotations

import asyncio
import itertools
import ipaddress
import threading
from pathlib import Path
from typing import Any

from lab.core.catalogue import probes as T
from lab.core.dns_resolution import resolve_host
from lab.probes.memory_driver import message
from lab.probes.model import Flow
from lab.probes.outcome import Outcome, find_token, ndr_diagnostic


class LiveDriver:
    """The running lab as a probe driver (``with LiveDriver(topology, state_dir, base) as d: d.run(flow)``)."""

    name = "live"

    def __init__(self, topology: Any, state_dir: str | Path, loopback_base: str):
        from lab.runtime import Lab  # noqa: PLC0415
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.lab = Lab(topology, state_dir, loopback_base=loopback_base, live_clock=False)
        self._tokens = itertools.count(1)

    def __enter__(self) -> "LiveDriver":
        self.thread.start()
        self._call(self.lab.start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._call(self.lab.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    def run(self, flow: Flow) -> Outcome:
        token = f"lab-live-probe-{next(self._tokens):06d}"
        return self._call(self._run(flow, token))

    async def _run(self, flow: Flow, token: str) -> Outcome:
        transcript: list[str] = []
        accepted, reply, failure = await self._send(flow, message(token, flow), transcript)
        await self._settle()
        if flow.advance:
            await self.lab.clock.advance(flow.advance)
            await self._settle()
        trace = tuple(transcript)
        if not accepted:
            return Outcome(T.REJECTED, reply, flow.server, trace) if reply else Outcome(T.FAILED, failure,
                                                                                      flow.server, trace)
        return self._observe(flow, token.encode("ascii"), reply, trace)

    async def _send(self, flow: Flow, data: bytes, transcript: list[str]) -> tuple[bool, str, str]:
        import aiosmtplib  # noqa: PLC0415

        from lab.adapters.tls import client_context  # noqa: PLC0415
        ip = _address(self.lab.world, flow.server)
        if ip is None:
            return False, "", "NoSuchHost"
        where = self.lab.addressing.locate(flow.source, ip, flow.port)
        if isinstance(where, str):
            return False, "", where
        smtp = aiosmtplib.SMTP(hostname=where[0], port=where[1], source_address=(where[2], 0),
                               local_hostname=flow.source, start_tls=False, timeout=15)
        try:
            await smtp.connect()
            transcript.append(f"C: EHLO {flow.source}")
            await smtp.ehlo()
            if flow.tls:
                if not smtp.supports_extension("starttls"):
                    return False, "", "StartTlsNotOffered"
                cert = self.lab.keys.get(flow.certificate) if flow.certificate else None
                context = client_context(cert)
                context.check_hostname, context.verify_mode = False, __import__("ssl").CERT_NONE
                transcript.append("C: STARTTLS")
                await smtp.starttls(tls_context=context)
                await smtp.ehlo()
            if flow.auth:
                transcript.append("C: AUTH <credentials>")
                await smtp.login(*flow.auth)
            transcript.append(f"C: MAIL FROM:<{flow.mail_from}> / RCPT TO:<{flow.recipient}> / DATA")
            _, text = await smtp.sendmail(flow.mail_from, [flow.recipient], data)
            transcript.append(f"S: 250 {text}")
            return True, f"250 {text}", ""
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            transcript.append(f"S: {first.code} {first.message}")
            return False, f"{first.code} {first.message}", ""
        except aiosmtplib.SMTPResponseException as exc:
            transcript.append(f"S: {exc.code} {exc.message}")
            return False, f"{exc.code} {exc.message}", ""
        except (aiosmtplib.SMTPException, OSError) as exc:
            transcript.append(f"*: {exc}")
            return False, "", type(exc).__name__
        finally:
            smtp.close()

    async def _settle(self) -> None:
        """Lab tasks blocked and nothing changing for a moment (EOP delivers outside lab tasks)."""
        previous = None
        for _ in range(100):
            await self.lab.clock.settle()
            await asyncio.sleep(0.05)
            state = (len(self.lab.eop and next(iter(self.lab.eop.values())).events or ()),
                     sum(len(s.transport.messages()) for s in self.lab.exchange.values()),
                     sum(1 for _ in (self.lab.state_dir / "mailboxes").rglob("*")))
            if state == previous:
                return
            previous = state

    def _maildir(self, address: str) -> list[bytes]:
        box = self.lab.state_dir / "mailboxes" / address.lower() / "new"
        files = sorted(box.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name)) if box.exists() else []
        return [p.read_bytes() for p in files]

    def _observe(self, flow: Flow, token: bytes, reply: str, trace: tuple[str, ...]) -> Outcome:
        if find_token(self._maildir(flow.mailbox), token) is not None:
            return Outcome(T.DELIVERED, flow.mailbox, flow.mailbox, trace)
        subject = token.decode("ascii")
        events = [e for e in (self.lab.tracking.read() if self.lab.tracking else []) if e.get("MessageSubject") == subject]
        trace += tuple(f"tracking {e['EventId']} {e['Source']} on {e['ServerHostname']}: "
                       f"{', '.join(e['Recipients'])} {'; '.join(e['RecipientStatus'])}".rstrip() for e in events)
        failed = next((e for e in events if e["EventId"] == "FAIL"
                       and flow.recipient.lower() in (r.lower() for r in e["Recipients"])), None)
        if failed is not None:
            status = failed["RecipientStatus"][0] if failed["RecipientStatus"] else ""
            return Outcome(T.BOUNCED, status, failed["ServerHostname"], trace)
        for node, service in self.lab.exchange.items():
            for view in service.transport.messages():
                if view.subject == subject:
                    queue = next((q for q in service.transport.queues() if q.identity == view.queue), None)
                    error = view.last_error or (queue.last_error if queue else "") or ""
                    return Outcome(T.QUEUED, error, node, trace + (f"{node} queue {view.queue}: {error}",))
        rcpt, sender = flow.recipient.lower(), flow.mail_from.lower()
        for node, service in self.lab.eop.items():
            for pending in reversed(list(service.pending)):
                item = pending.item
                if item.mail_from.lower() == sender and rcpt in (r.lower() for r in item.recipients):
                    return Outcome(T.QUEUED, str(item.last_error or ""), node,
                                   trace + (f"EOP queue {item.hop_key}: LastError {item.last_error}",))
        if flow.sender_mailbox:
            ndr = find_token(self._maildir(flow.sender_mailbox), token)
            if ndr is not None:
                diagnostic = ndr_diagnostic(ndr) or ""
                return Outcome(T.BOUNCED, diagnostic, flow.sender_mailbox, trace + (f"NDR: {diagnostic}",))
        return Outcome(T.ACCEPTED, reply, "", trace)


def _address(world: Any, server: str) -> str | None:
    try:
        return str(ipaddress.ip_address(server))
    except ValueError:
        addresses = resolve_host(world.zones, server).addresses
        return addresses[0] if addresses else None
