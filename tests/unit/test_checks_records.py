"""The scenario runner's records and errors.Place: frozen records built by fastpath.frozen_init,
the same instances as their dataclass __init__ builds."""
from __future__ import annotations

import pytest

from lab.core.errors import Place
from lab.core.fastpath import FROZEN_INIT
from lab.scenario.expect import Check
from tests.unit.test_fastpath import test_frozen_init_builds_what_the_dataclass_init_builds as same_as_dataclass


@pytest.mark.parametrize("cls", [Check, Place])
def test_the_record_has_the_cheaper_init_and_builds_the_same_instances(cls) -> None:
    assert cls in FROZEN_INIT and cls.__init__ is not cls.__dataclass_init__
    same_as_dataclass(cls)


def test_a_place_reads_as_before() -> None:
    assert str(Place(file="t.yaml", line=3, column=4, path="a.b")) == "t.yaml:3:4 (a.b)"
    assert str(Place(path="TlsDomain")) == "<input> (TlsDomain)"
    assert Place(path="x") == Place(None, None, None, "x") and hash(Place(path="x")) == hash(Place(path="x"))
