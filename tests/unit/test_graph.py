"""lab.topology.graph: networkx graph, DOT, Mermaid, SVG via Graphviz when installed."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lab.core.errors import ConfigError
from lab.core.network import NetworkModel
from lab.topology.graph import build_graph, connected, reachable, to_dot, to_mermaid, write_graph

WORLD = {
    "networks": {
        "internet": {"kind": "public", "cidrs": ["100.100.100.0/24", "203.0.113.0/24"]},
        "xutonglin-lan": {"kind": "private", "cidrs": ["192.168.8.0/24"]},
        "office26-lan": {"kind": "private", "cidrs": ["192.168.0.0/24"]},
    },
    "nodes": {
        "public-dns": {"kind": "dns", "interfaces": {"internet": "100.100.100.2"}},
        "mail-contoso": {"kind": "exchange", "interfaces": {"internet": "100.100.100.10"}},
        "mail-xutonglin": {"kind": "exchange", "interfaces": {"xutonglin-lan": "192.168.8.10"}},
        "tmg": {
            "kind": "firewall",
            "interfaces": {"internet": "100.100.100.254", "xutonglin-lan": "192.168.8.1"},
            "nat": [
                {"type": "publish", "name": "SMTP server publishing",
                 "external": "100.100.100.254:25", "internal": "192.168.8.10:25"},
                {"type": "publish", "name": "Submission", "external": "100.100.100.254:587",
                 "internal": "192.168.8.10:587"},
                {"type": "masquerade", "from": "xutonglin-lan", "external": "100.100.100.254"},
            ],
            "firewall": [{"action": "deny", "from": "203.0.113.66/32", "ports": [25], "name": "spam \"bot\""}],
        },
        "client": {"kind": "client", "interfaces": {"internet": "203.0.113.50"}},
        "office26-fw": {"kind": "firewall", "interfaces": {"internet": "100.100.100.26", "office26-lan": "192.168.0.1"}},
        "erp": {"kind": "device", "interfaces": {"office26-lan": "192.168.0.3"}},
    },
}


@pytest.fixture()
def model() -> NetworkModel:
    return NetworkModel.from_dict(WORLD)


def test_build_graph(model: NetworkModel) -> None:
    g = build_graph(model)
    assert g.nodes["net:internet"]["type"] == "network"
    assert g.nodes["host:tmg"]["kind"] == "firewall"
    assert g.edges["host:tmg", "net:internet"]["label"] == "100.100.100.254"
    assert g.edges["host:mail-xutonglin", "net:xutonglin-lan"]["type"] == "interface"
    publish = g.edges["host:tmg", "host:mail-xutonglin"]
    assert publish["type"] == "publish"
    assert publish["label"] == ("publish 100.100.100.254:25 -> 192.168.8.10:25 (SMTP server publishing)\n"
                                "publish 100.100.100.254:587 -> 192.168.8.10:587 (Submission)")
    assert g.number_of_nodes() == 3 + 7


def test_dot_output(model: NetworkModel) -> None:
    dot = to_dot(model)
    assert dot.startswith('graph "lab" {\n') and dot.endswith("}\n")
    assert '"host:mail-xutonglin" -- "net:xutonglin-lan" [label="192.168.8.10"];' in dot
    assert '"host:tmg" -- "host:mail-xutonglin" [label="publish 100.100.100.254:25 -> 192.168.8.10:25' in dot
    assert 'style="dashed", dir="forward"' in dot
    assert "masquerade xutonglin-lan -> 100.100.100.254" in dot
    # every id and label is quoted; no bare names with dashes
    for line in dot.splitlines()[4:-1]:
        assert re.match(r'^  "[^"]+"( -- "[^"]+")? \[', line), line
    assert to_dot(model) == dot  # deterministic
    reordered = NetworkModel(tuple(reversed(model.networks)), tuple(reversed(model.nodes)))
    assert to_dot(reordered) == dot


def test_mermaid_output(model: NetworkModel) -> None:
    text = to_mermaid(model)
    lines = text.splitlines()
    assert lines[0] == "graph LR"
    assert '  net_xutonglin_lan(("xutonglin-lan<br/>private<br/>192.168.8.0/24"))' in lines
    assert '  host_mail_contoso["mail-contoso<br/>exchange"]' in lines
    assert '  host_mail_contoso ---|"100.100.100.10"| net_internet' in lines
    assert any(line.startswith('  host_tmg -.->|"publish 100.100.100.254:25') and line.endswith("| host_mail_xutonglin")
               for line in lines)
    for line in lines[1:]:  # ids are plain identifiers
        assert re.match(r"^  [A-Za-z0-9_]+(\(\(|\[| ---\|| -\.->\|)", line), line
    assert to_mermaid(model) == text


def test_quotes_are_escaped(model: NetworkModel) -> None:
    noisy = NetworkModel.from_dict({
        "networks": {"lan": {"kind": "public", "cidrs": ["100.100.100.0/24"]}},
        "nodes": {'my"host': {"kind": "x\\y", "interfaces": {"lan": "100.100.100.1"}}}})
    assert '"host:my\\"host"' in to_dot(noisy) and "x\\\\y" in to_dot(noisy)
    assert "my#quot;host" in to_mermaid(noisy)


def test_write_graph_without_graphviz(model: NetworkModel, tmp_path: Path) -> None:
    result = write_graph(model, tmp_path / "out", dot_binary="no-such-graphviz-binary")
    assert [p.name for p in result.written] == ["topology.dot", "topology.mmd"]
    assert result.skipped == (("svg", "Graphviz 'no-such-graphviz-binary' is not installed"),)
    assert (tmp_path / "out" / "topology.dot").read_text() == to_dot(model)
    assert (tmp_path / "out" / "topology.mmd").read_text() == to_mermaid(model)
    assert not (tmp_path / "out" / "topology.svg").exists()


def test_write_graph_rejects_unknown_format(model: NetworkModel, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        write_graph(model, tmp_path, formats=("png",))
    assert "svg" in info.value.allowed
    assert not list(tmp_path.iterdir())


def test_graphviz_accepts_the_dot(model: NetworkModel, tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    done = subprocess.run(["dot", "-Tcanon"], input=to_dot(model), text=True, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    result = write_graph(model, tmp_path)
    assert (tmp_path / "topology.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert result.skipped == ()


def test_reachable_follows_nat_and_firewalls(model: NetworkModel) -> None:
    assert reachable(model, "client", "mail-xutonglin")
    assert reachable(model, "client", "mail-xutonglin", port=587)
    assert not reachable(model, "client", "mail-xutonglin", port=443)
    assert reachable(model, "mail-xutonglin", "mail-contoso")
    assert not reachable(model, "erp", "mail-contoso")  # office26-fw does not masquerade
    assert connected(model, "erp", "mail-contoso")
    with pytest.raises(ConfigError):
        connected(model, "erp", "nobody")
