"""Get-Queue, Get-Message, Retry-Queue and Get-MessageTrackingLog over the host's transports.

Queues, messages and tracking events are runtime state: they come from the host
(:meth:`ConsoleHost.queues` ...), never from the World. A host without the server's
transport answers with a clear "needs a running lab" error.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Sequence

from lab.console import records as R
from lab.console.cmdlets._common import Errors, add, identity_text
from lab.console.cmdlets._filter import FilterError, compile_filter
from lab.console.host import ConsoleHost
from lab.console.registry import ANY, Invocation, Param, Registry
from lab.core.catalogue import cmdlets as M
from lab.core.errors import LabRuntimeError

_DATE_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y",
                 "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def parse_datetime(value: Any) -> dt.datetime:
    """A -Start/-End value: a datetime, or text in the en-US or ISO forms; ValueError otherwise."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(text)


def register(registry: Registry, host: ConsoleHost) -> None:
    """Register the queue viewer and message tracking cmdlets."""
    errors = Errors(host)

    def node_of(inv: Invocation, task: str) -> str:
        wanted = inv.params.get("Server")
        if wanted is None:
            return host.session.server
        text = identity_text(wanted).lower()
        for node, state in host.world.servers.items():
            if text in (node.lower(), state.server.name.lower(), (state.server.fqdn or "").lower()):
                return node
        raise errors.make(M.OBJECT_NOT_FOUND_ON_DC.format(identity=identity_text(wanted), dc=_dc()),
                          M.NOT_FOUND_REASON, task, "ObjectNotFound")

    def _dc() -> str:
        from lab.console.cmdlets._common import domain_controller
        return domain_controller(host.world, host.world.servers[host.session.server].org
                                 if host.session.server in host.world.servers else None)

    def live(task: str, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except LabRuntimeError:
            raise errors.make(M.NEEDS_RUNNING_LAB.format(what=what), M.INVALID_OPERATION_REASON, task,
                              "InvalidOperation") from None

    def filtered(inv: Invocation, rows: list[R.ExRecord], task: str) -> list[R.ExRecord]:
        text = inv.params.get("Filter")
        if text is None:
            return rows
        try:
            keep = compile_filter(str(text), lambda r, p: r.get(p))
        except FilterError as bad:
            raise errors.make(M.BAD_FILTER.format(filter=text, position=bad.position), M.ARGUMENT_REASON, task,
                              "InvalidArgument") from None
        return [r for r in rows if keep(r)]

    def queue_rows(node: str, task: str) -> list[R.ExRecord]:
        settings = live(task, task, lambda: host.transport_settings(node))
        return [R.queue(v, settings) for v in live(task, task, lambda: host.queues(node))]

    def get_queue(inv: Invocation) -> list[R.ExRecord]:
        task = "GetQueue"
        node = node_of(inv, task)
        rows = queue_rows(node, task)
        ident = inv.params.get("Identity")
        if ident is not None:
            text = identity_text(ident)
            rows = [r for r in rows if _queue_matches(r, text)]
            if not rows:
                raise errors.make(M.QUEUE_NOT_FOUND.format(identity=text), M.NOT_FOUND_REASON, task,
                                  "ObjectNotFound")
        return filtered(inv, rows, task)

    def get_message(inv: Invocation) -> list[R.ExRecord]:
        task = "GetMessage"
        node = node_of(inv, task)
        settings = live(task, task, lambda: host.transport_settings(node))
        rows = [R.message(v, settings) for v in live(task, task, lambda: host.messages(node))]
        queue = inv.params.get("Queue")
        if queue is not None:
            text = identity_text(queue)
            if not [q for q in queue_rows(node, task) if _queue_matches(q, text)]:
                raise errors.make(M.QUEUE_NOT_FOUND.format(identity=text), M.NOT_FOUND_REASON, task,
                                  "ObjectNotFound")
            rows = [r for r in rows if str(r.get("Queue")).lower() == _full_queue(node, text, queue_rows(node, task))]
        ident = inv.params.get("Identity")
        if ident is not None:
            text = identity_text(ident).lower()
            rows = [r for r in rows if r.identity.lower() == text]
        return filtered(inv, rows, task)

    def retry_queue(inv: Invocation) -> None:
        task = "RetryQueue"
        node = node_of(inv, task)
        targets: list[str]
        if inv.params.get("Identity") is not None:
            text = identity_text(inv.params["Identity"])
            found = [r.identity for r in queue_rows(node, task) if _queue_matches(r, text)]
            if not found:
                raise errors.make(M.QUEUE_NOT_FOUND.format(identity=text), M.NOT_FOUND_REASON, task,
                                  "ObjectNotFound")
            targets = found
        else:
            targets = [r.identity for r in filtered(inv, queue_rows(node, task), task)]
        resubmit = bool(inv.params.get("Resubmit", False))
        for identity in targets:
            if inv.should_process(M.WHATIF_RETRY_QUEUE.format(identity=identity)):
                try:
                    live(task, task, lambda: host.retry_queue(node, identity, resubmit))
                except KeyError:
                    raise errors.make(M.QUEUE_NOT_FOUND.format(identity=identity), M.NOT_FOUND_REASON, task,
                                      "ObjectNotFound") from None

    def tracking(inv: Invocation) -> list[R.ExRecord]:
        task = "GetMessageTrackingLog"
        node = node_of(inv, task)
        epoch = live(task, task, lambda: host.transport_settings(node)).epoch.replace(tzinfo=None)
        bounds = []
        for name in ("Start", "End"):
            value = inv.params.get(name)
            try:
                bounds.append(None if value is None else parse_datetime(value))
            except ValueError:
                raise errors.make(M.BAD_DATETIME.format(value=value), M.ARGUMENT_REASON, task,
                                  "InvalidArgument") from None
        rows = []
        for event in host.tracking_events(node):
            if _keep_event(event, inv.params, epoch, bounds):
                rows.append(R.tracking_event(event, epoch))
        size = inv.params.get("ResultSize")
        if size is not None and str(size).lower() != "unlimited":
            rows = rows[: int(size)]
        return rows

    add(registry, "Get-Queue", get_queue, _GET_QUEUE)
    add(registry, "Get-Message", get_message, _GET_MESSAGE)
    add(registry, "Retry-Queue", retry_queue, _RETRY_QUEUE)
    add(registry, "Get-MessageTrackingLog", tracking, _TRACKING)


# The cmdlets' parameters, declared once (frozen: every console's registry shares them).
_SERVER = Param("Server", ANY)
_GET_QUEUE = (Param("Identity", ANY, position=0, pipeline=True), _SERVER, Param("Filter"), Param("ResultSize"))
_GET_MESSAGE = (Param("Identity", ANY, position=0, pipeline=True), Param("Queue", ANY), _SERVER, Param("Filter"),
                Param("ResultSize"), Param("IncludeRecipientInfo", "switch"))
_RETRY_QUEUE = (Param("Identity", ANY, position=0, pipeline=True), _SERVER, Param("Filter"), Param("Resubmit", bool))
_TRACKING = (_SERVER, Param("Start", ANY), Param("End", ANY), Param("MessageId"), Param("Sender"),
             Param("Recipients", list[str]), Param("EventId"), Param("MessageSubject"), Param("InternalMessageId"),
             Param("Source"), Param("ResultSize"))


def _queue_matches(row: R.ExRecord, text: str) -> bool:
    """``SERVER\\3``, ``SERVER\\contoso.com`` (next hop domain), or a bare ``3`` / domain."""
    lowered = text.lower()
    identity = row.identity.lower()
    server, _, rest = identity.partition("\\")
    hop = str(row.get("NextHopDomain") or "").lower()
    if "\\" in lowered:
        want_server, _, want = lowered.partition("\\")
        return want_server == server and want in (rest, hop)
    return lowered in (rest, hop)


def _full_queue(node: str, text: str, rows: Sequence[R.ExRecord]) -> str:
    return next(r.identity.lower() for r in rows if _queue_matches(r, text))


def _keep_event(event: Any, params: dict[str, Any], epoch: dt.datetime, bounds: list[dt.datetime | None]) -> bool:
    when = epoch + dt.timedelta(seconds=event.timestamp)
    start, end = bounds
    if (start is not None and when < start) or (end is not None and when > end):
        return False
    subject = params.get("MessageSubject")
    if subject is not None and str(subject).lower() not in event.subject.lower():
        return False
    checks = (("MessageId", event.message_id), ("Sender", event.sender), ("EventId", event.event_id),
              ("InternalMessageId", str(event.internal_id)), ("Source", event.source))
    for name, actual in checks:
        wanted = params.get(name)
        if wanted is not None and _norm_id(str(wanted)) != _norm_id(str(actual)):
            return False
    wanted_rcpts = [r.lower() for r in params.get("Recipients") or ()]
    return not wanted_rcpts or any(r.lower() in wanted_rcpts for r in event.recipients)


def _norm_id(text: str) -> str:
    return text.strip().strip("<>").lower()

