"""MemoryEop.certificate picks what the list-building version picked, for every mix of names."""
from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest

from lab.core.eop import policy as P
from lab.memory.eop import MemoryEop


def _reference(known, node_certificates, endpoint):
    """The earlier implementation, word for word."""
    names = [c for c in node_certificates if c in known]
    preferred = {P.MX: "eop-mx", P.SUBMISSION: "eop-submission"}[endpoint]
    name = preferred if preferred in names else (names[0] if names else None)
    return known[name] if name else None


NAMES = ["eop-mx", "eop-submission", "other", ""]


@pytest.mark.parametrize("endpoint", [P.MX, P.SUBMISSION])
def test_certificate_is_the_reference(endpoint):
    for n_known in range(len(NAMES) + 1):
        for known_names in itertools.combinations(NAMES, n_known):
            known = {name: object() for name in known_names}
            for n in range(len(NAMES) + 1):
                for node_certs in itertools.permutations(NAMES + ["missing"], n):
                    eop = MemoryEop.__new__(MemoryEop)
                    eop.lab = SimpleNamespace(trust=SimpleNamespace(certificates=known))
                    eop.state = SimpleNamespace(world=SimpleNamespace(node=SimpleNamespace(certificates=node_certs)))
                    assert eop.certificate(endpoint) is _reference(known, node_certs, endpoint), (known_names, node_certs)


def test_unknown_endpoint_is_refused():
    eop = MemoryEop.__new__(MemoryEop)
    eop.lab = SimpleNamespace(trust=SimpleNamespace(certificates={}))
    eop.state = SimpleNamespace(world=SimpleNamespace(node=SimpleNamespace(certificates=())))
    with pytest.raises(KeyError):
        eop.certificate("nowhere")
