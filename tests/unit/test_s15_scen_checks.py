"""Stop 15, the scenario runner and its checks: the driver records are built by the cheaper frozen ``__init__``."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("name", ["ConsoleResult", "SendOutcome", "EopItem"])
def test_the_driver_records_have_the_cheaper_frozen_init(name: str) -> None:
    from lab.scenario import driver
    from tests.unit.test_fastpath import test_frozen_init_builds_what_the_dataclass_init_builds as same

    cls = getattr(driver, name)
    assert "__dataclass_init__" in cls.__dict__  # frozen_init gave it its __init__
    same(cls)
