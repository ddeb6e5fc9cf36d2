"""A held Exchange dial keeps the receive connector it selected while the server's state object stays
(the selection reads the state's connectors alone) and works out the rest (STARTTLS certificate,
policy) again when lab time or the organization moves: every session it opens holds what a fresh
selection, certificate and policy for the world and instant in force give."""
from __future__ import annotations

import dataclasses

from lab.core.exchange.receive import select_receive_connector
from lab.core.world import World
from lab.memory import MemoryLab
from lab.memory import network as N


def _lab(built) -> MemoryLab:
    topology, trust = built
    return MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)


def _fresh(lab: MemoryLab, node: str, ip: str, port: int, peer_ip: str):
    world, now = lab.world, lab.now_datetime()
    state = world.server(node)
    selection = select_receive_connector(state.receive_connectors, ip, port, peer_ip)
    if not selection.accepted:
        return selection, None, None
    installed = state.starttls_certificate(selection.value, now)
    cert = installed.facts if installed is not None else None
    org = world.org_of(node).organization
    return selection, cert, N.ExchangePolicy(selection.value, state.server, org, cert is not None)


def test_a_held_dial_opens_what_a_fresh_selection_gives(built):
    lab = _lab(built)
    checked = 0
    for node in lab.transports:
        for ip in lab.world.network.node(node).addresses:
            for port in (25, 587, 2525):
                for source in [n.name for n in lab.world.network.nodes]:
                    dial = lab.switchboard.dial(source, ip, port)
                    if isinstance(dial, str) or dial.route.seen_source_ip is None:
                        continue
                    for step in range(4):
                        if step == 1:
                            lab.advance(3600)  # lab time moves: the same state, a new instant
                        elif step == 2:  # the organization changes: the same server state
                            org = lab.world.org_of(node)
                            lab.world = lab.world.with_org(dataclasses.replace(
                                org, organization=dataclasses.replace(org.organization)))
                        elif step == 3:  # the server's state changes (each connector a new one): selected again
                            state = lab.world.server(node)
                            lab.world = lab.world.with_server(dataclasses.replace(state, receive_connectors=tuple(
                                dataclasses.replace(c, banner=f"220 {c.name} changed") for c in state.receive_connectors)))
                        made = dial.open_session()
                        selection, cert, policy = _fresh(lab, node, dial.route.dest_ip, dial.route.dest_port,
                                                         dial.route.seen_source_ip)
                        if made is None:
                            assert not selection.accepted
                            continue
                        session, held_cert = made
                        assert session._selection == (selection,) and held_cert == cert
                        assert session.policy == policy and session.ctx.now == lab.now_datetime()
                        checked += 1
                    lab = _lab(built)  # (a fresh lab for the next dial)
    assert checked > 8
