"""Get-Queue, Get-Message, Retry-Queue and Get-MessageTrackingLog over the host's transports.

Queues, messages and tracking events are runtime state: they come from the host
(:meth:`ConsoleHost.queues` ...), never from the World. A host without the server's
transport answers with a clear "needs a running lab" error.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Sequence

from lab.console import records as R
from lab.console.cmdlets._common import Errors, exchange, identity_text, register_all
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


def _node_of(host: ConsoleHost, inv: Invocation, task: str) -> str:
    wanted = inv.params.get("Server")
    if wanted is None:
        return host.session.server
    text = identity_text(wanted).lower()
    for node, state in host.world.servers.items():
        if text in (node.lower(), state.server.name.lower(), (state.server.fqdn or "").lower()):
            return node
    raise Errors(host).make(M.OBJECT_NOT_FOUND_ON_DC.format(identity=identity_text(wanted), dc=_dc(host)),
                            M.NOT_FOUND_REASON, task, "ObjectNotFound")


def _dc(host: ConsoleHost) -> str:
    from lab.console.cmdlets._common import domain_controller
    return domain_controller(host.world, host.world.servers[host.session.server].org
                             if host.session.server in host.world.servers else None)


def _live(host: ConsoleHost, task: str, what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except LabRuntimeError:
        raise Errors(host).make(M.NEEDS_RUNNING_LAB.format(what=what), M.INVALID_OPERATION_REASON, task,
                                "InvalidOperation") from None


def _filtered(host: ConsoleHost, inv: Invocation, rows: list[R.ExRecord], task: str) -> list[R.ExRecord]:
    text = inv.params.get("Filter")
    if text is None:
        return rows
    try:
        keep = compile_filter(str(text), lambda r, p: r.get(p))
    except FilterError as bad:
        raise Errors(host).make(M.BAD_FILTER.format(filter=text, position=bad.position), M.ARGUMENT_REASON, task,
                                "InvalidArgument") from None
    return [r for r in rows if keep(r)]


def _queue_rows(host: ConsoleHost, node: str, task: str) -> list[R.ExRecord]:
    settings = _live(host, task, task, lambda: host.transport_settings(node))
    return [R.queue(v, settings) for v in _live(host, task, task, lambda: host.queues(node))]


def get_queue(inv: Invocation) -> list[R.ExRecord]:
    host = inv.console_host
    task = "GetQueue"
    node = _node_of(host, inv, task)
    rows = _queue_rows(host, node, task)
    ident = inv.params.get("Identity")
    if ident is not None:
        text = identity_text(ident)
        rows = [r for r in rows if _queue_matches(r, text)]
        if not rows:
            raise Errors(host).make(M.QUEUE_NOT_FOUND.format(identity=text), M.NOT_FOUND_REASON, task,
                                    "ObjectNotFound")
    return _filtered(host, inv, rows, task)


def get_message(inv: Invocation) -> list[R.ExRecord]:
    host = inv.console_host
    task = "GetMessage"
    node = _node_of(host, inv, task)
    settings = _live(host, task, task, lambda: host.transport_settings(node))
    rows = [R.message(v, settings) for v in _live(host, task, task, lambda: host.messages(node))]
    queue = inv.params.get("Queue")
    if queue is not None:
        text = identity_text(queue)
        if not [q for q in _queue_rows(host, node, task) if _queue_matches(q, text)]:
            raise Errors(host).make(M.QUEUE_NOT_FOUND.format(identity=text), M.NOT_FOUND_REASON, task,
                                    "ObjectNotFound")
        rows = [r for r in rows
                if str(r.get("Queue")).lower() == _full_queue(node, text, _queue_rows(host, node, task))]
    ident = inv.params.get("Identity")
    if ident is not None:
        text = identity_text(ident).lower()
        rows = [r for r in rows if r.identity.lower() == text]
    return _filtered(host, inv, rows, task)


def retry_queue(inv: Invocation) -> None:
    host = inv.console_host
    task = "RetryQueue"
    node = _node_of(host, inv, task)
    targets: list[str]
    if inv.params.get("Identity") is not None:
        text = identity_text(inv.params["Identity"])
        found = _matching_queues(host, node, task, text)
        if not found:
            raise Errors(host).make(M.QUEUE_NOT_FOUND.format(identity=text), M.NOT_FOUND_REASON, task,
                                    "ObjectNotFound")
        targets = found
    else:
        targets = [r.identity for r in _filtered(host, inv, _queue_rows(host, node, task), task)]
    resubmit = bool(inv.params.get("Resubmit", False))
    for identity in targets:
        if inv.should_process(M.WHATIF_RETRY_QUEUE, identity=identity):
            try:
                _live(host, task, task, lambda: host.retry_queue(node, identity, resubmit))
            except KeyError:
                raise Errors(host).make(M.QUEUE_NOT_FOUND.format(identity=identity), M.NOT_FOUND_REASON, task,
                                        "ObjectNotFound") from None


def tracking(inv: Invocation) -> list[R.ExRecord]:
    host = inv.console_host
    task = "GetMessageTrackingLog"
    node = _node_of(host, inv, task)
    epoch = _live(host, task, task, lambda: host.transport_settings(node)).epoch.replace(tzinfo=None)
    bounds = []
    for name in ("Start", "End"):
        value = inv.params.get(name)
        try:
            bounds.append(None if value is None else parse_datetime(value))
        except ValueError:
            raise Errors(host).make(M.BAD_DATETIME.format(value=value), M.ARGUMENT_REASON, task,
                                    "InvalidArgument") from None
    rows = []
    for event in host.tracking_events(node):
        if _keep_event(event, inv.params, epoch, bounds):
            rows.append(R.tracking_event(event, epoch))
    size = inv.params.get("ResultSize")
    if size is not None and str(size).lower() != "unlimited":
        rows = rows[: int(size)]
    return rows


def register(registry: Registry, host: ConsoleHost) -> None:
    """Register the queue viewer and message tracking cmdlets (acting on ``host``)."""
    register_all(registry, host, COMMANDS)


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
    return _names_queue(row.identity, row.get("NextHopDomain"), text)


def _matching_queues(host: ConsoleHost, node: str, task: str, text: str) -> list[str]:
    """The identities of the queues ``text`` names: ``[r.identity for r in _queue_rows(host, node, task) if
    _queue_matches(r, text)]``, read from the queue views themselves (a record's Identity and NextHopDomain
    are its view's ``identity`` and ``next_hop_domain``) without building a record for each."""
    _live(host, task, task, lambda: host.transport_settings(node))  # (asked first, as _queue_rows does)
    found: list[str] = []
    for view in _live(host, task, task, lambda: host.queues(node)):
        identity = str(view.identity or "")  # (ExRecord.identity)
        if _names_queue(identity, view.next_hop_domain, text):
            found.append(identity)
    return found


def _names_queue(identity: str, next_hop_domain: Any, text: str) -> bool:
    """:func:`_queue_matches` of a queue with this identity and next hop domain."""
    lowered = text.lower()
    server, _, rest = identity.lower().partition("\\")
    hop = str(next_hop_domain or "").lower()
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


#: the module's commands, declared once: every console's registry shares them
COMMANDS = (
    exchange("Get-Queue", get_queue, _GET_QUEUE),
    exchange("Get-Message", get_message, _GET_MESSAGE),
    exchange("Retry-Queue", retry_queue, _RETRY_QUEUE),
    exchange("Get-MessageTrackingLog", tracking, _TRACKING),
)
