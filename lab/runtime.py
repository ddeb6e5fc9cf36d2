"""The running lab: a topology wired to real services on loopback, on one asyncio loop.

``Lab(topology, state_dir)`` is an async context manager. ``start()`` gives every virtual
address of every host its own loopback address, builds the PKI and writes the trust bundles,
starts the public DNS server and the SMTP endpoints, and writes ``endpoints.json``;
``stop()`` closes everything. Nothing listens outside 127.0.0.0/8.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from lab.adapters.clock import LabClock
from lab.adapters.dns_server import DnsServer, start_dns_server
from lab.adapters.pki import IssuedCertificate
from lab.adapters.pki_world import CertSpec, Pki, TrustStoreSpec
from lab.adapters.spool import TrackingLog
from lab.core.catalogue import lab as LAB
from lab.core.errors import LabRuntimeError
from lab.core.exchange.queue_records import TransportSettings
from lab.core.model import Topology
from lab.core.network import assign_loopback, live_port
from lab.core.memo import Memo
from lab.core.world import World
from lab.wiring import Addressing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoint:
    """One service of the running lab."""

    host: str
    service: str
    virtual_ip: str
    virtual_port: int
    loopback_ip: str
    port: int
    protocol: str = "tcp"


_ENDPOINT_FIELDS = tuple(f.name for f in fields(Endpoint))  # flat str/int fields: asdict without its deep copy


@dataclass(frozen=True)
class HostAddresses:
    host: str
    kind: str
    virtual_ips: tuple[str, ...]
    loopback_ips: tuple[str, ...]

    @property
    def loopback(self) -> str:
        return self.loopback_ips[0]


def plan_addresses(topology: Topology, base: str | None = None) -> dict[str, HostAddresses]:
    """Give every virtual IP of every host its own loopback address (deterministic, by file order)."""
    keys: list[tuple[str, str]] = []
    for node in topology.network.nodes:
        for ip in node.addresses:
            keys.append((node.name, ip))
    table = assign_loopback([f"{n}@{ip}" for n, ip in keys], base or topology.settings.loopback_base)
    out: dict[str, HostAddresses] = {}
    for node in topology.network.nodes:
        ips = tuple(node.addresses)
        out[node.name] = HostAddresses(node.name, topology.hosts[node.name].kind, ips,
                                       tuple(table[f"{node.name}@{ip}"] for ip in ips))
    return out


def pki_specs(topology: Topology) -> tuple[list[CertSpec], list[TrustStoreSpec]]:
    """The PKI adapter's specs for the topology's authorities and certificates, and its trust stores."""
    specs: list[CertSpec] = []
    for a in topology.pki.authorities:
        subject = tuple((k, v) for k, v in (("O", a.organization), ("C", a.country)) if v)
        specs.append(CertSpec(name=a.name, kind=a.kind, issuer=a.issuer, common_name=a.common_name,
                              subject=subject, valid_from=a.valid_from, valid_days=a.valid_days,
                              key_type=a.key_type))
    for c in topology.pki.certificates:
        subject = (("O", c.organization),) if c.organization else ()
        specs.append(CertSpec(name=c.name, kind="self-signed" if c.self_signed else "leaf",
                              issuer=None if c.self_signed else c.issuer, common_name=c.common_name,
                              subject=subject, sans=c.sans, valid_from=c.valid_from, valid_days=c.valid_days,
                              key_type=c.key_type))
    stores = [TrustStoreSpec(name, roots) for name, roots in
              topology.pki.trust_stores(tuple(topology.organizations)).items()]
    return specs, stores


_PKIS: list[tuple[Topology, Pki]] = []  # (topology, its PKI), newest first


def topology_pki(topology: Topology) -> Pki:
    """``Pki.cached`` of the topology's :func:`pki_specs`, dated ``settings.clock_start``.

    The specs depend on the (immutable) topology alone, so the last few topologies' PKIs are
    remembered by identity (those Pki.cached shares: a dated clock, hashable specs): a lab of a
    topology seen before skips deriving and comparing specs.
    """
    with _WORLDS_LOCK:
        for known, pki in _PKIS:
            if known is topology:
                return pki
    specs, stores = pki_specs(topology)
    now = topology.settings.clock_start
    pki = Pki.cached(specs, stores, now=now)  # built once per process
    try:
        shared = now is not None and hash((tuple(specs), tuple(stores))) is not None
    except TypeError:
        shared = False  # Pki.cached builds such specs afresh each time: so does this
    if shared:
        with _WORLDS_LOCK:
            _PKIS.insert(0, (topology, pki))
            del _PKIS[_WORLDS_KEPT:]
    return pki


_WORLDS_KEPT = 8
_WORLDS_LOCK = threading.Lock()
_WORLDS = Memo(_WORLDS_KEPT)  # (topology, pki) objects -> the World they make


def initial_world(topology: Topology, pki: Pki) -> World:
    """``World.from_topology`` of ``topology`` with the facts of ``pki``'s certificates.

    A Topology, a Pki and a World never change, so labs of the same topology and PKI (``lab
    scenario run --all``: every scenario of a world, both drivers) start from one World, built
    once per process for the last few pairs (by identity). A cmdlet's change is a new World.
    """
    with _WORLDS_LOCK:
        return _WORLDS.get((topology, pki), None,
                           lambda: World.from_topology(topology, {n: c.facts for n, c in pki.certificates.items()}))


class Lab:
    """A running lab world. Use ``async with Lab(topology, state_dir) as lab:``.

    Attributes:
        world: the configuration in force (assigning a new World applies it at once).
        clock: the lab clock (live: it follows wall time; scenarios advance it).
        pki: the lab's CAs, certificates and trust stores; ``keys`` adds certificates made at run time.
        exchange: the on-prem Exchange services by node; ``eop``: the EOP services by node.
    """

    def __init__(self, topology: Topology, state_dir: str | Path, *, loopback_base: str | None = None,
                 live_clock: bool = True, control: bool = False):
        self.topology = topology
        self.state_dir = Path(state_dir)
        self.addresses = plan_addresses(topology, loopback_base)
        self.addressing = Addressing(
            network=lambda: self.world.network,
            loopback={(a.host, v): l for a in self.addresses.values() for v, l in zip(a.virtual_ips, a.loopback_ips)},
            ports=dict(topology.settings.ports), outside_host=topology.settings.outside_host, listening=set())
        self.clock = LabClock(start=resumed_lab_time(self.state_dir), epoch=topology.settings.clock_start)
        self.live_clock = live_clock
        self.control_enabled = control
        self.control: Any = None
        self.transport_settings = TransportSettings()
        self.endpoints: list[Endpoint] = []
        self.pki: Pki | None = None
        self.keys: dict[str, IssuedCertificate] = {}
        self.client_anchors = b""
        self.dns: DnsServer | None = None
        self.dns_address: tuple[str, int] | None = None
        self.tracking: TrackingLog | None = None
        self.exchange: dict[str, Any] = {}
        self.eop: dict[str, Any] = {}
        self._world: World | None = None
        self._closers: list[Any] = []

    # -- the world ------------------------------------------------------------------------------
    @property
    def world(self) -> World:
        assert self._world is not None, "the lab is not started"
        return self._world

    @world.setter
    def world(self, world: World) -> None:
        """Put a changed configuration in force: DNS answers, transports and EOP follow at once."""
        self._world = world
        if self.dns is not None:
            self.dns.zones = world.zones
        for service in self.exchange.values():
            service.reconfigure(world)
            if any(key not in service.listeners for key in service.wanted_listeners(world)):
                asyncio.get_running_loop().create_task(self._listen_more(service))
        from lab.core.world_views import eop_world  # noqa: PLC0415
        for node, service in self.eop.items():
            service.world = eop_world(world, node)

    async def _listen_more(self, service: Any) -> None:
        """A receive connector binds a port nobody serves yet: open it and publish it in endpoints.json."""
        await service.ensure_listeners()
        self.write_endpoints()

    # -- address helpers -------------------------------------------------------------------
    def loopback_of(self, host: str, virtual_ip: str | None = None) -> str:
        addr = self.addresses[host]
        if virtual_ip is None:
            return addr.loopback
        return addr.loopback_ips[addr.virtual_ips.index(virtual_ip)]

    def port(self, virtual_port: int) -> int:
        return live_port(virtual_port, self.topology.settings.ports)

    def add_endpoint(self, host: str, service: str, virtual_ip: str, virtual_port: int, loopback_ip: str,
                     port: int, protocol: str = "tcp") -> None:
        self.endpoints.append(Endpoint(host, service, virtual_ip, virtual_port, loopback_ip, port, protocol))

    # -- lifecycle ----------------------------------------------------------------------------
    async def __aenter__(self) -> "Lab":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        from lab.services import ExchangeService  # noqa: PLC0415
        from lab.services_eop import start_eop_service  # noqa: PLC0415
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._build_pki()
            self._world = initial_world(self.topology, self.pki)
            self.tracking = TrackingLog(self.state_dir, self.topology.settings.clock_start)
            await self._start_dns()
            for host in self.topology.exchange_servers():
                service = ExchangeService(self, host.name)
                self.exchange[host.name] = service
                self._closers.append(service.close)
                await service.start()
            for host in self.topology.hosts_of_kind("eop"):
                service = await start_eop_service(self, host.name)
                self.eop[host.name] = service
                self._closers.append(service.close)
                self._closers.append(self._canceller(self.clock.spawn(self._eop_retries(service))))
            if self.live_clock:
                self.clock.start_live()
                self._closers.append(self.clock.stop_live)
            if self.control_enabled:
                from lab.control import start_control  # noqa: PLC0415
                self.control = await start_control(self)
                self._closers.append(self.control.close)
            self.write_endpoints()
        except BaseException:
            await self.stop()
            raise

    @staticmethod
    def _canceller(task: asyncio.Task):
        async def cancel() -> None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        return cancel

    async def _eop_retries(self, service: Any) -> None:
        """EOP's queue: attempt what is due, then sleep until the next item is due or new mail
        arrives (no polling: a long ``Set-LabClock -Advance`` fires only real retries). An error
        never ends the loop; it is logged and the queue is looked at again at the next wakeup."""
        from lab.core.eop.queue import RETRY_INTERVAL  # noqa: PLC0415
        while True:
            try:
                await service.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the queue must keep running
                log.exception("EOP queue run of %s failed", service.world.node.name)
                await self.clock.sleep(RETRY_INTERVAL)
                continue
            await service.wait_for_work(self.clock.sleep)

    async def stop(self) -> None:
        closers, self._closers = self._closers, []
        for close in reversed(closers):
            result = close()
            if asyncio.iscoroutine(result):
                await result
        if self._world is not None:
            save_lab_time(self.state_dir, self.clock.now)
        (self.state_dir / "lab.pid").unlink(missing_ok=True)

    def _build_pki(self) -> None:
        self.pki = topology_pki(self.topology)  # built once per process
        self.pki.write_state(self.state_dir)
        self.keys = dict(self.pki.certificates)
        self.client_anchors = self.pki.anchors_pem()

    async def _start_dns(self) -> None:
        spec = self.topology.dns
        if spec is None:
            return
        node = self.topology.network.node(spec.server)
        for ip in node.addresses:
            loop_ip = self.loopback_of(spec.server, ip)
            server = await start_dns_server(self.world.zones, loop_ip, self.port(53))
            if self.dns is None:
                self.dns, self.dns_address = server, (loop_ip, server.port)
            self.addressing.listening.add((spec.server, 53))
            self._closers.append(self._closer(server))
            for proto in ("udp", "tcp"):
                self.add_endpoint(spec.server, "dns", ip, 53, loop_ip, server.port, proto)

    @staticmethod
    def _closer(server: Any):
        async def close() -> None:
            server.close()
            await server.wait_closed()
        return close

    # -- state dir ---------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """What ``endpoints.json`` holds."""
        return {
            "lab": self.topology.name,
            "topology": str(self.topology.source),
            "pid": os.getpid(),
            "state_dir": str(self.state_dir),
            "hosts": [
                {"host": a.host, "kind": a.kind, "fqdn": self.topology.hosts[a.host].fqdn,
                 "addresses": [{"virtual_ip": v, "loopback_ip": l} for v, l in zip(a.virtual_ips, a.loopback_ips)],
                 "loopback_ip": a.loopback}
                for a in self.addresses.values()
            ],
            "services": [{name: getattr(e, name) for name in _ENDPOINT_FIELDS} for e in self.endpoints],  # asdict's
            "trust": sorted(str(p.relative_to(self.state_dir)) for p in (self.state_dir / "trust").glob("*.pem")),
        }

    def write_endpoints(self) -> Path:
        path = self.state_dir / "endpoints.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.describe(), indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
        (self.state_dir / "lab.pid").write_text(f"{os.getpid()}\n", encoding="utf-8")
        return path


def resumed_lab_time(state_dir: Path) -> float:
    """Where the lab clock stood when this state dir's lab last stopped (0 for a new state dir).

    The spool's messages carry lab times: resuming the clock keeps their retry, delay-DSN and
    expiry deadlines right after a restart.
    """
    try:
        return float(json.loads((Path(state_dir) / "clock.json").read_text(encoding="utf-8"))["lab_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def save_lab_time(state_dir: Path, lab_seconds: float) -> None:
    path = Path(state_dir) / "clock.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"lab_seconds": lab_seconds}) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_endpoints(state_dir: str | Path) -> dict[str, Any]:
    """The ``endpoints.json`` of a running lab.

    Raises:
        LabRuntimeError: no lab has been started with this state dir, or it is no longer running.
    """
    base = Path(state_dir)
    path = base / "endpoints.json"
    pid_file = base / "lab.pid"
    if not path.exists() or not pid_file.exists():
        raise LabRuntimeError(LAB.NO_LAB_RUNNING.format(state=base))
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        raise LabRuntimeError(LAB.LAB_GONE.format(state=base)) from None
    except PermissionError:
        pass
    return json.loads(path.read_text(encoding="utf-8"))
