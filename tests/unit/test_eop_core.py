"""Pure EOP decisions: models, attribution, relay, front door replies, routing/TLS, queue, validation."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from lab.core.catalogue import eop as cat
from lab.core.eop import policy as P
from lab.core.eop import queue as Q
from lab.core.eop import routing as R
from lab.core.eop.attribution import ConnectionFacts, attribute, auth_as, relay_decision
from lab.core.eop.model import EopNode, InboundConnector, MailUser, OutboundConnector, Tenant
from lab.core.eop.validation import Probe, judge
from lab.core.errors import ConfigError
from lab.core.exchange.model import AcceptedDomain, Mailbox
from lab.core.exchange.outcomes import Delivered, Transient
from lab.core.exchange.remote_mailbox import RemoteMailbox
from lab.core.tls import CertFacts

NOW = datetime(2026, 11, 23, 9, 0, 0, 592000, tzinfo=timezone.utc)
FE = "AM5EUR02FT025.eop-EUR02.prod.protection.outlook.com"
NODE = EopNode("eop", "AM5EUR02FT025.mail.protection.outlook.com", "40.107.22.10", "52.97.10.10",
               banned_ips=("192.0.2.66",))


def cert(cn: str, *, days_left: int = 100, self_signed: bool = False, sans: tuple[str, ...] | None = None) -> CertFacts:
    return CertFacts(f"CN={cn}", f"CN={cn}" if self_signed else "CN=CA 沃通免费ssl证书 G2, O=WoSign CA Limited, C=CN",
                     cn, sans if sans is not None else (cn,), NOW - timedelta(days=30), NOW + timedelta(days=days_left),
                     "A" * 40, "01", self_signed, False, "ECDSA P-256")


def tenant(*inbound: dict, outbound: tuple[dict, ...] = ()) -> Tenant:
    return Tenant("ixmsoft", "ixmsoft.onmicrosoft.com", "eop", "ixmsoft",
                  (AcceptedDomain("ixmsoft.com", "Authoritative", "ixmsoft.com", True),
                   AcceptedDomain("ixmsoft.mail.onmicrosoft.com", "Authoritative", "ixmsoft.mail.onmicrosoft.com")),
                  (Mailbox.from_mapping({"Name": "user02", "PrimarySmtpAddress": "user02@ixmsoft.com",
                                         "EmailAddresses": ["user02@ixmsoft.mail.onmicrosoft.com"],
                                         "Password": "P@ssw0rd"}, "m"),),
                  (MailUser.from_mapping({"Name": "user01", "PrimarySmtpAddress": "user01@ixmsoft.com",
                                          "ExternalEmailAddress": "user01@ixmsoft.com"}, "u"),),
                  tuple(InboundConnector.from_mapping(m, f"in[{i}]") for i, m in enumerate(inbound)),
                  tuple(OutboundConnector.from_mapping(m, f"out[{i}]") for i, m in enumerate(outbound)))


IP_CONNECTOR = {"Name": "ip", "ConnectorType": "OnPremises", "SenderDomains": "*", "SenderIPAddresses": "198.51.100.40"}
CERT_CONNECTOR = {"Name": "cert", "ConnectorType": "OnPremises", "SenderDomains": "smtp:*;1", "RequireTls": True,
                  "TlsSenderCertificateName": "*.ixmsoft.com"}
HYBRID_OUT = {"Name": "Outbound to hybrid", "ConnectorType": "OnPremises", "RecipientDomains": ["ixmsoft.com"],
              "SmartHosts": ["mail.ixmsoft.com"], "UseMXRecord": False, "TlsSettings": "DomainValidation",
              "TlsDomain": "mail.ixmsoft.com"}


# --- models ----------------------------------------------------------------------------------------

def test_inbound_connector_validation():
    with pytest.raises(ConfigError) as unknown:
        InboundConnector.from_mapping({"Name": "x", "SenderIP": "1.2.3.4"}, "t.in[0]")
    assert "SenderIPAddresses" in unknown.value.allowed and unknown.value.place.path == "t.in[0].SenderIP"
    with pytest.raises(ConfigError) as bad_type:
        InboundConnector.from_mapping({"Name": "x", "ConnectorType": "Hybrid"}, "t")
    assert bad_type.value.allowed == ("OnPremises", "Partner")
    with pytest.raises(ConfigError, match="IPv6 addresses are not supported"):
        InboundConnector.from_mapping({"Name": "x", "SenderIPAddresses": "2001:db8::1"}, "t")
    with pytest.raises(ConfigError, match="/24 to /32"):
        InboundConnector.from_mapping({"Name": "x", "SenderIPAddresses": "198.51.100.0/16"}, "t")
    with pytest.raises(ConfigError, match="wildcard"):
        InboundConnector.from_mapping({"Name": "x", "SenderDomains": "domain.*.contoso.com"}, "t")
    with pytest.raises(ConfigError, match="CloudServicesMailEnabled"):
        InboundConnector.from_mapping({"Name": "x", "ConnectorType": "OnPremises", "TreatMessagesAsInternal": True,
                                       "CloudServicesMailEnabled": True}, "t")
    ok = InboundConnector.from_mapping({"name": "x", "sendeRDomains": ["*.contoso.com", "smtp:*;1"],
                                        "SenderIPAddresses": "198.51.100.0/24", "Enabled": "$false"}, "t")
    assert ok.sender_domains == ("*.contoso.com", "*") and not ok.enabled
    assert ok.to_mapping()["SenderDomains"] == ["smtp:*.contoso.com;1", "smtp:*;1"]


def test_outbound_connector_and_recipient_models():
    with pytest.raises(ConfigError, match="SmartHosts must be set"):
        OutboundConnector.from_mapping({"Name": "o", "UseMXRecord": False}, "t")
    with pytest.raises(ConfigError, match="TlsDomain can be set only"):
        OutboundConnector.from_mapping({"Name": "o", "TlsDomain": "a.com", "TlsSettings": "EncryptionOnly"}, "t")
    with pytest.raises(ConfigError) as bad:
        OutboundConnector.from_mapping({"Name": "o", "TlsSettings": "Strict"}, "t")
    assert bad.value.allowed == ("EncryptionOnly", "CertificateValidation", "DomainValidation")
    assert OutboundConnector.from_mapping({"Name": "o", "TlsSettings": "$null"}, "t").tls_settings is None
    remote = RemoteMailbox.from_mapping({"Name": "user02", "PrimarySmtpAddress": "user02@ixmsoft.com",
                                         "RemoteRoutingAddress": "user02@ixmsoft.mail.onmicrosoft.com"}, "r")
    assert remote.email_addresses == ("user02@ixmsoft.com",)
    with pytest.raises(ConfigError) as missing:
        RemoteMailbox.from_mapping({"Name": "x", "PrimarySmtpAddress": "x@ixmsoft.com"}, "r")
    assert "RemoteRoutingAddress" in str(missing.value)


# --- attribution and relay ---------------------------------------------------------------------------

def test_attribution_by_certificate_and_ip():
    t = tenant(CERT_CONNECTOR, IP_CONNECTOR)
    good = ConnectionFacts("203.0.113.50", True, cert("relay.ixmsoft.com"), True)
    assert attribute(t, good, NOW).result.by == "certificate"
    for bad in (ConnectionFacts("203.0.113.50", True, cert("relay.ixmsoft.com", self_signed=True), False),
                ConnectionFacts("203.0.113.50", True, cert("relay.contoso.com"), True),
                ConnectionFacts("203.0.113.50", True, cert("relay.ixmsoft.com", days_left=-1), True),
                ConnectionFacts("203.0.113.50", True, cert("a.b.ixmsoft.com"), True)):
        assert attribute(t, bad, NOW).result is None, bad
    assert attribute(t, ConnectionFacts("198.51.100.40"), NOW).result.by == "ip"


def test_relay_rules_b_relay23():
    t = tenant(IP_CONNECTOR, dict(IP_CONNECTOR, Name="partner", ConnectorType="Partner", SenderIPAddresses="198.51.100.41"))
    conn = ConnectionFacts("198.51.100.40")
    att = attribute(t, conn, NOW).result
    assert relay_decision(t, att, conn, "app@ixmsoft.com", "x@fabrikam.com", FE).result is None
    denied = relay_decision(t, att, conn, "app@elsewhere.example", "x@fabrikam.com", FE).result
    assert str(denied) == f"550 5.7.64 TenantAttribution; Relay Access Denied [{FE}]"
    assert relay_decision(t, None, conn, "app@ixmsoft.com", "x@fabrikam.com", FE).result == denied
    assert auth_as(att) == "Internal" and auth_as(None) == "Anonymous"


# --- the front door -------------------------------------------------------------------------------------

def run_mx(t: Tenant, conn: ConnectionFacts, sender: str, rcpt: str) -> tuple[str, str]:
    world = P.EopWorld(NODE, (t,))
    turn = P.open_session(world, P.MX, conn, NOW)
    _, session = P.ehlo(world, turn.session, "client.example")
    mail = P.mail_from(world, session, sender)
    rcpt_turn = P.rcpt_to(world, mail.session, rcpt, NOW)
    return str(mail.reply), str(rcpt_turn.reply)


def test_mx_front_door_replies():
    world = P.EopWorld(NODE, (tenant(),))
    turn = P.open_session(world, P.MX, ConnectionFacts("203.0.113.50"), NOW)
    assert str(turn.reply) == ("220 AM5EUR02FT025.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready at "
                               "Mon, 23 Nov 2026 09:00:00 +0000")
    lines, _ = P.ehlo(world, turn.session, "x")
    assert lines == ("250-AM5EUR02FT025.mail.protection.outlook.com Hello [203.0.113.50]", "250-SIZE 157286400",
                     "250-PIPELINING", "250-DSN", "250-ENHANCEDSTATUSCODES", "250-STARTTLS", "250-8BITMIME",
                     "250-BINARYMIME", "250-CHUNKING", "250 SMTPUTF8")
    t = tenant()
    anon = ConnectionFacts("203.0.113.50")
    assert run_mx(t, anon, "a@b.example", "user02@ixmsoft.com") == ("250 2.1.0 Sender OK", "250 2.1.5 Recipient OK")
    assert run_mx(t, anon, "a@b.example", "nobody@ixmsoft.com")[1] == (
        f"550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [{FE} 2026-11-23T09:00:00.592Z "
        f"{P.ticks_id(NOW)}]")
    # real ids are .NET ticks: 08DB72B25E50380B was written on 2023-06-22 (fidelity §1.3)
    assert P.ticks_id(datetime(2023, 6, 22, 8, 26, 31, tzinfo=timezone.utc)).startswith("08DB72")
    assert run_mx(t, ConnectionFacts("192.0.2.66"), "a@b.example", "user02@ixmsoft.com")[1] == (
        "550 5.7.606 Access denied, banned sending IP [192.0.2.66]. To request removal from this list please visit "
        "https://sender.office.com/ and follow the directions. For more information please go to  "
        f"http://go.microsoft.com/fwlink/?LinkID=526655 (AS16012609) [{FE}]")
    tls_required = tenant(dict(IP_CONNECTOR, RequireTls=True))
    assert run_mx(tls_required, ConnectionFacts("198.51.100.40"), "a@ixmsoft.com", "x@fabrikam.com")[0] == \
        "451 5.7.3 STARTTLS is required to send mail"


def test_partner_restriction_5_7_51():
    partner = {"Name": "fabrikam", "ConnectorType": "Partner", "SenderDomains": "fabrikam.com",
               "SenderIPAddresses": "203.0.113.25", "RestrictDomainsToIPAddresses": True}
    reply = run_mx(tenant(partner), ConnectionFacts("203.0.113.99"), "someone@fabrikam.com", "user02@ixmsoft.com")[1]
    assert reply.startswith("550 5.7.51 TenantInboundAttribution; There is a partner connector configured")
    assert run_mx(tenant(partner), ConnectionFacts("203.0.113.25"), "someone@fabrikam.com",
                  "user02@ixmsoft.com")[1] == "250 2.1.5 Recipient OK"


def test_submission_front_door():
    world = P.EopWorld(NODE, (tenant(),))
    turn = P.open_session(world, P.SUBMISSION, ConnectionFacts("203.0.113.50"), NOW)
    _, session = P.ehlo(world, turn.session, "printer")
    # article 001: telnet smtp.office365.com 25, EHLO, MAIL FROM without TLS -> 530 5.7.57
    assert str(P.mail_from(world, session, "user02@ixmsoft.com").reply) == (
        "530 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM "
        "[AM6PR02CA0041.eurprd02.prod.outlook.com]")
    assert str(P.auth(world, session, "user02@ixmsoft.com", "P@ssw0rd").reply).startswith("504 5.7.4")
    session = P.starttls_done(world, session, None, False, NOW)
    lines, session = P.ehlo(world, session, "printer")
    assert "250-AUTH LOGIN XOAUTH2" in lines and not any("STARTTLS" in x for x in lines)
    assert str(P.mail_from(world, session, "user02@ixmsoft.com").reply) == (
        "530 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM "
        "[AM6PR02CA0041.eurprd02.prod.outlook.com]")
    assert str(P.auth(world, session, "user02@ixmsoft.com", "nope").reply) == "535 5.7.3 Authentication unsuccessful"
    authed = P.auth(world, session, "user02@ixmsoft.com", "P@ssw0rd")
    assert str(authed.reply) == "235 2.7.0 Authentication successful"
    mail = P.mail_from(world, authed.session, "user20@ixmsoft.com")
    rcpt = P.rcpt_to(world, mail.session, "x@fabrikam.com", NOW)
    assert str(rcpt.reply) == "250 2.1.5 Recipient OK"
    assert str(P.end_of_data(world, rcpt.session, "<m>", 1).reply) == (
        "550 5.7.60 SMTP; Client does not have permissions to send as this sender "
        "[AM6PR02CA0041.eurprd02.prod.outlook.com]")


# --- routing, outbound TLS, queue, validation ---------------------------------------------------------

def test_routing_inside_the_tenant():
    t = tenant(outbound=(HYBRID_OUT,))
    assert R.route_recipient(t, "user02@ixmsoft.mail.onmicrosoft.com").result.kind == R.TO_MAILBOX
    hop = R.route_recipient(t, "user01@ixmsoft.com").result
    assert (hop.kind, hop.hosts, hop.tls_mode) == (R.VIA_CONNECTOR, ("mail.ixmsoft.com",), "DomainValidation")
    assert R.route_recipient(t, "x@fabrikam.com").result.kind == R.TO_INTERNET
    assert R.route_recipient(tenant(), "ghost@ixmsoft.com").result.kind == R.NOT_FOUND


@pytest.mark.parametrize("presented, trusted, mode, message", [
    (cert("mail.ixmsoft.com"), False, "DomainValidation", "UntrustedRoot"),
    (cert("mail.ixmsoft.com", days_left=-2), True, "DomainValidation", "CertificateExpired Expected Subject: "
     "mail.ixmsoft.com. Presented Subject: CN=mail.ixmsoft.com. Thumbprint: " + "A" * 40 + "."),
    (cert("ex01", sans=()), True, "DomainValidation", "SubjectMismatch Expected Subject: mail.ixmsoft.com. "
     "Presented Subject: CN=ex01. Thumbprint: " + "A" * 40 + "."),
    (cert("mail.ixmsoft.com"), False, "EncryptionOnly", None),
    (cert("mail.ixmsoft.com"), False, None, None),
    (cert("ex01", sans=()), True, "CertificateValidation", None),
])
def test_outbound_tls_verdicts(presented, trusted, mode, message):
    hop = dataclasses.replace(R.route_recipient(tenant(outbound=(HYBRID_OUT,)), "user01@ixmsoft.com").result,
                              tls_mode=mode, tls_required=mode is not None,
                              tls_domain="mail.ixmsoft.com" if mode == "DomainValidation" else None)
    result = R.outbound_tls(hop, "mail.ixmsoft.com", True, presented, trusted, NOW, " [x]").result
    if message is None:
        assert result is None
    else:
        assert str(result.last_error) == f"450 4.4.317 Cannot connect to remote server [Message={message}] [x]"


def test_no_starttls_and_expiry_ndr():
    hop = R.route_recipient(tenant(outbound=(HYBRID_OUT,)), "user01@ixmsoft.com").result
    failed = R.outbound_tls(hop, "mail.ixmsoft.com", False, None, False, NOW).result
    assert str(failed.last_error) == ("450 4.4.317 Cannot connect to remote server "
                                      "[Message=451 5.7.3 STARTTLS is required to send mail]")
    item = Q.enqueue(1, "user02@ixmsoft.com", ("user01@ixmsoft.com",), hop.queue_key, 0.0)
    step = Q.after_attempt(item, failed, 0.0)
    assert step.status == Q.RETRY and step.item.next_attempt == Q.RETRY_INTERVAL
    final = Q.after_attempt(step.item, failed, Q.EXPIRATION)
    assert final.status == Q.FAILED
    assert str(final.ndr) == ("550 5.4.317 Message expired, cannot connect to remote server"
                              "(451 5.7.3 STARTTLS is required to send mail)")
    assert Q.after_attempt(item, Delivered("250 ok"), 1.0).status == Q.DELIVERED
    assert str(Q.after_attempt(dataclasses.replace(item, arrived=-Q.EXPIRATION),
                               Transient(cat.S451_5_7_3_STARTTLS_REQUIRED), 0.0).ndr) == "550 5.4.300 Message expired"


def test_validation_steps():
    connector = OutboundConnector.from_mapping(HYBRID_OUT, "o")
    probe = Probe("mail.ixmsoft.com", ("198.51.100.30",), "198.51.100.30", 25, ehlo_reply="250 mail.ixmsoft.com Hello",
                  ehlo_ok=True, starttls_offered=True, cert=cert("mail.ixmsoft.com"), trusted=False,
                  send_replies=(("user01@ixmsoft.com", "250 2.1.5 Recipient OK"),))
    report = judge(connector, ("user01@ixmsoft.com",), probe, NOW, FE, "T", "ID")
    assert [s.status for s in report.steps] == ["Success", "Success", "Success", "Failed", "Skipped"]
    assert report.summary().startswith("450 4.4.317 Cannot connect to remote server [Message=UntrustedRoot]")
    relaxed = dataclasses.replace(connector, tls_settings="EncryptionOnly", tls_domain=None)
    assert judge(relaxed, ("user01@ixmsoft.com",), probe, NOW, FE, "T", "ID").summary() == "validation successful"
    assert judge(connector, ("x@fabrikam.com",), probe, NOW, FE, "T", "ID").summary() == \
        "The domain of the recipient is not configured as part of connector."
    refused = dataclasses.replace(probe, connect_failure=R.REFUSED)
    assert judge(connector, ("user01@ixmsoft.com",), refused, NOW, FE, "T", "ID").summary() == \
        "Connection task failed: 450 4.4.316 Connection refused [Message=Socket error code 10061]"


def test_catalogue_sources():
    for name, entry in vars(cat).items():
        if name.isupper() and hasattr(entry, "source"):
            assert entry.source or entry.unconfirmed, name
            assert not entry.unconfirmed or entry.note, name
