"""Running flows on the in-memory driver (:class:`lab.memory.MemoryLab`, public API only).

Each flow's message carries a unique subject; after the send the driver looks, in order, at
the recipient's mailbox, the message's tracking events (FAIL: bounced; a last DEFER: queued,
with the queue's LastError), EOP's queue, and the sender's mailbox (an NDR and its
Diagnostic-Code). The SMTP transcript, the tracking events and the LastErrors found are the
outcome's trace.
"""
from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from lab.core.catalogue import probes as T
from lab.core.world import World
from lab.memory import MemoryLab, SendResult
from lab.probes.model import Flow
from lab.probes.outcome import Outcome, event_line, find_token, ndr_diagnostic


def message(token: str, flow: Flow) -> bytes:
    """The probe message: a unique subject (the token) and the flow id in the body."""
    return (f"From: <{flow.mail_from}>\r\nTo: <{flow.recipient}>\r\nSubject: {token}\r\n\r\n"
            f"{flow.id}\r\n").encode("utf-8")


class MemoryDriver:
    """Flows on a :class:`MemoryLab` over ``world``.

    ``shared=True`` runs every flow in one lab (the matrix: fast, no clock moves); otherwise each
    flow gets a fresh lab, so a probe that lets days pass sees only its own message.
    ``record=False`` skips the SMTP transcripts (the bulk of a matrix; explain changes afterwards).
    """

    name = "memory"

    def __init__(self, world: World, trust: Any, start: datetime, *, shared: bool = False, record: bool = True):
        self.world, self.trust, self.start, self.shared, self.record = world, trust, start, shared, record
        self._lab: MemoryLab | None = None
        self._tokens = itertools.count(1)

    def lab(self) -> MemoryLab:
        if self._lab is None or not self.shared:
            self._lab = MemoryLab(self.world, self.trust, self.start)
        return self._lab

    def run(self, flow: Flow) -> Outcome:
        lab = self.lab()
        token = f"lab-probe-{next(self._tokens):07d}"
        # The token is new: only a message delivered from now on can carry it (the mailboxes of a
        # shared lab keep every earlier probe's messages, which observe need not read again).
        before = (lab.mailbox_count(flow.mailbox), lab.mailbox_count(flow.sender_mailbox) if flow.sender_mailbox else 0)
        result = lab.send(flow.source, flow.server, flow.port, flow.mail_from, (flow.recipient,),
                          message(token, flow), tls=flow.tls, auth=flow.auth, client_certificate=flow.certificate,
                          record=self.record)
        if flow.advance:
            lab.advance(flow.advance)
        return observe(lab, flow, result, token.encode("ascii"), before)

    def restart(self) -> None:
        """Run what comes next as a new driver would: a new shared lab, tokens counted from 1."""
        self._lab = None
        self._tokens = itertools.count(1)

    def close(self) -> None:
        self._lab = None


def observe(lab: MemoryLab, flow: Flow, result: SendResult, token: bytes, since: tuple[int, int] = (0, 0)) -> Outcome:
    """Where the flow's message is now (see the module docstring). ``since``: how many messages the
    recipient's and the sender's mailboxes held before the send (earlier ones cannot carry the token)."""
    transcript = tuple(result.transcript)
    if not result.accepted:
        if result.reply:
            return Outcome(T.REJECTED, result.reply, flow.server, transcript)
        return Outcome(T.FAILED, result.failure, flow.server, transcript)
    if find_token(lab.mailbox(flow.mailbox, since[0]), token) is not None:
        return Outcome(T.DELIVERED, flow.mailbox, flow.mailbox, transcript)
    events = lab.tracking(result.message_id) if result.message_id else []
    trace = transcript + tuple(event_line(e) for e in events)
    rcpt = flow.recipient.lower()
    mine = [e for e in events if rcpt in (r.lower() for r in e.recipients)]
    failed = next((e for e in mine if e.event_id == "FAIL"), None)
    if failed is not None:
        return Outcome(T.BOUNCED, failed.recipient_status[0] if failed.recipient_status else "", failed.server,
                       trace + _trace_steps(failed))
    for server in dict.fromkeys(e.server for e in reversed(mine)):
        node, error = _queued(lab, server, result.message_id)
        if node is not None:
            deferred = next((e for e in reversed(mine) if e.event_id == "DEFER" and e.server == server), None)
            if not error and deferred is not None and deferred.recipient_status:
                error = deferred.recipient_status[0]
            return Outcome(T.QUEUED, error or "", node, trace + (_trace_steps(deferred) if deferred else ()))
    held = _eop_item(lab, flow)
    if held is not None:
        return Outcome(T.QUEUED, str(held.last_error or ""), "eop",
                       trace + (f"EOP queue {held.hop_key}: attempts {held.attempts}, LastError {held.last_error}",))
    if flow.sender_mailbox:
        ndr = find_token(lab.mailbox(flow.sender_mailbox, since[1]), token)
        if ndr is not None:
            diagnostic = ndr_diagnostic(ndr) or ""
            return Outcome(T.BOUNCED, diagnostic, flow.sender_mailbox, trace + (f"NDR: {diagnostic}",))
    last = events[-1] if events else None
    return Outcome(T.ACCEPTED, event_line(last) if last else result.reply, "", trace)


def _trace_steps(event: Any) -> tuple[str, ...]:
    trace = getattr(event, "trace", None)
    return tuple(f"  {step}" for step in trace.steps) if trace is not None else ()


def _queued(lab: MemoryLab, server: str, message_id: str) -> tuple[str | None, str | None]:
    """(node, LastError) when the Exchange server named ``server`` still holds the message, else (None, None).

    A message waiting in a queue that is already in Retry has no LastError of its own: the queue's is shown.
    """
    for node, state in lab.world.servers.items():
        if state.server.name.lower() != server.lower():
            continue
        for view in lab.messages(node):
            if view.internet_message_id == message_id:
                if view.last_error:
                    return node, view.last_error
                queue = next((q for q in lab.queues(node) if q.identity == view.queue), None)
                return node, queue.last_error if queue else None
        return None, None
    return None, None


def _eop_item(lab: MemoryLab, flow: Flow) -> Any:
    rcpt, sender = flow.recipient.lower(), flow.mail_from.lower()
    for item in reversed(lab.eop_queue()):
        if item.mail_from.lower() == sender and rcpt in (r.lower() for r in item.recipients):
            return item
    return None
