"""A Transport keeps at most 29 instance attributes: CPython 3.11 stores an instance's attributes
inline (read with LOAD_ATTR_INSTANCE_VALUE) only while its class's shared keys hold them; from the
30th on, every instance gets a dict and every ``self._x`` of the transport is read through it
(LOAD_ATTR_WITH_HINT, about 16 more instructions a read). After events of every kind, no attribute
was added."""
from __future__ import annotations

import random
from types import SimpleNamespace as NS

from lab.core.exchange.queue import Transport
from lab.core.exchange.queue_records import TransportSettings

from test_transport_indexes import INTERNET, ORG, PARTNER, Twins

LIMIT = 29


def test_a_fresh_transport_keeps_its_attributes_inline():
    t = Transport(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET])
    assert len(vars(t)) <= LIMIT, sorted(vars(t))


def test_no_event_adds_an_attribute():
    twins = Twins(random.Random(3), TransportSettings())
    t = twins.pair[0]
    names = set(vars(Transport(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET, PARTNER])))
    for _ in range(80):
        twins.step()
        t.queues(), t.messages(), t.statistics(), t._unreachable
    assert set(vars(t)) == names and len(names) <= LIMIT
