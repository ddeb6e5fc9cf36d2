"""EopNode.from_host writes the node's Place only for an error: the errors still name it."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from lab.core.eop.model import EopNode
from lab.core.errors import ConfigError, Place


def _host(**changes):
    fields = dict(name="eop", endpoints={"mx": "203.0.113.10", "submission": "203.0.113.11"},
                  frontend_host="AM5EUR02FT025.mail.protection.outlook.com", banned_ips=(), certificates=())
    fields.update(changes)
    return SimpleNamespace(**fields)


def test_a_node_is_built() -> None:
    node = EopNode.from_host(_host())
    assert (node.name, node.mx_ip, node.submission_ip) == ("eop", "203.0.113.10", "203.0.113.11")


@pytest.mark.parametrize("changes, message, allowed", [
    ({"endpoints": {"submission": "203.0.113.11"}}, "an eop node needs endpoints.mx", ("mx", "submission")),
    ({"endpoints": {"mx": "203.0.113.10"}}, "an eop node needs endpoints.submission", ("mx", "submission")),
    ({"endpoints": None}, "an eop node needs endpoints.mx", ("mx", "submission")),
    ({"frontend_host": None}, "an eop node needs frontend_host", None),
])
def test_errors_name_the_node(changes: dict, message: str, allowed) -> None:
    with pytest.raises(ConfigError) as raised:
        EopNode.from_host(_host(**changes), "topology.nodes")
    assert (raised.value.message, raised.value.place, raised.value.allowed) == (
        message, Place(path="topology.nodes.eop"), allowed)
