"""What the receive session and the Exchange policy work out once is what the plain code gives:
the EHLO reply from a policy's kept lines, the fixed replies' shared Outputs, the verb table."""
from __future__ import annotations

import dataclasses
import itertools

import pytest

from lab.core.catalogue import exchange as cat
from lab.core.exchange import receive as rv
from lab.core.exchange import session as sn
from lab.core.exchange.connectors import default_receive_connectors
from lab.core.exchange.headers import TlsFacts
from lab.core.exchange.model import ExchangeServer
from lab.core.exchange.policy import ExchangePolicy
from tests.unit.test_exchange_session import NOW, ORG, SERVER, MemorySink, session


def _plain_ehlo(connector, server, client_ip, tls_active, cert_available):
    hello = cat.S250_HELLO.format(fqdn=connector.effective_fqdn(server), ip=client_ip).text
    return rv.multiline(250, [hello, *rv.ehlo_keywords(connector, server, tls_active, cert_available)])


def _variants():
    servers = [SERVER, ExchangeServer("EX2010", "mail.xutonglin.com", 2010, "14.3.123.4"),
               ExchangeServer("EX2019", "ex19.contoso.com", 2019, "15.2.1118.7")]
    for server in servers:
        for connector in default_receive_connectors(server):
            yield server, connector
            yield server, dataclasses.replace(connector, fqdn="relay.example.com", size_enabled="Disabled",
                                              pipelining_enabled=False, chunking_enabled=False)
            yield server, dataclasses.replace(connector, auth_mechanism=(), enhanced_status_codes_enabled=False,
                                              dsn_enabled=False, eight_bit_mime_enabled=False,
                                              binary_mime_enabled=False, long_addresses_enabled=False,
                                              orar_enabled=False, transport_role="FrontendTransport")


def test_a_policy_ehlo_reply_is_the_plain_one_for_every_client_and_tls_state():
    for (server, connector), cert, tls in itertools.product(_variants(), (False, True), (None, TlsFacts())):
        policy = ExchangePolicy(connector, server, ORG, cert_available=cert)
        for client_ip in ("192.168.0.3", "203.0.113.50"):
            ctx = dataclasses.replace(sn._BLANK_CONTEXT, client_ip=client_ip, local_ip="192.168.0.10", local_port=25,
                             now=NOW, tls=tls)
            want = _plain_ehlo(connector, server, client_ip, tls is not None, cert)
            assert policy.hello(ctx, True) == want
            assert rv.ehlo_lines(connector, server, client_ip, tls is not None, cert) == want
        assert policy.fqdn == connector.effective_fqdn(server)
        assert policy == ExchangePolicy(connector, server, ORG, cert_available=cert)  # kept facts are no fields


def test_an_ehlo_reply_without_keywords_is_one_line():
    assert rv.ehlo_reply("mx.example.com", "10.0.0.1", ()) == ("250 mx.example.com Hello [10.0.0.1]",)


@pytest.mark.parametrize("name", [n for n in vars(sn) if n.isupper() and isinstance(getattr(sn, n), sn.Output)])
def test_a_fixed_reply_is_the_output_send_would_make(name):
    output = getattr(sn, name)
    reply = next(r for r in vars(cat).values() if isinstance(r, cat.Reply) and rv.reply_lines(r) == output.lines)
    s = session(sink=MemorySink())
    assert output == s._send(rv.reply_lines(reply), **{f: getattr(output, f) for f in ("start_tls", "read_data",
                                                                                        "close") if getattr(output, f)})
    with pytest.raises(dataclasses.FrozenInstanceError):
        output.lines = ()


def test_fixed_replies_are_shared_and_each_session_records_its_own():
    one, two = session(sink=MemorySink()), session(sink=MemorySink())
    assert one.receive_line("NOOP") is two.receive_line("NOOP") is sn._OK
    assert one.transcript[-2:] == two.transcript[-2:] == ["C: NOOP", "S: 250 2.0.0 OK"]
    assert one.receive_line("QUIT").close and one.receive_line("NOOP").close and not two.receive_line("NOOP").close


def test_verbs_are_read_in_any_case_and_only_upper_case_letters_name_a_handler():
    class Odd(sn.ReceiveSession):
        def _cmd_Xtra(self, arg):
            return self._send(("250 odd",))

        def _cmd_X_Y(self, arg):
            return self._send(("250 odd",))

        def _cmd_ZAP(self, arg):
            return self._send(("250 zap",))

    assert set(Odd._handlers) == set(sn.ReceiveSession._handlers) | {"ZAP"}
    policy = ExchangePolicy(default_receive_connectors(SERVER)[0], SERVER, ORG)
    s = Odd(policy, MemorySink(), client_ip="192.168.0.3", local_ip="192.168.0.10", local_port=25, now=NOW,
            new_guid=lambda: "g")
    s.connect()
    assert s.receive_line("zap").lines == s.receive_line("ZaP").lines == ("250 zap",)
    for line in ("Xtra", "XTRA", "X_Y", "x_y"):
        assert s.receive_line(line).lines == ("500 5.3.3 Unrecognized command",)
    assert s.receive_line("noop").lines == s.receive_line("NOOP").lines == ("250 2.0.0 OK",)


def test_a_policy_rights_are_the_plain_rights_of_every_principal():
    user = rv.Principal("user", ORG.mailboxes[0])
    principals = (rv.ANONYMOUS, rv.Principal(), user, rv.Principal("server", server_fqdn="mail1.office26.com"),
                  rv.Principal("externally_secured"))
    for (server, connector), principal in itertools.product(_variants(), principals):
        policy = ExchangePolicy(connector, server, ORG)
        ctx = dataclasses.replace(sn._BLANK_CONTEXT, principal=principal)
        assert policy.rights(ctx) == rv._rights_for(connector, principal)


def test_a_message_carries_only_the_decisions_of_its_own_transaction():
    sink = MemorySink()
    s = session(sink=sink)
    selection = tuple(s._selection)
    for line in ("EHLO a.example", "MAIL FROM:<x@office26.com>", "RCPT TO:<nobody@elsewhere.test>", "RSET",
                 "MAIL FROM:<erp@office26.com>", "EHLO b.example", "EHLO c.example",
                 "MAIL FROM:<erp@office26.com>", "RCPT TO:<administrator@office26.com>", "DATA"):
        s.receive_line(line)
    s.data_received(b"Subject: t\r\n\r\nbody\r\n")
    decisions = sink.messages[0].decisions
    assert decisions[:len(selection)] == selection
    assert [d.rule for d in decisions[len(selection):]] == ["fidelity §1.4: MAIL accepted", "fidelity §3.6: accepted domain",
                                                             "fidelity §1.1: message accepted"]
    assert s._decisions == list(selection) and s._decisions is not s._selection
