"""Stop 14 (session): NextHop.key kept in the hop once read."""
from __future__ import annotations

import dataclasses
import pickle

from lab.core.exchange import routing as R
from lab.core.fastpath import evolve


def test_a_hops_key_is_its_fields_and_later_copies_write_their_own():
    for connector in (None, "", "Internet"):
        hop = R.NextHop(R.DNS_CONNECTOR, "fabrikam.com", connector, "u@fabrikam.com")
        twin = R.NextHop(R.DNS_CONNECTOR, "fabrikam.com", connector, "u@fabrikam.com")
        assert hop.key == (R.DNS_CONNECTOR, "fabrikam.com", connector or "") and hop.key is hop.key
        assert hop == twin and hash(hop) == hash(twin) and repr(hop) == repr(twin)
        assert dataclasses.asdict(hop) == dataclasses.asdict(twin)
        for copy in (evolve(hop, connector="Other"), dataclasses.replace(hop, connector="Other")):
            assert copy.key == (R.DNS_CONNECTOR, "fabrikam.com", "Other")
        assert evolve(hop, next_hop_domain="x").key == (R.DNS_CONNECTOR, "x", connector or "")
        assert pickle.loads(pickle.dumps(hop)).key == hop.key
    assert isinstance(R.NextHop.key, R._HopKey)
