"""Pure receive decisions with exact Exchange replies (fidelity §1.1, §1.2, §1.4, §3.4, §3.5)."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from lab.core.exchange.connectors import (
    R_ACCEPT_ANY_RECIPIENT, R_SUBMIT, ReceiveConnector, apply_receive_connector_overrides,
    default_receive_connectors,
)
from lab.core.exchange.model import ExchangeServer, Organization
from lab.core.exchange.receive import (
    ANONYMOUS, Principal, banner_line, data_verdict, ehlo_lines, mail_from_verdict, rcpt_verdict,
    select_receive_connector, session_rights,
)

ORG = Organization.from_mapping({
    "Name": "office26", "AcceptedDomains": ["office26.com"],
    "Mailboxes": [{"Name": "Administrator", "PrimarySmtpAddress": "administrator@office26.com", "Password": "pw"}],
    "Servers": [{"Name": "MAIL1", "Fqdn": "mail1.fabrikam.com", "Version": 2016}]}, "org")
MAIL1 = ORG.servers[0]
EX2010 = ExchangeServer("EX2010", "mail.xutonglin.com", 2010, "14.3.123.4")
DEFAULTS = {c.name: c for c in default_receive_connectors(MAIL1)}
FRONTEND = DEFAULTS["Default Frontend MAIL1"]
CLIENT = DEFAULTS["Client Frontend MAIL1"]
USER = Principal("user", ORG.mailboxes[0])


def _conn(name: str, ranges: str, **extra) -> ReceiveConnector:
    return ReceiveConnector.from_mapping({"Name": name, "Server": "MAIL1", "Bindings": "0.0.0.0:25",
                                          "RemoteIPRanges": ranges, **extra}, name)


def test_most_specific_remote_range_wins_fidelity_example():
    conns = [_conn("All", "0.0.0.0-255.255.255.255"), _conn("LAN", "192.168.1.0-192.168.1.255"),
             _conn("Host", "192.168.1.75")]
    assert select_receive_connector(conns, "10.0.0.1", 25, "192.168.1.75").value.name == "Host"
    assert select_receive_connector(conns, "10.0.0.1", 25, "192.168.1.100").value.name == "LAN"
    assert select_receive_connector(conns, "10.0.0.1", 25, "8.8.8.8").value.name == "All"


def test_selection_ignores_disabled_wrong_port_and_reports_none():
    conns = [_conn("Host", "192.168.1.75", Enabled="$false"), _conn("LAN", "192.168.1.0/24")]
    assert select_receive_connector(conns, "10.0.0.1", 25, "192.168.1.75").value.name == "LAN"
    none = select_receive_connector(conns, "10.0.0.1", 587, "192.168.1.75")
    assert not none.accepted and none.value is None and none.disconnect
    assert select_receive_connector(conns, "10.0.0.1", 25, "172.16.0.1").value is None


def test_default_connectors_selected_by_port():
    conns = list(DEFAULTS.values())
    assert select_receive_connector(conns, "192.168.0.10", 25, "192.168.0.3").value == FRONTEND
    assert select_receive_connector(conns, "192.168.0.10", 587, "192.168.0.3").value == CLIENT
    assert select_receive_connector(conns, "192.168.0.10", 2525, "192.168.0.3").value.name == "Default MAIL1"


def test_session_rights_by_principal():
    anon = session_rights(FRONTEND, None, False)
    assert R_SUBMIT in anon and R_ACCEPT_ANY_RECIPIENT not in anon
    assert session_rights(CLIENT, None, True) == frozenset()
    assert R_ACCEPT_ANY_RECIPIENT in session_rights(CLIENT, ORG.mailboxes[0], True)
    assert R_ACCEPT_ANY_RECIPIENT in session_rights(FRONTEND, None, True, exchange_server=True)
    assert R_ACCEPT_ANY_RECIPIENT not in session_rights(FRONTEND, None, False, exchange_server=True)


def test_mail_from_requiretls_is_451_and_disconnects():
    conn = apply_receive_connector_overrides(list(DEFAULTS.values()), [{"Name": FRONTEND.name, "RequireTLS": True}],
                                             "rc")[0]
    d = mail_from_verdict(conn, session_rights(conn, None, False), tls_active=False, principal=ANONYMOUS,
                          sender="a@contoso.com", size=None, org=ORG)
    assert str(d.reply) == "451 5.7.3 STARTTLS is required to send mail" and d.disconnect
    ok = mail_from_verdict(conn, session_rights(conn, None, True), tls_active=True, principal=ANONYMOUS,
                           sender="a@contoso.com", size=None, org=ORG)
    assert str(ok.reply) == "250 2.1.0 Sender OK"


def test_mail_from_530_when_anonymous_users_removed():
    conn = apply_receive_connector_overrides(
        list(DEFAULTS.values()), [{"Name": FRONTEND.name, "PermissionGroups": "ExchangeServers,ExchangeLegacyServers"}],
        "rc")[0]
    d = mail_from_verdict(conn, session_rights(conn, None, False), tls_active=False, principal=ANONYMOUS,
                          sender="contoso@contoso.com", size=None, org=ORG)
    assert str(d.reply) == "530 5.7.1 Client was not authenticated" and not d.disconnect


def test_mail_from_authenticated_without_submit_and_size():
    d = mail_from_verdict(FRONTEND, session_rights(FRONTEND, ORG.mailboxes[0], True), tls_active=True,
                          principal=USER, sender="administrator@office26.com", size=None, org=ORG)
    assert str(d.reply) == "550 5.7.1 Client does not have permissions to submit to this server"
    big = mail_from_verdict(FRONTEND, session_rights(FRONTEND, None, False), tls_active=False, principal=ANONYMOUS,
                            sender="a@contoso.com", size=37748737, org=ORG)
    assert str(big.reply) == "552 5.3.4 Message size exceeds fixed maximum message size"


def test_relay_denied_text_by_version():
    rights = session_rights(FRONTEND, None, False)
    d16 = rcpt_verdict(FRONTEND, rights, org=ORG, version=2016, recipient="xxxx@test.com", accepted_so_far=0)
    assert str(d16.reply) == "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain"
    d10 = rcpt_verdict(FRONTEND, rights, org=ORG, version=2010, recipient="xxxx@test.com", accepted_so_far=0)
    assert str(d10.reply) == "550 5.7.1 Unable to relay"
    internal = rcpt_verdict(FRONTEND, rights, org=ORG, version=2016, recipient="nobody@office26.com",
                            accepted_so_far=0)
    assert str(internal.reply) == "250 2.1.5 Recipient OK"


def test_article_004_fix2_anonymous_relay_connector_allows_external():
    conns = apply_receive_connector_overrides(list(DEFAULTS.values()), [
        {"Name": "ANONYMOUS RELAY MAIL1", "Bindings": "0.0.0.0:25", "RemoteIPRanges": "192.168.0.3",
         "PermissionGroups": "AnonymousUsers",
         "ExtendedRights": [{"User": "NT AUTHORITY\\Anonymous Logon",
                             "ExtendedRights": "MS-Exch-SMTP-Accept-Any-Recipient"}]}], "rc")
    relay = select_receive_connector(conns, "192.168.0.10", 25, "192.168.0.3").value
    assert relay.name == "ANONYMOUS RELAY MAIL1"
    d = rcpt_verdict(relay, session_rights(relay, None, False), org=ORG, version=2016, recipient="xxxx@test.com",
                     accepted_so_far=0)
    assert str(d.reply) == "250 2.1.5 Recipient OK"
    other = select_receive_connector(conns, "192.168.0.10", 25, "192.168.0.4").value
    assert other is conns[0]


def test_recipient_validation_and_too_many_recipients():
    rights = session_rights(FRONTEND, None, False)
    strict = Organization(ORG.name, ORG.accepted_domains, ORG.mailboxes, ORG.servers, recipient_validation_enabled=True)
    d = rcpt_verdict(FRONTEND, rights, org=strict, version=2016, recipient="nobody@office26.com", accepted_so_far=0)
    assert str(d.reply) == "550 5.1.1 User unknown"
    ok = rcpt_verdict(FRONTEND, rights, org=strict, version=2016, recipient="Administrator@office26.com",
                      accepted_so_far=0)
    assert ok.accepted
    full = rcpt_verdict(FRONTEND, rights, org=ORG, version=2016, recipient="a@office26.com", accepted_so_far=200)
    assert str(full.reply) == "452 4.5.3 Too many recipients"


def test_data_verdict_send_as_and_size():
    rights = session_rights(CLIENT, ORG.mailboxes[0], True)
    bad = data_verdict(CLIENT, rights, principal=USER, sender="ceo@office26.com", octets=10)
    assert str(bad.reply) == "550 5.7.1 Client does not have permissions to send as this sender"
    assert data_verdict(CLIENT, rights, principal=USER, sender="administrator@office26.com", octets=10).accepted
    anon = data_verdict(FRONTEND, session_rights(FRONTEND, None, False), principal=ANONYMOUS,
                        sender="ceo@contoso.com", octets=37748737)
    assert str(anon.reply) == "552 5.3.4 Message size exceeds fixed maximum message size"


def test_banner_format_and_override():
    now = datetime(2016, 8, 5, 16, 24, 41, tzinfo=timezone(timedelta(hours=-7)))
    assert banner_line(FRONTEND, MAIL1, now) == \
        "220 mail1.fabrikam.com Microsoft ESMTP MAIL Service ready at Fri, 5 Aug 2016 16:24:41 -0700"
    custom = ReceiveConnector.from_mapping({"Name": "R", "Server": "MAIL1", "Banner": "220 Relay"}, "rc")
    assert banner_line(custom, MAIL1, now) == "220 Relay"


FRONTEND_PRE_TLS = """250-mail1.fabrikam.com Hello [172.16.0.5]
250-SIZE 37748736
250-PIPELINING
250-DSN
250-ENHANCEDSTATUSCODES
250-STARTTLS
250-X-ANONYMOUSTLS
250-AUTH NTLM
250-X-EXPS GSSAPI NTLM
250-8BITMIME
250-BINARYMIME
250-CHUNKING
250 XRDST"""

FRONTEND_POST_TLS = """250-mail1.fabrikam.com Hello [172.16.0.5]
250-SIZE 37748736
250-PIPELINING
250-DSN
250-ENHANCEDSTATUSCODES
250-AUTH NTLM LOGIN
250-X-EXPS GSSAPI NTLM
250-8BITMIME
250-BINARYMIME
250-CHUNKING
250 XRDST"""


def test_ehlo_default_frontend_before_and_after_tls():
    assert "\n".join(ehlo_lines(FRONTEND, MAIL1, "172.16.0.5", False, True)) == FRONTEND_PRE_TLS
    assert "\n".join(ehlo_lines(FRONTEND, MAIL1, "172.16.0.5", True, True)) == FRONTEND_POST_TLS


def test_ehlo_without_certificate_is_the_b_hybcert_broken_case():
    lines = ehlo_lines(FRONTEND, MAIL1, "104.47.58.43", False, False)
    assert "250-STARTTLS" not in lines and "250-X-ANONYMOUSTLS" in lines


def test_ehlo_client_frontend_offers_login_only_after_tls():
    pre = ehlo_lines(CLIENT, MAIL1, "10.0.0.9", False, True)
    post = ehlo_lines(CLIENT, MAIL1, "10.0.0.9", True, True)
    assert "250-AUTH NTLM" in pre and "250-STARTTLS" in pre
    assert "250-X-ANONYMOUSTLS" not in pre and not any("X-EXPS" in line for line in pre)
    assert "250-AUTH NTLM LOGIN" in post and "250-STARTTLS" not in post
    gss = ReceiveConnector.from_mapping({**CLIENT.to_mapping(), "EnableAuthGSSAPI": True}, "rc")
    assert "250-AUTH GSSAPI NTLM LOGIN" in ehlo_lines(gss, MAIL1, "10.0.0.9", True, True)


@pytest.mark.parametrize("version, tail", [
    (2019, ["250-CHUNKING", "250-SMTPUTF8", "250 XRDST"]),
    (2010, ["250-CHUNKING", "250-XEXCH50", "250-XRDST", "250 XSHADOW"]),
])
def test_ehlo_version_tails(version, tail):
    server = ExchangeServer("S", "s.contoso.com", version, "15.2.1544.4")
    conn = default_receive_connectors(server)[0]
    lines = list(ehlo_lines(conn, server, "1.2.3.4", False, True))
    assert lines[-len(tail):] == tail


def test_ehlo_size_toggles():
    off = ReceiveConnector.from_mapping({**FRONTEND.to_mapping(), "SizeEnabled": "Disabled",
                                         "SuppressXAnonymousTls": True, "AuthMechanism": "Tls"}, "rc")
    lines = ehlo_lines(off, MAIL1, "1.2.3.4", False, True)
    assert not any("SIZE" in line for line in lines)
    assert "250-X-ANONYMOUSTLS" not in lines and not any("AUTH" in line for line in lines)
    bare = ReceiveConnector.from_mapping({**FRONTEND.to_mapping(), "SizeEnabled": "EnabledWithoutValue"}, "rc")
    assert ehlo_lines(bare, MAIL1, "1.2.3.4", False, True)[1] == "250-SIZE"


def test_selection_returns_the_callers_connector_not_an_equal_one_from_an_old_world():
    conns = list(DEFAULTS.values())
    first = select_receive_connector(conns, "192.168.0.10", 25, "192.168.0.3").value
    copies = [copy.deepcopy(c) for c in conns]
    again = select_receive_connector(copies, "192.168.0.10", 25, "192.168.0.3").value
    assert again == first and again is copies[conns.index(first)]


def test_selection_cache_is_bounded():
    from lab.core.exchange import receive
    conns = list(DEFAULTS.values())
    for port in range(receive._SELECTED_MAX + 50):
        select_receive_connector(conns, "192.168.0.10", 1000 + port, "192.168.0.3")
    assert len(receive._SELECTED) <= receive._SELECTED_MAX
