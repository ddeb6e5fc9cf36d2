"""The in-memory driver on the default topology: the articles' mail flows, end to end, no sockets."""
from __future__ import annotations

from email import message_from_bytes

import pytest

from lab.core.world import World
from lab.memory import MemoryLab, Trust



@pytest.fixture
def lab(built) -> MemoryLab:
    topology, trust = built
    return MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)


def body(subject: str) -> bytes:
    return f"From: a@b.c\r\nSubject: {subject}\r\n\r\n{subject}\r\n".encode()


def subjects(lab: MemoryLab, address: str) -> list[str]:
    return [message_from_bytes(m)["Subject"] for m in lab.mailbox(address)]


def test_trust_table_knows_the_public_and_internal_chains(built):
    _, trust = built
    public, internal = trust.certificates["ex01-public"], trust.certificates["ex01-internal"]
    assert trust.is_trusted(public, "internet") and not trust.is_trusted(internal, "internet")
    assert trust.is_trusted(internal, "org-ixmsoft")
    assert not Trust().is_trusted(public, "internet")


def test_contoso_to_xutonglin_through_tmg_publishing(lab):
    result = lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com", ["allen@xutonglin.com"],
                      body("via TMG"), tls=True, auth=("contoso@contoso.com", "P@ssw0rd"))
    assert result.accepted and result.reply.startswith("250 2.6.0 <")
    assert subjects(lab, "allen@xutonglin.com") == ["via TMG"]
    received = lab.mailbox("allen@xutonglin.com")[0].decode()
    assert "100.100.100.10" in received  # xutonglin-ex sees contoso's public address through TMG
    assert [e.event_id for e in lab.tracking(result.message_id)][:1] == ["RECEIVE"]
    assert all(q.last_error is None for q in lab.queues("contoso-ex"))


def test_erp_relay_refused_but_internal_delivery_ok(lab):
    refused = lab.send("erp", "192.168.0.10", 25, "erp@office26.com", ["someone@fabrikam.com"], body("out"))
    assert not refused.accepted
    assert refused.reply == "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain"
    internal = lab.send("erp", "192.168.0.10", 25, "erp@office26.com", ["administrator@office26.com"], body("in"))
    assert internal.accepted and subjects(lab, "administrator@office26.com") == ["in"]
    assert lab.mailbox("someone@fabrikam.com") == []


def test_587_authenticated_relay(lab):
    result = lab.send("erp", "192.168.0.10", 587, "erp@office26.com", ["someone@fabrikam.com"], body("587"),
                      tls=True, auth=("erp@office26.com", "Erp-Passw0rd"))
    assert result.accepted
    assert subjects(lab, "someone@fabrikam.com") == ["587"]
    assert any(line.startswith("S: 235 2.7.0") for line in result.transcript)


def test_587_wrong_password_is_refused(lab):
    result = lab.send("erp", "192.168.0.10", 587, "erp@office26.com", ["someone@fabrikam.com"], body("x"),
                      tls=True, auth=("erp@office26.com", "wrong"))
    assert not result.accepted and result.reply.startswith("535 5.7.3")


def test_hybrid_on_prem_to_cloud_with_tls(lab):
    result = lab.send("internet-client", "198.51.100.30", 25, "someone@fabrikam.com", ["user02@ixmsoft.com"],
                      body("to the cloud"))
    assert result.accepted
    assert subjects(lab, "user02@ixmsoft.com") == ["to the cloud"]
    delivered = lab.mailbox("user02@ixmsoft.com")[0].decode()
    assert "mail.ixmsoft.com" in delivered and "TLS" in delivered.upper()
    assert all(q.last_error is None for q in lab.queues("ex01"))


def test_hybrid_cloud_to_on_prem_with_tls(lab):
    result = lab.send("internet-client", "smtp.office365.com", 587, "user02@ixmsoft.com", ["user01@ixmsoft.com"],
                      body("to on-prem"), tls=True, auth=("user02@ixmsoft.com", "P@ssw0rd"))
    assert result.accepted
    assert subjects(lab, "user01@ixmsoft.com") == ["to on-prem"]
    assert lab.eop_queue() == ()
    assert [status for _, status, _ in lab.eop["eop"].events] == ["Delivered"]


def test_relay01_without_a_connector_is_refused_5_7_64(lab):
    result = lab.send("relay01", "40.107.22.10", 25, "app@ixmsoft.com", ["someone@fabrikam.com"], body("relay"))
    assert not result.accepted
    assert result.reply.startswith("550 5.7.64 TenantAttribution; Relay Access Denied")


def test_missing_mx_retries_with_info_no_records_then_ndr_after_two_days(lab):
    lab.world = lab.world.evolve(zones=lab.world.zones.without_record("xutonglin.com", "MX")
                                 .without_record("mail.xutonglin.com", "A"))
    result = lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com", ["allen@xutonglin.com"],
                      body("no MX"), tls=True, auth=("contoso@contoso.com", "P@ssw0rd"))
    assert result.accepted
    errors = [q.last_error for q in lab.queues("contoso-ex") if q.last_error]
    assert errors and errors[0].startswith("451 4.4.0 DNS query failed") and "InfoNoRecords" in errors[0]
    assert lab.messages("contoso-ex")[0].last_error == errors[0]
    lab.advance(47 * 3600)
    assert [s.lower().startswith("delivery delayed") for s in subjects(lab, "contoso@contoso.com")] == [True]
    lab.advance(3600 + 60)
    assert subjects(lab, "contoso@contoso.com")[-1] == "Undeliverable: no MX"
    assert "550 4.4.7 QUEUE.Expired; message expired" in lab.mailbox("contoso@contoso.com")[-1].decode()
    assert lab.messages("contoso-ex") == ()
    assert subjects(lab, "allen@xutonglin.com") == []


def test_mx_back_and_retry_queue_delivers(lab):
    zones = lab.world.zones
    lab.world = lab.world.evolve(zones=zones.without_record("xutonglin.com", "MX")
                                 .without_record("mail.xutonglin.com", "A"))
    lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com", ["allen@xutonglin.com"],
             body("later"), tls=True, auth=("contoso@contoso.com", "P@ssw0rd"))
    lab.world = lab.world.evolve(zones=zones)
    retry = next(q for q in lab.queues("contoso-ex") if q.status == "Retry")
    lab.retry_queue("contoso-ex", retry.identity)
    assert subjects(lab, "allen@xutonglin.com") == ["later"]


def test_telnet_dialogue_shows_the_banner_and_relay_refusal(lab):
    transcript = lab.telnet("office26-pc", "192.168.0.10", 25, [
        "EHLO pc", "MAIL FROM:<pc@office26.com>", "RCPT TO:<someone@fabrikam.com>", "QUIT"])
    assert transcript[0].startswith("S: 220 ")
    assert "S: 550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain" in transcript
    assert transcript[-1].startswith("S: 221")


def test_unreachable_port_is_a_network_failure(lab):
    result = lab.send("internet-client", "198.51.100.30", 587, "a@b.c", ["user01@ixmsoft.com"], body("x"))
    assert not result.accepted and result.failure in ("Timeout", "Refused", "NoRoute")
