"""Tracking events are built when read (O.Track.later): the same events, with the same traces.

The in-memory lab keeps a transport's ``Track`` command until someone reads the message's
tracking (``lab.tracking``, ``lab.events``). These tests hold the lazy lab to an eager one (every
event built the moment it is tracked) over flows that deliver, relay, bounce and queue, and fail
when the laziness is dropped or when an event read late differs from the one built at once (its
trace in particular: the message's trace grows after the event, the event must not).
"""
from __future__ import annotations



from lab.core.exchange import outcomes as O
from lab.core.exchange.queue_records import TrackingEvent
from lab.core.trace import Trace
from lab.core.world import World
from lab.memory import MemoryLab


# (source, server, port, from, to, tls, auth): local delivery, relays, a refused relay (NDR), a queued one
SENDS = [
    ("office26-pc", "192.168.0.10", 587, "administrator@office26.com", "administrator@office26.com", True,
     ("administrator@office26.com", "P@ssw0rd")),
    ("internet-client", "mail.contoso.com", 587, "contoso@contoso.com", "allen@xutonglin.com", True,
     ("contoso@contoso.com", "P@ssw0rd")),
    ("office26-pc", "192.168.0.10", 587, "administrator@office26.com", "allen@xutonglin.com", True,
     ("administrator@office26.com", "P@ssw0rd")),
    ("office26-pc", "192.168.0.10", 587, "administrator@office26.com", "nobody@nowhere.invalid", True,
     ("administrator@office26.com", "P@ssw0rd")),
    ("xutonglin-ex", "192.168.8.10", 587, "allen@xutonglin.com", "someone@fabrikam.com", True,
     ("allen@xutonglin.com", "P@ssw0rd")),
]


def _lab(built) -> MemoryLab:
    topology, trust = built
    return MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)


def _run(lab: MemoryLab) -> list[str]:
    ids = []
    for i, (source, server, port, sender, rcpt, tls, auth) in enumerate(SENDS):
        data = f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: lazy {i}\r\n\r\nbody {i}\r\n".encode()
        result = lab.send(source, server, port, sender, [rcpt], data, tls=tls, auth=auth, record=False)
        ids.append(result.message_id)
    lab.advance(3600.0)  # retries: the queued messages' traces grow after their first events
    return ids


class _Eager(MemoryLab):
    def track(self, event):
        if isinstance(event, O.Track):
            event.event  # built at once, as the transport built it before
        super().track(event)


def _eager(built) -> MemoryLab:
    topology, trust = built
    return _Eager(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)


def test_events_are_not_built_until_read(built):
    lab = _lab(built)
    _run(lab)
    assert lab._tracks and not any(t.built for t in lab._tracks)  # nobody asked: nothing was built
    first = lab._tracks[0]
    lab.tracking(first.message_id)
    assert first.built and not lab._tracks[-1].built  # only the message asked about
    # (a fast-forward's run of retries is one Tracks entry: its Track commands made when read)
    assert any(isinstance(t, O.Tracks) for t in lab._tracks)
    events = lab.events
    flat = [t for e in lab._tracks for t in (e.tracks if isinstance(e, O.Tracks) else (e,))]
    assert len(events) == len(flat) > len(lab._tracks) and all(t.built for t in lab._tracks)
    assert events == [t.event for t in flat]


def test_lazy_events_equal_eager_ones_traces_included(built):
    lazy, eager = _lab(built), _eager(built)
    ids, eager_ids = _run(lazy), _run(eager)
    assert ids == eager_ids and all(ids)
    for message_id in ids:
        assert [e.to_dict() for e in lazy.tracking(message_id)] == [e.to_dict() for e in eager.tracking(message_id)]
    assert [e.to_dict() for e in lazy.events] == [e.to_dict() for e in eager.events]
    assert lazy.events == eager.events
    # the traces grew after the first events: an event read late still has its own moment's trace
    receive = [e for e in lazy.events if e.event_id == "RECEIVE"]
    later = [e for e in lazy.events if e.event_id in ("DELIVER", "SEND", "FAIL", "DEFER")]
    assert receive and later
    assert any(len(e.trace.steps) < max(len(x.trace.steps) for x in later if x.message_id == e.message_id)
               for e in receive if any(x.message_id == e.message_id for x in later))


