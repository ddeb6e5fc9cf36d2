"""EOP on real loopback sockets: relay attribution, certificate connectors, submission, validation."""
from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timezone

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP as AioSMTP

from lab.adapters.eop import Outbound, start_eop, validate_outbound_connector
from lab.adapters.pki import self_signed
from lab.adapters.pki_world import Pki
from lab.adapters.tls import client_context, server_context
from lab.core.eop.model import EopNode, InboundConnector, Tenant
from lab.core.eop.policy import EopWorld
from lab.runtime import pki_specs
from lab.topology.load import load_topology

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
MX_LOOP, SUB_LOOP = "127.77.1.10", "127.77.1.11"
RELAY01, OTHER, EX01 = "127.77.2.40", "127.77.2.50", "127.77.2.30"
PEERS = {RELAY01: "198.51.100.40", OTHER: "203.0.113.50", EX01: "198.51.100.30"}
FE = "AM5EUR02FT025.eop-EUR02.prod.protection.outlook.com"


@pytest.fixture(scope="module")
def world_parts():
    topology = load_topology("topology.yaml")
    specs, stores = pki_specs(topology)
    pki = Pki.build(specs, stores, now=topology.settings.clock_start)
    tenant = Tenant.from_spec(topology.tenants["ixmsoft"])
    node = EopNode.from_host(topology.hosts["eop"])
    return pki, tenant, node


def with_inbound(tenant: Tenant, *mappings: dict) -> Tenant:
    extra = tuple(InboundConnector.from_mapping(m, f"test[{i}]") for i, m in enumerate(mappings))
    return dataclasses.replace(tenant, inbound_connectors=tenant.inbound_connectors + extra)


async def _start(pki, tenant, node, tmp_path, anchors=b"", onprem_port=None):
    locate_table = {}
    if onprem_port:
        locate_table[("198.51.100.30", 25)] = ("127.77.3.10", onprem_port)
    outbound = Outbound(
        resolve_host=lambda name: _const({"mail.ixmsoft.com": ["198.51.100.30"]}.get(name, [])),
        resolve_mx=lambda domain: _const({"ixmsoft.com": ["mail.ixmsoft.com"]}.get(domain, [])),
        locate=lambda ip, port: locate_table.get((ip, port)), source_ip=MX_LOOP,
        ehlo_name=node.frontend_host, timeout=5)
    return await start_eop(EopWorld(node, (tenant,)), listen=[(node.mx_ip, MX_LOOP, 0), (node.submission_ip, SUB_LOOP, 0)],
                           pki=pki, certificates={"mx": pki.certificate("eop-mx"),
                                                  "submission": pki.certificate("eop-submission")},
                           state_dir=tmp_path, outbound=outbound, resolve_peer=lambda ip: PEERS.get(ip, "203.0.113.99"),
                           clock_now=lambda: NOW, client_anchors_pem=anchors)


async def _const(value):
    return value


async def _rcpt(service, source, rcpt, cert=None, sender="app@ixmsoft.com", listener=0):
    host, port = service.listeners[listener].address
    smtp = aiosmtplib.SMTP(hostname=host, port=port, source_address=(source, 0), start_tls=False, timeout=5)
    await smtp.connect()
    try:
        await smtp.ehlo(hostname="relay.ixmsoft.com")
        if cert is not False:
            await smtp.starttls(tls_context=client_context(cert))
            await smtp.ehlo(hostname="relay.ixmsoft.com")
        mail = await smtp.execute_command(f"MAIL FROM:<{sender}>".encode())
        reply = await smtp.execute_command(f"RCPT TO:<{rcpt}>".encode())
        return mail, reply
    finally:
        smtp.close()


def test_device_without_connector_gets_5_7_64(world_parts, tmp_path):
    pki, tenant, node = world_parts

    async def run():
        service = await _start(pki, tenant, node, tmp_path)
        try:
            mail, reply = await _rcpt(service, RELAY01, "someone@fabrikam.com", cert=False)
            assert (mail.code, mail.message) == (250, "2.1.0 Sender OK")
            assert f"{reply.code} {reply.message}" == f"550 5.7.64 TenantAttribution; Relay Access Denied [{FE}]"
            mail, reply = await _rcpt(service, RELAY01, "user02@ixmsoft.com", cert=False)
            assert f"{reply.code} {reply.message}" == "250 2.1.5 Recipient OK"
        finally:
            await service.close()
    asyncio.run(run())


def test_ip_connector_relays_and_other_ip_refused(world_parts, tmp_path):
    pki, tenant, node = world_parts
    tenant = with_inbound(tenant, {"Name": "Relay by IP", "ConnectorType": "OnPremises", "SenderDomains": "*",
                                   "SenderIPAddresses": ["198.51.100.40"], "RestrictDomainsToIPAddresses": True})

    async def run():
        service = await _start(pki, tenant, node, tmp_path)
        try:
            _, ok = await _rcpt(service, RELAY01, "someone@fabrikam.com", cert=False)
            assert f"{ok.code} {ok.message}" == "250 2.1.5 Recipient OK"
            _, refused = await _rcpt(service, OTHER, "someone@fabrikam.com", cert=False)
            assert refused.code == 550 and refused.message.startswith("5.7.64 TenantAttribution")
        finally:
            await service.close()
    asyncio.run(run())


