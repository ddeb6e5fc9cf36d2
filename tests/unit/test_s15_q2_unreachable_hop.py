"""Every transport's Unreachable queue takes one shared next hop: the record a new one would be."""
from types import SimpleNamespace as NS

from lab.core.catalogue import exchange_queue as C
from lab.core.exchange import queue as Q
from lab.core.exchange import routing as R


def test_shared_unreachable_hop_equals_a_new_one():
    fresh = R.NextHop(R.UNREACHABLE, str(C.UNREACHABLE_DOMAIN), None, "")
    assert Q._UNREACHABLE_HOP == fresh and Q._UNREACHABLE_HOP.__class__ is R.NextHop
    assert Q._UNREACHABLE_HOP.key == fresh.key


def test_each_transport_unreachable_queue_is_as_before():
    org = NS(accepted_domains=[{"DomainName": "contoso.com", "DomainType": "Authoritative", "Default": True}],
             mailboxes=[])
    a, b = Q.Transport(NS(name="ex1", fqdn="ex1.contoso.com"), org, []), Q.Transport(NS(name="ex2"), org, [])
    for t in (a, b):
        q = t._unreachable
        assert q.number == 0 and q.hop == R.NextHop(R.UNREACHABLE, str(C.UNREACHABLE_DOMAIN), None, "")
        assert q.identity == f"{t.name}\\Unreachable" and t._queues == {0: q} and q.items == []
    assert a._unreachable is not b._unreachable
