"""The live EOP service of the lab: the tenant MX endpoint and smtp.office365.com on loopback.

Like the Exchange servers (:mod:`lab.services`), it reads the lab's current world: the runtime
assigns ``service.world = eop_world(world, node)`` (:func:`lab.core.world_views.eop_world`)
whenever the world changes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from lab.adapters.dns_client import LabResolver
from lab.adapters.eop import EopService, Outbound, start_eop
from lab.core.world_views import eop_world

if TYPE_CHECKING:
    from lab.runtime import Lab


def _self_signed_pems(lab: "Lab") -> bytes:
    """Self-signed certificates made while the lab runs (``lab.keys``): EOP reads them as client
    certificates (and finds them untrusted) instead of failing the TLS handshake."""
    built = lab.pki.certificates if lab.pki else {}
    return b"".join(sorted(c.cert_pem() for n, c in lab.keys.items() if c.facts.self_signed and n not in built))


async def start_eop_service(lab: "Lab", node: str) -> EopService:
    """Start EOP's MX endpoint (25) and smtp.office365.com (25, 587) for the eop node."""
    world = lab.world
    ew = eop_world(world, node)
    listen = []
    for ip, ports in ((ew.node.mx_ip, (25,)), (ew.node.submission_ip, (25, 587))):
        for port in ports:
            listen.append((ip, lab.addressing.loopback[(node, ip)], lab.port(port)))
            lab.addressing.listening.add((node, port))
    dns = lab.dns_address
    source = lab.addressing.primary(node)
    resolver = LabResolver(dns[0], dns[1], source=source) if dns else None

    async def resolve_host(name: str) -> list[str]:
        result = await resolver.resolve_a(name)
        return list(result.addresses)

    async def resolve_mx(domain: str) -> list[str]:
        result = await resolver.resolve_mx(domain)
        return [t.host for t in result.targets]

    def locate(ip: str, port: int) -> tuple[str, int] | str:
        where = lab.addressing.locate(node, ip, port)
        return where if isinstance(where, str) else (where[0], where[1])

    names = {c: lab.keys[c] for c in ew.node.certificates if c in lab.keys}
    certificates = {"mx": names.get("eop-mx") or next(iter(names.values())),
                    "submission": names.get("eop-submission") or next(iter(names.values()))}
    outbound = Outbound(resolve_host, resolve_mx, locate, source, ew.node.frontend_host)
    service = await start_eop(
        ew, listen=listen, pki=lab.pki, certificates=certificates, state_dir=lab.state_dir, outbound=outbound,
        resolve_peer=lambda peer: lab.addressing.seen(peer, node, 25)[1], clock_now=lab.clock.now_datetime,
        spawn=lab.clock.spawn, more_client_anchors=lambda: _self_signed_pems(lab))
    for ip, loop_ip, port in listen:
        virtual = 587 if port == lab.port(587) else 25
        lab.add_endpoint(node, "smtp-mx" if ip == ew.node.mx_ip else "smtp-submission", ip, virtual,
                         loop_ip, port)
    return service