def test_events_is_one_growing_list_and_tracking_reads_it_in_order(built):
    lab = _lab(built)
    events = lab.events
    ids = _run(lab)
    flat = [t for e in lab._tracks for t in (e.tracks if isinstance(e, O.Tracks) else (e,))]
    assert lab.events is events and len(events) == len(flat)
    for message_id in ids:
        assert [e for e in events if e.message_id == message_id] == lab.tracking(message_id)


def test_a_track_command_reads_as_its_event():
    event = TrackingEvent(1.0, "RECEIVE", "SMTP", "EX01", 7, "<m@x>", "a@b", ("c@d",), trace=Trace("<m@x>"))
    built = O.Track(event)
    later = O.Track.later("<m@x>", lambda: TrackingEvent(1.0, "RECEIVE", "SMTP", "EX01", 7, "<m@x>", "a@b", ("c@d",),
                                                         trace=Trace("<m@x>")))
    assert built.built and not later.built and later.message_id == "<m@x>"
    assert later == built and hash(later) == hash(built) and repr(later) == repr(built)
    assert later.built and later.event is later.event
    assert repr(built) == f"Track(event={event!r})"
    assert built != event and later != O.Track(TrackingEvent(2.0, "SEND", "SMTP", "EX01", 7, "<m@x>", "a@b", ()))


# --- the transport's traces: steps logged, each Trace built from the steps there were at the time


def _relay_transport():
    from types import SimpleNamespace as NS

    from lab.core.exchange.queue import Transport
    from lab.core.exchange.send_connector import SendConnector
    org = NS(accepted_domains=[{"DomainName": "contoso.com", "DomainType": "Authoritative"}], mailboxes=[])
    return Transport(NS(name="ex01", fqdn="ex01.contoso.com"), org,
                     [SendConnector.from_mapping({"Name": "Internet", "AddressSpaces": "*"})])


def _eager_trace(message_id, chunks):
    trace = Trace(message_id)
    for node, steps in chunks:
        for step in steps:
            trace = trace.add(node, step)  # one step at a time, as the transport once built it
    return trace


def test_each_event_keeps_the_trace_of_its_moment_however_late_it_is_read():
    from types import SimpleNamespace as NS

    from lab.core.dns_resolution import MxResult, Target
    t = _relay_transport()
    result = t.submit(NS(mail_from="a@contoso.com", rcpt_tos=["b@fabrikam.com"], data=b"Subject: s\r\n\r\nx\r\n"), 0)
    seen = [t.trace(result.internal_id)]  # the trace after submit and routing
    tracks = [c for c in t.pop_commands() if isinstance(c, O.Track)]
    t2 = t  # resolution, then a failed attempt: the trace grows after the RECEIVE event
    queue = next(q for q in t2.queues() if q.identity.endswith("\\1")).identity
    t2.resolution_result(queue, MxResult("fabrikam.com", (Target("mx", 10, ("192.0.2.5",)),)), 0)
    seen.append(t2.trace(result.internal_id))
    t2.delivery_result(queue, O.connect_failure("Refused", O.Endpoint("mx", "192.0.2.5", 25)), 0)
    seen.append(t2.trace(result.internal_id))
    tracks += [c for c in t2.pop_commands() if isinstance(c, O.Track)]
    receive = tracks[0]
    assert not any(c.built for c in tracks)
    defer = next(c for c in tracks[1:] if c.event.event_id == "DEFER")
    assert not receive.built
    # read only now: RECEIVE still has the one submit step it had; DEFER has everything up to the failure
    assert [s.rule for s in receive.event.trace.steps] == ["transport.submit"]
    assert defer.event.trace == seen[-1] and len(seen[0].steps) < len(seen[1].steps) < len(seen[2].steps)
    log = t2._traces[result.internal_id]
    assert t2.trace(result.internal_id) == _eager_trace(log.message_id, log.chunks)
    assert receive.event.trace == _eager_trace(log.message_id, log.chunks[:1])
    assert log.trace(1) == receive.event.trace and log.trace(len(log.chunks)) == seen[-1]  # any order of reads
