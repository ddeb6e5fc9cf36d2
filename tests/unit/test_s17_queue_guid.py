"""SendConnector.guid is written at its first read and kept (a non-data descriptor): every read gives
str(uuid.uuid5(namespace, name.lower())), as the property computing it at each read gave; the kept
value is no field (equality, hash, repr, replace() and with_changes() as before)."""
from __future__ import annotations

import copy
import dataclasses
import uuid

import pytest

from lab.core.exchange.send_connector import AddressSpace, SendConnector

_NS = uuid.UUID("6b1c5f0e-1d2a-4c59-9a43-6c616273656e")


@pytest.mark.parametrize("name", ["To Internet", "to internet", "TO INTERNET", "Ünïcode Conn", "x", "İstanbul"])
def test_every_read_is_the_uuid5_of_the_lower_name(name):
    conn = SendConnector(name, (AddressSpace("*"),))
    want = str(uuid.uuid5(_NS, name.lower()))
    assert conn.guid == want and conn.guid == want  # (the first read writes it, the second reads it)
    twin = SendConnector(name, (AddressSpace("*"),))
    assert twin == conn and hash(twin) == hash(conn) and repr(twin) == repr(conn)  # (one read, one not)
    renamed = dataclasses.replace(conn, name=name + " 2")
    assert renamed.guid == str(uuid.uuid5(_NS, (name + " 2").lower()))
    changed = conn.with_changes({"Name": "Other"})
    assert changed.guid == str(uuid.uuid5(_NS, "other"))
    assert copy.copy(conn).guid == want and copy.deepcopy(conn).guid == want
    assert conn.to_mapping() == twin.to_mapping() and "guid" not in conn.to_mapping()


def test_the_class_attribute_is_the_descriptor():
    assert type(SendConnector.__dict__["guid"]).__name__ == "_Guid"
    assert SendConnector.guid is SendConnector.__dict__["guid"]
    assert "guid" not in {f.name for f in dataclasses.fields(SendConnector)}
