"""Stop 14 (session): fastpath.uuid5_text with its namespace bytes kept per namespace object."""
from __future__ import annotations

import random
import uuid

from lab.core import fastpath
from lab.core.fastpath import uuid5_text


def test_uuid5_text_is_the_standard_uuid5_for_any_namespace_and_octets():
    rng = random.Random(14)
    spaces = [uuid.UUID(int=0), uuid.UUID(int=(1 << 128) - 1), uuid.NAMESPACE_URL]
    spaces += [uuid.UUID(int=rng.getrandbits(128)) for _ in range(150)]  # past the table's bound
    for namespace in spaces:
        for name in ("", "a", "ü✓", str(rng.random()), "y" * 100):
            assert uuid5_text(namespace, name) == str(uuid.uuid5(namespace, name))
            twin = uuid.UUID(str(namespace))  # an equal namespace, another object
            assert uuid5_text(twin, name) == str(uuid.uuid5(namespace, name))
    assert len(fastpath._NAMESPACES) <= 64
    assert all(fastpath._NAMESPACES[key][0] is not None and id(fastpath._NAMESPACES[key][0]) == key
               for key in fastpath._NAMESPACES)
