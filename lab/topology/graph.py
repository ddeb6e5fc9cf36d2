"""The topology as a graph: networkx, Graphviz DOT, Mermaid and (where Graphviz is installed) SVG.

Graph node ids are ``net:<name>`` for networks and ``host:<name>`` for hosts. Edges are
interfaces (host -- network, labelled with the addresses) and publishing rules (firewall ->
internal host, labelled ``publish ext:port -> int:port (name)``). All output is sorted, so the
same model always gives byte-identical files.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from lab.core.errors import ConfigError, LabRuntimeError, Place
from lab.core.network import NetworkModel

FORMATS = ("dot", "mermaid", "svg")
SUFFIXES = {"dot": ".dot", "mermaid": ".mmd", "svg": ".svg"}


def net_id(name: str) -> str:
    """The graph id of network ``name``."""
    return f"net:{name}"


def host_id(name: str) -> str:
    """The graph id of host ``name``."""
    return f"host:{name}"


def build_graph(model: NetworkModel) -> nx.Graph:
    """Builds the undirected topology graph.

    Node attributes: ``type`` (``network``/``host``), ``name``, ``kind``, ``label``.
    Edge attributes: ``type`` (``interface``/``publish``), ``label``; publish edges also carry
    ``source`` (the publishing node) and ``rules`` (their descriptions).
    """
    g = nx.Graph()
    for net in sorted(model.networks, key=lambda n: n.name):
        g.add_node(net_id(net.name), type="network", name=net.name, kind=net.kind,
                   label="\n".join([net.name, net.kind, *net.cidrs]))
    for node in sorted(model.nodes, key=lambda n: n.name):
        lines = [node.name, node.kind]
        lines += [r.describe() for r in node.nat if r.type == "masquerade"]
        if node.firewall:
            lines.append(f"firewall: {len(node.firewall)} rule(s), default {node.firewall_default}")
        g.add_node(host_id(node.name), type="host", name=node.name, kind=node.kind, label="\n".join(lines))
        for iface in node.interfaces:
            g.add_edge(host_id(node.name), net_id(iface.network), type="interface",
                       label=", ".join(iface.addresses))
    for node in sorted(model.nodes, key=lambda n: n.name):
        for rule in node.nat:
            if rule.type != "publish":
                continue
            inner = model.owner_of(str(rule.internal_ip))
            if inner is None:
                continue
            key = (host_id(node.name), host_id(inner.name))
            data = g.get_edge_data(*key)
            rules = (data["rules"] if data else ()) + (rule.describe(),)
            g.add_edge(*key, type="publish", source=host_id(node.name), rules=rules, label="\n".join(rules))
    return g


def _ordered_nodes(g: nx.Graph) -> list[str]:
    return sorted(g.nodes, key=lambda n: (g.nodes[n]["type"] != "network", n))


def _ordered_edges(g: nx.Graph) -> list[tuple[str, str, dict]]:
    edges = []
    for a, b, data in g.edges(data=True):
        if data["type"] == "publish":
            a, b = data["source"], b if data["source"] == a else a
        elif g.nodes[a]["type"] == "network":
            a, b = b, a
        edges.append((a, b, data))
    return sorted(edges, key=lambda e: (e[2]["type"] != "interface", e[0], e[1]))


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(model: NetworkModel, name: str = "lab") -> str:
    """The topology as a Graphviz ``graph`` (every id quoted; networks are ellipses, hosts boxes)."""
    g = build_graph(model)
    out = [f"graph {_dot_quote(name)} {{", "  graph [rankdir=LR];", '  node [fontname="Helvetica"];',
           '  edge [fontname="Helvetica", fontsize=10];']
    shapes = {"network": "ellipse", "host": "box"}
    for n in _ordered_nodes(g):
        attrs = g.nodes[n]
        style = ', style="filled", fillcolor="lightyellow"' if attrs.get("kind") == "public" else ""
        out.append(f"  {_dot_quote(n)} [shape={shapes[attrs['type']]}, label={_dot_quote(attrs['label'])}{style}];")
    for a, b, data in _ordered_edges(g):
        extra = ', style="dashed", dir="forward", color="blue"' if data["type"] == "publish" else ""
        out.append(f"  {_dot_quote(a)} -- {_dot_quote(b)} [label={_dot_quote(data['label'])}{extra}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _mermaid_ids(nodes: list[str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    used: set[str] = set()
    for n in nodes:
        base = re.sub(r"[^A-Za-z0-9_]", "_", n)
        candidate, k = base, 2
        while candidate in used:
            candidate, k = f"{base}_{k}", k + 1
        used.add(candidate)
        ids[n] = candidate
    return ids


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;").replace("\n", "<br/>") + '"'


def to_mermaid(model: NetworkModel) -> str:
    """The topology as a Mermaid ``graph LR`` (networks are rounded, hosts rectangles)."""
    g = build_graph(model)
    nodes = _ordered_nodes(g)
    ids = _mermaid_ids(nodes)
    out = ["graph LR"]
    for n in nodes:
        attrs = g.nodes[n]
        label = _mermaid_text(attrs["label"])
        out.append(f"  {ids[n]}(({label}))" if attrs["type"] == "network" else f"  {ids[n]}[{label}]")
    for a, b, data in _ordered_edges(g):
        arrow = "-.->" if data["type"] == "publish" else "---"
        out.append(f"  {ids[a]} {arrow}|{_mermaid_text(data['label'])}| {ids[b]}")
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class GraphOutput:
    """What :func:`write_graph` did: the files written and the formats skipped (with why)."""

    written: tuple[Path, ...]
    skipped: tuple[tuple[str, str], ...]


def write_graph(model: NetworkModel, out_dir: str | Path, formats: tuple[str, ...] = FORMATS,
                basename: str = "topology", dot_binary: str = "dot") -> GraphOutput:
    """Writes ``<basename>.dot``, ``.mmd`` and ``.svg`` into ``out_dir``.

    SVG is made by running Graphviz's ``dot`` (looked up as ``dot_binary`` on PATH); when it
    is not installed the format is skipped and reported in ``GraphOutput.skipped``.

    Raises:
        ConfigError: an unknown format.
        LabRuntimeError: ``dot`` is installed but fails.
    """
    for fmt in formats:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown graph format {fmt!r}", Place(path="formats"), allowed=FORMATS)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    skipped: list[tuple[str, str]] = []
    dot_text = to_dot(model)
    for fmt in dict.fromkeys(formats):
        path = out / f"{basename}{SUFFIXES[fmt]}"
        if fmt == "dot":
            path.write_text(dot_text, encoding="utf-8")
        elif fmt == "mermaid":
            path.write_text(to_mermaid(model), encoding="utf-8")
        else:
            exe = shutil.which(dot_binary)
            if exe is None:
                skipped.append(("svg", f"Graphviz '{dot_binary}' is not installed"))
                continue
            done = subprocess.run([exe, "-Tsvg", "-o", str(path)], input=dot_text, text=True,
                                  capture_output=True, check=False, timeout=60)
            if done.returncode != 0:
                raise LabRuntimeError(f"Graphviz dot failed: {done.stderr.strip()}")
        written.append(path)
    return GraphOutput(tuple(written), tuple(skipped))


def reachable(model: NetworkModel, src: str, dst: str, port: int = 25) -> bool:
    """True if host ``src`` can open a connection to host ``dst`` on ``port``.

    Unlike plain graph connectivity this follows gateways, NAT/publishing and firewall rules
    (``NetworkModel.route_to_node``); ``connected`` answers the graph-only question.
    """
    return model.route_to_node(src, dst, port).ok


def connected(model: NetworkModel, src: str, dst: str) -> bool:
    """True if the two hosts are linked at all in the topology graph (ignoring NAT and firewalls)."""
    g = build_graph(model)
    for name in (src, dst):
        model.node(name)
    return nx.has_path(g, host_id(src), host_id(dst))
