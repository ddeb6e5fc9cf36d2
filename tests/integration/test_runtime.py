"""The runtime: the lab clock survives a restart; a connector on a new port gets a listener."""
from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

from lab.core.exchange.connectors import ReceiveConnector
from lab.runtime import Lab
from lab.topology.load import load_topology

ROOT = Path(__file__).resolve().parents[2]


def test_lab_clock_resumes_after_a_restart(tmp_path):
    topo = load_topology(ROOT / "topology.yaml")

    async def main():
        async with Lab(topo, tmp_path, loopback_base="127.94.0.0/16", live_clock=False) as lab:
            assert lab.clock.now == 0.0
            await lab.clock.advance(3600)
        assert json.loads((tmp_path / "clock.json").read_text()) == {"lab_seconds": 3600.0}
        async with Lab(topo, tmp_path, loopback_base="127.94.0.0/16", live_clock=False) as lab:
            return lab.clock.now, lab.clock.now_datetime()

    now, when = asyncio.run(main())
    assert now == 3600.0
    assert when.isoformat() == "2026-11-23T10:00:00+00:00"


def test_a_receive_connector_on_a_new_port_is_served_at_once(tmp_path):
    topo = load_topology(ROOT / "topology.yaml")

    async def main():
        async with Lab(topo, tmp_path, loopback_base="127.95.0.0/16", live_clock=False) as lab:
            world = lab.world
            state = world.server("mail1")
            extra = ReceiveConnector.from_mapping(
                {"Name": "Scanner 2526 MAIL1", "Server": "MAIL1", "Bindings": ["0.0.0.0:2526"],
                 "RemoteIPRanges": ["192.168.0.0/24"], "PermissionGroups": ["AnonymousUsers"]}, "test")
            lab.world = world.with_server(
                state.__class__(state.node, state.org, state.server, state.receive_connectors + (extra,),
                                state.certificates))
            for _ in range(50):
                await asyncio.sleep(0.01)
                if any(e.virtual_port == 2526 for e in lab.endpoints):
                    break
            endpoint = next(e for e in lab.endpoints if e.host == "mail1" and e.virtual_port == 2526)
            described = json.loads((tmp_path / "endpoints.json").read_text())

            def banner() -> bytes:
                # from the erp host's own loopback address: inside the connector's RemoteIPRanges
                with socket.create_connection((endpoint.loopback_ip, endpoint.port), timeout=5,
                                              source_address=(lab.addressing.primary("erp"), 0)) as s:
                    return s.recv(200)

            return await asyncio.to_thread(banner), described

    banner, described = asyncio.run(main())
    assert banner.startswith(b"220 mail1.office26.com Microsoft ESMTP MAIL Service ready at ")
    assert any(s["virtual_port"] == 2526 for s in described["services"])


def test_addressing_refuses_anything_outside_loopback():
    import pytest

    from lab.core.errors import LabRuntimeError
    from lab.wiring import Addressing

    topo = load_topology(ROOT / "topology.yaml")
    addressing = Addressing(network=lambda: topo.network,
                            loopback={("contoso-ex", "100.100.100.10"): "127.42.0.2",
                                      ("fabrikam-ex", "203.0.113.25"): "10.0.0.5"},  # a broken table
                            ports={}, outside_host="internet-client", listening={("fabrikam-ex", 25)})
    with pytest.raises(LabRuntimeError, match="10.0.0.5"):
        addressing.locate("contoso-ex", "203.0.113.25", 25)


def test_listeners_opened_together_end_as_one_by_one_when_a_port_is_taken(tmp_path):
    """A server's new listeners open together; when one cannot, those before it stay open, those
    after it are closed again and its failure is raised (as opening them one by one would)."""
    import pytest

    from lab.core.errors import LabRuntimeError

    topo = load_topology(ROOT / "topology.yaml")

    async def main():
        async with Lab(topo, tmp_path, loopback_base="127.96.0.0/16", live_clock=False) as lab:
            world = lab.world
            state = world.server("mail1")
            extra = tuple(ReceiveConnector.from_mapping(
                {"Name": f"Scanner {port} MAIL1", "Server": "MAIL1", "Bindings": [f"0.0.0.0:{port}"],
                 "RemoteIPRanges": ["192.168.0.0/24"], "PermissionGroups": ["AnonymousUsers"]}, "test")
                for port in (2526, 2527, 2528))
            lab._world = world.with_server(  # in force without the setter's own background opening
                state.__class__(state.node, state.org, state.server, state.receive_connectors + extra,
                                state.certificates))
            service = lab.exchange["mail1"]
            (ip,) = [ip for ip, port in service.wanted_listeners(lab.world) if port == 2527]
            loop_ip = lab.addressing.loopback[("mail1", ip)]
            taken = socket.socket()
            taken.bind((loop_ip, lab.port(2527)))
            taken.listen()
            before = len(lab.endpoints)
            try:
                with pytest.raises(LabRuntimeError, match="in use"):
                    await service.ensure_listeners()
            finally:
                taken.close()
            opened = sorted(p for _, p in service.listeners if p in (2526, 2527, 2528))
            added = [e.virtual_port for e in lab.endpoints[before:]]

            def refused(port: int) -> bool:
                try:
                    socket.create_connection((loop_ip, lab.port(port)), timeout=5).close()
                except ConnectionRefusedError:
                    return True
                return False

            after_failure = await asyncio.to_thread(refused, 2528)
            await service.ensure_listeners()  # the port is free again: the rest open, in order
            return opened, added, after_failure, [e.virtual_port for e in lab.endpoints[before:]]

    opened, added, after_failure, finally_added = asyncio.run(main())
    assert opened == [2526] and added == [2526] and after_failure
    assert finally_added == [2526, 2527, 2528]
