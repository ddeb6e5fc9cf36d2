"""Small memos on the in-memory mail path: what they hand out is what the plain code gives."""
from __future__ import annotations

import dataclasses

from lab.core.exchange import receive as rv
from lab.core.exchange.connectors import ReceiveConnector
from lab.memory import wire


def test_no_cloud_capability_decision_is_the_uncached_one_per_connector_object():
    connector = next(c for c in _connectors() if not c.tls_domain_capabilities)
    rv._NO_CLOUD.clear()
    first = rv.cloud_services_mail(connector, None, None)
    assert first == rv.Decision(False, None, rv._CLOUD_RULE,
                                (f"{connector.name}: no {rv.ACCEPT_CLOUD_SERVICES_MAIL} capability",))
    assert rv.cloud_services_mail(connector, None, None) is first
    renamed = dataclasses.replace(connector, name="Other")  # a new object: its own decision
    assert rv.cloud_services_mail(renamed, None, None).reasons == ("Other: no AcceptCloudServicesMail capability",)
    with_capability = dataclasses.replace(connector, tls_domain_capabilities=("mail.protection.outlook.com:"
                                                                              "AcceptCloudServicesMail",))
    assert rv.cloud_services_mail(with_capability, None, None).reasons == (
        "the client presented no certificate during STARTTLS",)


def _connectors() -> list[ReceiveConnector]:
    from pathlib import Path

    from lab.topology.load import load_topology
    topology = load_topology(Path(__file__).resolve().parents[2] / "topology.yaml")
    return [c for org in topology.organizations.values() for s in getattr(org, "servers", ())
            for c in getattr(s, "receive_connectors", ())] or _world_connectors(topology)


def _world_connectors(topology) -> list[ReceiveConnector]:
    from lab.core.world import World
    world = World.from_topology(topology, {})
    return [c for state in world.servers.values() for c in state.receive_connectors]


def test_reply_lines_remembered_per_reply_object_are_the_uncached_lines():
    from lab.core.catalogue import Reply
    from lab.core.catalogue import exchange as cat
    replies = [cat.S250_2_1_0_SENDER_OK if hasattr(cat, "S250_2_1_0_SENDER_OK") else cat.S250_2_0_0_OK,
               cat.S250_2_0_0_OK, cat.S221_2_0_0_CLOSING, cat.S354_START_MAIL_INPUT, cat.S214_HELP,
               Reply(250, None, ""), Reply(550, "5.7.1", "one\ntwo\nthree"), Reply(421, "4.7.0", "x")]
    for reply in replies + replies:
        assert rv.reply_lines(reply) == rv._reply_lines(reply)
        assert rv.reply_lines(reply) is rv.reply_lines(reply)
    formatted = [cat.S250_2_6_0_CHUNK_RECEIVED.format(octets=n) for n in (1, 2, 1)]
    assert [rv.reply_lines(r) for r in formatted] == [rv._reply_lines(r) for r in formatted]
    assert rv.reply_lines(formatted[0]) != rv.reply_lines(formatted[1])


def _plain_keywords(message: str) -> frozenset[str]:  # every line but the greeting, read afresh
    out = set()
    for line in message.split("\n")[1:]:
        line = line.strip()
        if line:
            out.add(line.split(" ", 1)[0].split("=", 1)[0].lower())
    return frozenset(out)


def _plain_auth_methods(message: str) -> tuple[str, ...]:
    for line in message.split("\n")[1:]:
        head, _, rest = line.strip().partition(" ")
        if head.upper() == "AUTH":
            return tuple(m.lower() for m in rest.split())
        if head.upper().startswith("AUTH="):
            return tuple(m.lower() for m in (head[5:] + " " + rest).split())
    return ()


def test_ehlo_keywords_and_auth_methods_remembered_per_extension_lines_are_the_parsed_ones():
    texts = [("250-x Hello", "250-AUTH NTLM LOGIN", "250 SIZE 1"), ("250-x Hello", "250 AUTH=LOGIN PLAIN"),
             ("250-x Hello", "250 SIZE 5"), ("250-x Hello", "250-AUTH NTLM LOGIN", "250 SIZE 1"),
             ("250-y Hello [10.0.0.1]", "250-AUTH NTLM LOGIN", "250 SIZE 1"), ("250 AUTH LOGIN",),
             ("250-AUTH PLAIN Hello", "250- ", "250-8BITMIME", "250 X-EXPS=GSSAPI NTLM"), ("250",), ()]
    for lines in texts + texts:
        reply = wire.parse_reply(lines)
        assert wire.ehlo_auth_methods(reply) == _plain_auth_methods(reply.message)
        assert wire.ehlo_keywords(reply) == _plain_keywords(reply.message)
    assert wire.ehlo_auth_methods(wire.parse_reply(texts[0])) == ("ntlm", "login")
    assert wire.ehlo_auth_methods(wire.parse_reply(texts[1])) == ("login", "plain")
    assert wire.ehlo_auth_methods(wire.parse_reply(texts[2])) == ()
    assert wire.ehlo_auth_methods(wire.parse_reply(texts[5])) == ()  # the greeting line is no extension
    assert wire.ehlo_keywords(wire.parse_reply(texts[6])) == {"8bitmime", "x-exps"}


def test_a_parsed_reply_is_the_plain_parse_for_one_line_or_many():
    for lines in [("250 2.0.0 OK",), ("250",), ("354 ",), ("xyz hello",), (), ("250-a", "250 b"),
                  ("220-x", "220-", "220 y z"), ("2",), ("250-AUTH LOGIN",)]:
        code = int(lines[-1][:3]) if lines and lines[-1][:3].isdigit() else 0
        assert wire.parse_reply.__wrapped__(lines) == wire.ServerReply(code, "\n".join(l[4:] for l in lines), lines)
