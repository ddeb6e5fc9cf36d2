"""The in-memory driver's pure pieces: reply parsing, the outbound client's rules, the wire."""
from __future__ import annotations

from datetime import datetime, timezone

from lab.core.exchange import outcomes as O
from lab.core.eop import outbound as OB
from lab.core.exchange import client_rules as rules
from lab.memory.wire import ehlo_auth_methods, ehlo_keywords, normalise_body, parse_reply

TARGET = O.Endpoint("mx.fabrikam.com", "203.0.113.25", 25)
NOW = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)


def test_parse_reply_joins_lines_like_aiosmtplib():
    reply = parse_reply(("250-mail.contoso.com Hello [1.2.3.4]", "250-SIZE 10485760", "250 AUTH NTLM LOGIN"))
    assert reply.code == 250
    assert reply.message.split("\n")[1] == "SIZE 10485760"
    assert ehlo_keywords(reply) == {"size", "auth"}
    assert ehlo_auth_methods(reply) == ("ntlm", "login")


def test_body_is_normalised_to_crlf_and_ends_with_one():
    assert normalise_body(b"a\nb") == b"a\r\nb\r\n"
    assert normalise_body(b"a\r\n") == b"a\r\n"


def test_starttls_plan():
    required = O.TlsPolicy(require_tls=True)
    assert rules.starttls_plan(O.TlsPolicy(), True, True, TARGET) == rules.USE_TLS
    assert rules.starttls_plan(O.TlsPolicy(), True, False, TARGET) == rules.PLAIN
    assert rules.starttls_plan(O.TlsPolicy(), False, True, TARGET) == rules.PLAIN
    failed = rules.starttls_plan(required, True, False, TARGET)
    assert isinstance(failed, O.Transient) and "451 5.7.3" in failed.last_error.line()


def test_client_certificate_failure_is_454_4_7_5():
    policy = O.TlsPolicy(certificate_name="<I>CN=x<S>CN=y")
    assert rules.client_certificate_failure(policy, True) is None
    assert rules.client_certificate_failure(policy, False).last_error.line().startswith("454 4.7.5")
    assert rules.client_certificate_failure(O.TlsPolicy(ignore_starttls=True, certificate_name="x"), False) is None


def test_peer_failure_without_a_certificate_under_domain_validation():
    policy = O.TlsPolicy(auth_level="DomainValidation", expected_domain="mail.protection.outlook.com")
    assert rules.peer_failure(O.TlsPolicy(), None, False, NOW, TARGET) is None
    failed = rules.peer_failure(policy, None, False, NOW, TARGET)
    assert failed is not None and "presented no certificate" in failed.detail


def test_sent_outcome_splits_hard_and_soft_refusals():
    outcome = rules.sent_outcome(TARGET, "250 2.6.0 queued", [("a@x", 550, "5.1.1 unknown"), ("b@x", 452, "4.3.1 full")])
    assert isinstance(outcome, O.Delivered) and outcome.endpoint == "203.0.113.25:25"
    assert [r for r, _ in outcome.refused] == ["a@x"] and [r for r, _ in outcome.deferred] == ["b@x"]


def test_refusals_map_to_permanent_or_failover():
    assert isinstance(rules.refused_outcome(TARGET, 550, "5.7.54 SMTP; Unable to relay", "rcpt"), O.Permanent)
    assert isinstance(rules.refused_outcome(TARGET, 451, "4.7.0 later", "mail"), O.Transient)
    assert isinstance(OB.remote(550, "5.1.1 unknown"), O.Permanent)
    assert OB.remote(451, "4.7.0 later").last_error.line() == "451 4.7.0 later"
