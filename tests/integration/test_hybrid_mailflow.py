"""Issue 4 in the running default lab: user01 (on-prem, EX01) <-> user02 (Exchange Online).

Both ways are delivered over TLS on every hop; the Received headers show the path on-prem ->
EOP -> Exchange Online and back; mail the tenant sends arrives on-prem as
``X-MS-Exchange-Organization-AuthAs: Internal`` (B-ADVROUTE: EOP presents its certificate, the
Default Frontend has TlsDomainCapabilities mail.protection.outlook.com:AcceptCloudServicesMail),
external mail relayed through the tenant stays ``Anonymous``.
"""
from __future__ import annotations

import dataclasses

import pytest

from hybrid_support import (EX01_IP, FE_INTERNAL, SUBMISSION_IP, SharedLab, any_server, fresh_lab, mailbox, message,
                            received, send, settle, smtp)

pytestmark = pytest.mark.live

AUTH_AS = "X-MS-Exchange-Organization-AuthAs"
AUTH_SOURCE = "X-MS-Exchange-Organization-AuthSource"


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    lab = SharedLab(tmp_path_factory.mktemp("hybrid") / "state")
    yield lab
    lab.close()


async def user01_sends(lab, to: str, subject: str) -> None:
    """Outlook of user01: authenticated submission to EX01 (Client Frontend, 587, STARTTLS)."""
    client = smtp(lab, "ex01", "ex01", EX01_IP, 587, helo="WS01")
    await client.connect()
    try:
        await client.ehlo()
        await client.starttls(tls_context=any_server())
        await client.ehlo()
        await client.login("user01@ixmsoft.com", "P@ssw0rd")
        await client.sendmail("user01@ixmsoft.com", [to], message("user01@ixmsoft.com", to, subject))
    finally:
        client.close()
    await settle(lab)


async def user02_sends(lab, to: str, subject: str) -> None:
    """user02 in Exchange Online: SMTP AUTH client submission to smtp.office365.com:587."""
    client = smtp(lab, "internet-client", "eop", SUBMISSION_IP, 587, helo="LAPTOP-02")
    await client.connect()
    try:
        await client.ehlo()
        await client.starttls(tls_context=any_server())
        await client.ehlo()
        await client.login("user02@ixmsoft.com", "P@ssw0rd")
        await client.sendmail("user02@ixmsoft.com", [to], message("user02@ixmsoft.com", to, subject))
    finally:
        client.close()
    await settle(lab)


def test_user01_to_user02_crosses_eop_over_tls(shared):
    lab = shared.lab
    shared.run(user01_sends(lab, "user02@ixmsoft.com", "to the cloud"))
    [msg] = mailbox(lab, "user02@ixmsoft.com", "to the cloud")
    hops = received(msg)
    assert len(hops) == 3, hops
    exo, eop, onprem = hops
    assert onprem.startswith("from WS01 (10.10.0.10) by mail.ixmsoft.com (10.10.0.10) with Microsoft SMTP Server "
                             "(version=TLS1_"), onprem
    assert eop.startswith("from mail.ixmsoft.com (198.51.100.30) by AM5EUR02FT025.mail.protection.outlook.com "
                          "(40.107.22.10) with Microsoft SMTP Server (version=TLS1_"), eop
    assert exo.startswith(f"from {FE_INTERNAL} (") and " by AM6PR02CA0041.outlook.office365.com (" in exo, exo
    assert all("(version=TLS1_" in h and "id 15." in h for h in hops)
    # EOP attributed EX01 to the hybrid inbound connector (its certificate): internal mail
    assert msg[AUTH_AS] == "Internal" and msg[AUTH_SOURCE] == FE_INTERNAL
    assert not lab.exchange["ex01"].transport.messages() and not lab.eop["eop"].messages()


def test_user02_to_user01_arrives_internal_over_tls(shared):
    lab = shared.lab
    shared.run(user02_sends(lab, "user01@ixmsoft.com", "back on-prem"))
    [msg] = mailbox(lab, "user01@ixmsoft.com", "back on-prem")
    hops = received(msg)
    onprem, exo = hops[0], hops[-1]
    assert onprem.startswith("from AM5EUR02FT025.mail.protection.outlook.com (40.107.22.10) by mail.ixmsoft.com "
                             "(10.10.0.10) with Microsoft SMTP Server (version=TLS1_"), onprem
    assert exo.startswith("from LAPTOP-02 (203.0.113.50) by AM6PR02CA0041.outlook.office365.com (52.97.10.10) "
                          "with Microsoft SMTP Server (version=TLS1_"), exo
    assert all("(version=TLS1_" in h for h in hops), hops
    assert msg.get_all(AUTH_AS) == ["Internal"] and msg[AUTH_SOURCE] == "mail.ixmsoft.com"
    assert not any(k.lower().startswith("x-ms-exchange-crosspremises-") for k in msg.keys())
    [row] = [r for r in lab.eop["eop"].message_trace("ixmsoft") if r.subject == "back on-prem"]
    assert (row.status, row.to_ip, row.detail) == ("Delivered", "198.51.100.30", None)


def test_external_mail_relayed_through_the_tenant_stays_anonymous(shared):
    """fabrikam -> the MX endpoint -> user01 (a mail user) -> on-prem: the Anonymous identity is kept."""
    lab = shared.lab
    reply = shared.run(send(lab, "fabrikam-ex", "user01@ixmsoft.com", "from a partner", sender="partner@fabrikam.com",
                            cert=None))
    assert reply.startswith("2.6.0 ")
    shared.run(settle(lab))
    [msg] = mailbox(lab, "user01@ixmsoft.com", "from a partner")
    assert msg.get_all(AUTH_AS) == ["Anonymous"]
    assert received(msg)[0].startswith("from AM5EUR02FT025.mail.protection.outlook.com (40.107.22.10) by "
                                       "mail.ixmsoft.com")


def test_without_the_capability_tenant_mail_is_anonymous(tmp_path):
    """Without TlsDomainCapabilities ...:AcceptCloudServicesMail on the Default Frontend, EX01 does not
    take EOP's cross-premises headers: the tenant's mail arrives as Anonymous."""
    async def scenario(lab):
        state = lab.world.servers["ex01"]
        connectors = tuple(dataclasses.replace(c, tls_domain_capabilities=())
                           if c.name == "Default Frontend EX01" else c for c in state.receive_connectors)
        lab.world = lab.world.evolve(servers={**lab.world.servers,
                                              "ex01": dataclasses.replace(state, receive_connectors=connectors)})
        await user02_sends(lab, "user01@ixmsoft.com", "no capability")
        [msg] = mailbox(lab, "user01@ixmsoft.com", "no capability")
        assert msg.get_all(AUTH_AS) == ["Anonymous"]
    fresh_lab(tmp_path, scenario)