def test_certificate_connector(world_parts, tmp_path):
    pki, tenant, node = world_parts
    tenant = with_inbound(tenant, {"Name": "Relay by cert", "ConnectorType": "OnPremises", "SenderDomains": "*",
                                   "RequireTls": True, "TlsSenderCertificateName": "*.ixmsoft.com"})
    selfie = self_signed("relay.ixmsoft.com", ["relay.ixmsoft.com"])
    wrong = pki.authority("wosign-g2").issue("app.contoso.com", ["app.contoso.com"], not_before=NOW.replace(year=2026, month=1))

    async def run():
        service = await _start(pki, tenant, node, tmp_path, anchors=selfie.cert_pem())
        try:
            _, ok = await _rcpt(service, OTHER, "someone@fabrikam.com", cert=pki.certificate("relay01-client"),
                                sender="app@elsewhere.example")
            assert f"{ok.code} {ok.message}" == "250 2.1.5 Recipient OK"
            for bad in (selfie, wrong, None):
                _, refused = await _rcpt(service, OTHER, "someone@fabrikam.com", cert=bad)
                assert f"{refused.code} {refused.message}" == \
                    f"550 5.7.64 TenantAttribution; Relay Access Denied [{FE}]", bad
        finally:
            await service.close()
    asyncio.run(run())


def test_submission_endpoint(world_parts, tmp_path):
    pki, tenant, node = world_parts

    async def run():
        service = await _start(pki, tenant, node, tmp_path)
        try:
            host, port = service.listeners[1].address
            smtp = aiosmtplib.SMTP(hostname=host, port=port, source_address=(OTHER, 0), start_tls=False, timeout=5)
            await smtp.connect()
            ehlo = await smtp.ehlo(hostname="printer")
            assert "AUTH" not in ehlo.message and "STARTTLS" in ehlo.message
            plain = await smtp.execute_command(b"MAIL FROM:<user02@ixmsoft.com>")
            assert (plain.code, plain.message.split(" [")[0]) == (
                530, "5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM")
            await smtp.starttls(tls_context=client_context())
            ehlo = await smtp.ehlo(hostname="printer")
            assert "AUTH LOGIN XOAUTH2" in ehlo.message
            anonymous = await smtp.execute_command(b"MAIL FROM:<user02@ixmsoft.com>")
            assert f"{anonymous.code} {anonymous.message}" == (
                "530 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM "
                "[AM6PR02CA0041.eurprd02.prod.outlook.com]")
            with pytest.raises(aiosmtplib.SMTPAuthenticationError) as bad:
                await smtp.login("user02@ixmsoft.com", "wrong")
            assert (bad.value.code, bad.value.message) == (535, "5.7.3 Authentication unsuccessful")
            good = await smtp.login("user02@ixmsoft.com", "P@ssw0rd")
            assert (good.code, good.message) == (235, "2.7.0 Authentication successful")
            await smtp.sendmail("user02@ixmsoft.com", ["user20@ixmsoft.com"],
                                b"Subject: hi\r\nMessage-ID: <t1@lab>\r\n\r\nhello\r\n")
            with pytest.raises(aiosmtplib.SMTPDataError) as denied:
                await smtp.sendmail("user20@ixmsoft.com", ["user02@ixmsoft.com"], b"Subject: as\r\n\r\nx\r\n")
            assert denied.value.code == 550 and denied.value.message.startswith("5.7.60 SMTP; Client does not")
            await smtp.quit()
        finally:
            await service.close()
        box = service.maildirs.messages("user20@ixmsoft.com")
        assert len(box) == 1 and b"X-MS-Exchange-Organization-AuthAs: Internal" in box[0]
        assert b"via Frontend Transport" in box[0]
    asyncio.run(run())


def test_validation_untrusted_root_then_relaxed(world_parts, tmp_path):
    pki, tenant, node = world_parts
    onprem = server_context(pki.certificate("ex01-internal"))

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            return "250 2.6.0 Queued mail for delivery"

    async def run():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: AioSMTP(Sink(), hostname="mail.ixmsoft.com", tls_context=onprem),
                                          "127.77.3.10", 0)
        port = server.sockets[0].getsockname()[1]
        service = await _start(pki, tenant, node, tmp_path, onprem_port=port)
        try:
            connector = tenant.outbound_connectors[0]
            report = await validate_outbound_connector(service, connector, ["user01@ixmsoft.com"])
            assert [s.status for s in report.steps] == ["Success", "Success", "Success", "Failed", "Skipped"]
            assert report.failure.text.startswith(
                "450 4.4.317 Cannot connect to remote server [Message=UntrustedRoot] "
                "[LastAttemptedServerName=mail.ixmsoft.com] [LastAttemptedIP=198.51.100.30:25]")
            for relaxed in ("EncryptionOnly", None):
                fixed = dataclasses.replace(connector, tls_settings=relaxed, tls_domain=None)
                report = await validate_outbound_connector(service, fixed, ["user01@ixmsoft.com"])
                assert report.ok, report
        finally:
            await service.close()
            server.close()
            await server.wait_closed()
    asyncio.run(run())
