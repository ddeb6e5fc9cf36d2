"""Memos of the mail path held to the general code they stand for (round 2 of the SMTP/DNS/network work).

- ``ZoneSet.answer`` remembers each question per set: held to ``ZoneSet._answer`` (the uncached
  answer) for every name and type of a set of nested zones, and a new set (an edit) answers anew.
- ``lab.core.network._in_any`` remembers texts: held to the parsing scan for addresses in and out
  of public and private CIDRs, and the odd inputs (not text, unhashable items) still answer.
- ``Node.addresses`` / ``Node.networks`` are worked out once per node: equal to the interfaces' walk.
- network validation remembers clean network lists: a model with a bad network built after a
  good one with the same nodes still reports it, every time.
"""
from __future__ import annotations

import pytest

from lab.core import network as net_mod
from lab.core.dns import Record, Zone, ZoneSet
from lab.core.errors import ConfigError
from lab.core.network import Interface, NatRule, Network, NetworkModel, Node


def _zones() -> ZoneSet:
    return ZoneSet((
        Zone("example", (Record("example", "A", "127.0.0.1"), Record("www.example", "CNAME", "example"),
                         Record("loop1.example", "CNAME", "loop2.example"),
                         Record("loop2.example", "CNAME", "loop1.example"))),
        Zone("b.example", (Record("b.example", "MX", (10, "mx.b.example")), Record("mx.b.example", "A", "127.0.0.3"),
                           Record("mx.b.example", "TXT", "t"), Record("x.y.b.example", "A", "127.0.0.4"))),
        Zone("other.test", (Record("other.test", "MX", (0, ".")),)),
    ))


QUESTIONS = [(name, qtype) for name in ("example", "EXAMPLE.", "www.example", " www.example ", "loop1.example",
                                         "b.example", "mx.b.example", "y.b.example", "nothing.b.example",
                                         "other.test", "outside.zone", "")
             for qtype in ("A", "a", "MX", "CNAME", "TXT", "SOA", "ANY", "NS")]


def test_zone_answers_are_the_uncached_answers() -> None:
    zones = _zones()
    for _ in range(2):  # the first time fills the memo, the second reads it
        for name, qtype in QUESTIONS:
            assert zones.answer(name, qtype) == zones._answer(name, qtype), (name, qtype)


def test_an_edited_zone_set_answers_anew() -> None:
    zones = _zones()
    assert zones.answer("new.example", "A").rcode == "NXDOMAIN"
    edited = zones.with_record(Record("new.example", "A", "127.0.0.9"))
    assert [r.value for r in edited.answer("new.example", "A").answer] == ["127.0.0.9"]
    assert zones.answer("new.example", "A").rcode == "NXDOMAIN"  # the old set is unchanged


def test_zone_answer_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from lab.core import dns
    monkeypatch.setattr(dns, "_ANSWER_MEMO", 3)
    zones = _zones()
    for name, qtype in QUESTIONS:
        assert zones.answer(name, qtype) == zones._answer(name, qtype)
        assert len(zones._answers) <= 3


ADDRESSES = ["192.168.8.10", "192.168.9.1", "100.100.100.254", "10.1.2.3", "::1", "fe80::1", "bogus", "",
             " 192.168.8.10 ", "172.16.0.1"]
CIDRS = [("192.168.8.0/24",), ("100.100.100.0/24", "192.168.8.0/24"), ("10.0.0.0/8", "not-a-cidr"),
         ("::/0",), (), ("0.0.0.0/0",)]


@pytest.mark.parametrize("cidrs", CIDRS)
def test_in_any_is_the_scan(cidrs: tuple[str, ...]) -> None:
    for ip in ADDRESSES:
        for _ in range(2):
            assert net_mod._in_any(ip, cidrs) == net_mod._in_any_parsed(ip, cidrs), (ip, cidrs)


def test_in_any_takes_odd_inputs() -> None:
    assert net_mod._in_any("192.168.8.1", (["unhashable"], "192.168.8.0/24")) is True  # type: ignore[arg-type]
    assert net_mod._in_any("192.168.8.1", ["192.168.8.0/24"]) is True  # type: ignore[arg-type]
    import ipaddress
    assert net_mod._in_any(ipaddress.ip_address("192.168.8.1"), ("192.168.8.0/24",)) is True  # type: ignore[arg-type]


def test_node_addresses_and_networks_follow_its_interfaces() -> None:
    node = Node("n", "server", (Interface("lan", ("192.168.8.10", "192.168.8.11")), Interface("wan", "100.1.1.1")))
    assert node.addresses == ("192.168.8.10", "192.168.8.11", "100.1.1.1")
    assert node.networks == ("lan", "wan")
    from dataclasses import replace
    other = replace(node, interfaces=(Interface("dmz", "172.16.0.1"),))
    assert other.addresses == ("172.16.0.1",) and other.networks == ("dmz",)
    assert node.addresses == ("192.168.8.10", "192.168.8.11", "100.1.1.1")
    assert node == Node("n", "server", node.interfaces)  # the remembered values take no part in equality


def _model(networks: tuple[Network, ...]) -> NetworkModel:
    nodes = (Node("fw", "firewall", (Interface("inet", "100.100.100.254"), Interface("lan", "192.168.8.1"))),
             Node("mail", "server", (Interface("lan", "192.168.8.10"),)))
    return NetworkModel(networks, nodes)


def test_clean_networks_remembered_bad_ones_always_reported() -> None:
    good = (Network("inet", "public", ("100.100.100.0/24",)), Network("lan", "private", ("192.168.8.0/24",)))
    model = _model(good)
    again = model.with_nat_rule("fw", NatRule("publish", "smtp", "100.100.100.254", 25, "192.168.8.10"))
    assert again.networks is model.networks
    bad = (Network("inet", "public", ("100.100.100.0/24", "10.0.0.0/16")), Network("lan", "private", ("192.168.8.0/24",)))
    for _ in range(2):
        with pytest.raises(ConfigError) as caught:
            _model(bad)
        assert "overlaps the private range" in str(caught.value)


def test_resolutions_against_a_zone_set_are_the_driven_ones() -> None:
    from lab.core.dns_resolution import HostResolution, MxResolution, drive, resolve_host, resolve_mx
    zones = _zones()
    for _ in range(2):
        for domain in ("b.example", "example", "other.test", "www.example", "loop1.example", "nothing.example",
                       "outside.zone", "B.Example."):
            for local in ((), ("mx.b.example",), ["MX.B.EXAMPLE"]):
                assert resolve_mx(zones, domain, local) == drive(MxResolution(domain, local), zones), (domain, local)
            assert resolve_host(zones, domain) == drive(HostResolution(domain), zones), domain
    edited = zones.with_record(Record("mx2.b.example", "A", "127.0.0.8")).with_record(
        Record("b.example", "MX", (5, "mx2.b.example")))
    assert resolve_mx(edited, "b.example").targets[0].host == "mx2.b.example"
    assert resolve_mx(zones, "b.example").targets[0].host == "mx.b.example"


def test_resolution_against_a_changing_answerer_is_not_remembered() -> None:
    from lab.core.dns_resolution import resolve_host

    class Answerer:  # a mutable stand-in: no ``resolutions``, so every resolution asks again
        def __init__(self) -> None:
            self.zones = _zones()

        def answer(self, qname: str, qtype: str):
            return self.zones.answer(qname, qtype)

    answerer = Answerer()
    assert resolve_host(answerer, "new.example").error == "NonExistentDomain"
    answerer.zones = answerer.zones.with_record(Record("new.example", "A", "127.0.0.9"))
    assert resolve_host(answerer, "new.example").addresses == ("127.0.0.9",)


def test_plain_outputs_are_the_outputs_of_their_lines() -> None:
    from lab.core.exchange.session import _PLAIN, Output
    for lines in (("220 ready",), ("250-a", "250 b"), ("500 5.3.3 Unrecognized command",)):
        assert _PLAIN[lines] == Output(lines)
        assert _PLAIN[lines] is _PLAIN[tuple(list(lines))]  # one frozen object per lines
        assert not (_PLAIN[lines].close or _PLAIN[lines].start_tls or _PLAIN[lines].read_data)
        assert _PLAIN[lines].message is None and _PLAIN[lines].decision is None


def test_x500_quoting_and_normalising_are_the_character_scan() -> None:
    from lab.core import tls
    for value in ("Contoso", "a,b", "x+y", 'say "hi"', " padded", "tab\t", "semi;colon", "hash#", "lt<", "gt>",
                  "eq=", "new\nline", "", "plain text with spaces"):
        scan = value != value.strip() or any(ch in tls._NEEDS_QUOTES for ch in value)
        assert tls._quote(value) == ('"' + value.replace('"', '""') + '"' if scan else value), value
    for text in ("CN=mail.contoso.com, O=Contoso,C=US", "cn = a ,st=Wash", 'CN="a, b"'):
        for _ in range(2):
            assert tls._normalise(text) == ", ".join(f"{k}={tls._quote(v)}" for k, v in tls.parse_x500(text))
    for bad in ("nokey", 'CN="open'):
        for _ in range(2):
            with pytest.raises(ValueError):
                tls._normalise(bad)


def _full_zone(zone: Zone) -> Zone:
    return Zone(zone.origin, zone.records, zone.soa, zone.place)  # through __post_init__


def test_zone_edits_are_what_the_validating_constructors_build() -> None:
    from dataclasses import fields
    zones = _zones()
    edits = [
        lambda z: z.with_record(Record("new.example", "A", "127.0.0.9")),
        lambda z: z.with_record(Record("deep.x.y.b.example", "TXT", "hello")),
        lambda z: z.with_record(Record("b.example", "MX", (5, "mx2.b.example"))),
        lambda z: z.without_record("mx.b.example", "TXT"),
        lambda z: z.without_record("new.example", "A", "127.0.0.9"),
        lambda z: z.with_record(Record("alias.other.test", "CNAME", "example")),
        lambda z: z.without_record("www.example", "CNAME"),
    ]
    for edit in edits:
        edited = edit(zones)
        rebuilt = ZoneSet(tuple(_full_zone(z) for z in edited.zones))
        assert edited == rebuilt
        for mine, theirs in zip(edited.zones, rebuilt.zones):
            for f in fields(Zone):
                assert getattr(mine, f.name) == getattr(theirs, f.name), f.name
        assert [z.soa.serial for z in edited.zones] != [z.soa.serial for z in zones.zones]
        for name, qtype in QUESTIONS:
            assert edited.answer(name, qtype) == rebuilt.answer(name, qtype)
        zones = edited


def test_zone_edit_errors_are_the_constructors() -> None:
    from lab.core.dns import Soa
    zones = _zones()
    with pytest.raises(ConfigError, match="already exists"):
        zones.with_record(Record("mx.b.example", "A", "127.0.0.3"))
    with pytest.raises(ConfigError, match="CNAME"):
        zones.with_record(Record("www.example", "A", "127.0.0.7"))
    full = Zone("late.test", (), Soa("ns1.late.test", "hostmaster.late.test", 2**32 - 1))
    with pytest.raises(ConfigError, match="SOA serial"):
        full.with_record(Record("a.late.test", "A", "127.0.0.1"))
    with pytest.raises(ConfigError, match="more specific zone"):  # an edit that breaks ownership
        ZoneSet((Zone("example", (Record("a.b.example", "A", "127.0.0.1"),)),)).with_zone(Zone("b.example"))


def _old_reachable_roots(leaf, pool, roots):
    names = {leaf.issuer}
    grown = True
    while grown:
        grown = False
        for cert in pool:
            if cert.subject in names and cert.issuer not in names:
                names.add(cert.issuer)
                grown = True
    return tuple(r for r in roots if r.subject in names)


def test_certificate_name_keys_compare_as_the_names() -> None:
    from itertools import combinations

    from lab.adapters import pki
    root = pki.CertificateAuthority.create_root("Root A")
    twin = pki.CertificateAuthority.create_root("Root A twin", common_name="Root A")  # same name, other key
    other = pki.CertificateAuthority.create_root("Root B", subject_extra=(("O", "Contoso"), ("C", "US")))
    inter = root.create_intermediate("Issuing A")
    inter_b = other.create_intermediate("Issuing B", subject_extra=(("O", "Contoso"),))
    leaves = [inter.issue("mail.contoso.com", ["mail.contoso.com"]).cert,
              inter_b.issue("mx.fabrikam.com", subject_extra=(("O", "Fabrikam"),)).cert,
              root.issue("direct.contoso.com").cert, pki.self_signed("self.contoso.com").cert]
    certs = [root.cert, twin.cert, other.cert, inter.cert, inter_b.cert, *leaves]
    for a in certs:
        for b in certs:
            assert (pki._name_keys(a)[0] == pki._name_keys(b)[1]) == (a.subject == b.issuer)
            assert (pki._name_keys(a)[0] == pki._name_keys(b)[0]) == (a.subject == b.subject)
    pool_all = (inter.cert, inter_b.cert)
    roots_all = (root.cert, twin.cert, other.cert)
    for leaf in leaves:
        for n in range(3):
            for pool in combinations(pool_all, n):
                for m in range(4):
                    for roots in combinations(roots_all, m):
                        assert pki._reachable_roots(leaf, pool, roots) == _old_reachable_roots(leaf, pool, roots)


INVALID_ARGUMENTS, INVALID_ADDRESS, UNRECOGNIZED = "501 5.5.4 Invalid arguments", "501 5.1.7 Invalid address", \
    "501 5.5.4 Unrecognized parameter"
MAIL_ARGS = {  # MAIL's argument -> (address, parameters, option words) or the reply line
    "FROM:<a@b.com>": ("a@b.com", (), ()),
    "FROM:<a@b.com> SIZE=100": ("a@b.com", (("SIZE", "100"),), ("SIZE=100",)),
    "FROM: <a@b.com> size=1 BODY=8BITMIME": ("a@b.com", (("SIZE", "1"), ("BODY", "8BITMIME")),
                                            ("size=1", "BODY=8BITMIME")),
    "FROM:<>": ("", (), ()),
    "FROM:a@b.com": ("a@b.com", (), ()),
    "FROM:<a@b.com> FOO=1": UNRECOGNIZED,
    "FROM:<bad address>": INVALID_ADDRESS,
    "FROM <a@b.com>": INVALID_ARGUMENTS,
    "TO:<a@b.com>": INVALID_ARGUMENTS,
    "from:<x@y> ret=HDRS envid=1": ("x@y", (("RET", "HDRS"), ("ENVID", "1")), ("ret=HDRS", "envid=1")),
    "FROM:<a@b.com": INVALID_ARGUMENTS,
    "FROM:<a@b.com> SIZE=1 SIZE=2": ("a@b.com", (("SIZE", "2"),), ("SIZE=1", "SIZE=2")),
    "": INVALID_ARGUMENTS,
}
RCPT_ARGS = {  # RCPT's argument -> (address, parameters) or the reply line
    "TO:<a@b.com>": ("a@b.com", ()),
    "TO:<a@b.com> NOTIFY=FAILURE,DELAY": ("a@b.com", (("NOTIFY", "FAILURE,DELAY"),)),
    "TO:<>": INVALID_ADDRESS,
    "to: <c@d> orcpt=rfc822;c@d": ("c@d", (("ORCPT", "rfc822;c@d"),)),
    "TO:<a@b.com> SIZE=1": UNRECOGNIZED,
    "TO:c@d": ("c@d", ()),
    "TO <c@d>": INVALID_ARGUMENTS,
    "FROM:<a@b>": INVALID_ARGUMENTS,
    "TO:<a b@c>": INVALID_ADDRESS,
    "": INVALID_ARGUMENTS,
}


def test_mail_and_rcpt_arguments_read_as_exchange_reads_them() -> None:
    from lab.core.exchange.session import _MAIL_ARGUMENTS, _RCPT_ARGUMENTS
    for _ in range(2):  # (the second time from the memo)
        for read, table in ((_MAIL_ARGUMENTS, MAIL_ARGS), (_RCPT_ARGUMENTS, RCPT_ARGS)):
            for arg, expected in table.items():
                got = read[arg]
                assert (got if isinstance(got, tuple) else got.line()) == expected, arg


def test_each_command_gets_its_own_parameters() -> None:
    from datetime import datetime

    from lab.core.exchange.receive import Decision
    from lab.core.exchange.session import ReceiveSession

    seen: list[dict] = []

    class Policy:
        max_protocol_errors = 5

        def banner(self, ctx):
            return "220 ready"

        def hello(self, ctx, extended):
            return ("250 hi",)

        def mail_from(self, ctx, sender, params):
            seen.append(dict(params))
            params["SIZE"] = "changed"  # a policy that writes into them harms no later command
            return Decision(True, __import__("lab.core.catalogue", fromlist=["exchange"]).exchange.S250_2_1_0_SENDER_OK, "r")

    for _ in range(2):
        session = ReceiveSession(Policy(), None, client_ip="1.1.1.1", local_ip="2.2.2.2", local_port=25,
                                 now=datetime(2026, 1, 1), new_guid=lambda: "g")
        session.connect()
        session.receive_line("EHLO x")
        session.receive_line("MAIL FROM:<a@b.com> SIZE=10")
    assert seen == [{"SIZE": "10"}, {"SIZE": "10"}]
    from lab.core.exchange.session import _MAIL_ARGUMENTS
    assert dict(_MAIL_ARGUMENTS["FROM:<a@b.com> SIZE=10"][1]) == {"SIZE": "10"}


def test_memo_keys_of_different_record_counts_never_meet() -> None:
    from lab.core.memo import Memo
    memo = Memo()
    a, b, c = object(), object(), object()
    calls: list[str] = []

    def build(tag: str) -> str:
        calls.append(tag)
        return tag
    assert memo.get((a,), (id(b), 1), build, "one") == "one"
    assert memo.get((a, b), 1, build, "two") == "two"  # (id a, id b, 1) is not (id a, (id b, 1))
    assert memo.get((a, b, c), None, build, "three") == "three"
    assert memo.get((), (id(a), id(b), None), build, "none") == "none"
    assert memo.get((a,), (id(b), 1), build, "again") == "one" and memo.get((a, b, c), None, build, "x") == "three"
    assert calls == ["one", "two", "three", "none"]


def _old_rename_prefix(content: bytes, old: str, new: str) -> bytes:
    head, sep, body = content.partition(b"\r\n\r\n")
    if not sep:
        return content
    lines = head.split(b"\r\n")
    renamed = {line.split(b":", 1)[0][len(old):].lower() for line in lines
               if line.lower().startswith(old.lower().encode())}
    if not renamed:
        return content
    out: list[bytes] = []
    dropping = False
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                out.append(line)
            continue
        name = line.split(b":", 1)[0]
        lowered = name.lower()
        dropping = lowered.startswith(new.lower().encode()) and lowered[len(new):] in renamed
        if dropping:
            continue
        if lowered.startswith(old.lower().encode()):
            line = new.encode() + name[len(old):] + line[len(name):]
        out.append(line)
    return b"\r\n".join(out) + sep + body


def test_prefix_renames_are_the_line_walk() -> None:
    from lab.core.exchange import headers as H
    messages = [
        b"From: a@b\r\nX-MS-Exchange-CrossPremises-AuthAs: Internal\r\nX-MS-Exchange-Organization-AuthAs: Anonymous\r\n"
        b" folded\r\nSubject: s\r\n\r\nbody X-MS-Exchange-CrossPremises-AuthAs: x\r\n",
        b"From: a@b\r\nSubject: nothing to do\r\n\r\nX-MS-Exchange-CrossPremises-AuthAs: in the body\r\n",
        b"Subject: x-ms-exchange-crosspremises-authas inside a value\r\n\r\nbody",
        b"x-ms-exchange-organization-AuthSource: ex01\r\nX-MS-Exchange-CrossPremises-AuthSource: eop\r\n\r\n",
        b"no header block at all",
        b"X-MS-Exchange-Organization-SCL: 1\r\n\tcontinued\r\nTo: c@d\r\n\r\n",
    ]
    for content in messages:
        for old, new in ((H.CROSS_PREMISES_PREFIX.lower(), "X-MS-Exchange-Organization-"),
                         (H.ORG_HEADER_PREFIX, H.CROSS_PREMISES_PREFIX)):
            assert H._rename_prefix(content, old, new) == _old_rename_prefix(content, old, new), (content, old)


def test_memo_get1_is_get_of_one_record() -> None:
    from lab.core.memo import Memo
    memo = Memo(limit=3)
    a, b = object(), object()
    calls: list[str] = []

    def build(tag: str) -> str:
        calls.append(tag)
        return tag
    assert memo.get1(a, 1, build, "a1") == "a1"
    assert memo.get((a,), 1, build, "x") == "a1"  # the same entry either way
    assert memo.get((b,), 2, build, "b2") == "b2" and memo.get1(b, 2, build, "y") == "b2"
    assert memo.get1(a, 2, build, "a2") == "a2" and memo.get1(b, 1, build, "b1") == "b1"  # past the limit: cleared
    assert len(memo) == 1 and calls == ["a1", "b2", "a2", "b1"]
    assert memo.get1(a, 1, build, "a1 again") == "a1 again"


def test_memo_get2_is_get_of_two_records() -> None:
    from lab.core.memo import Memo
    memo = Memo()
    a, b = object(), object()
    assert memo.get2(a, b, 1, lambda: "ab") == "ab"
    assert memo.get((a, b), 1, lambda: "x") == "ab" and memo.get2(b, a, 1, lambda: "ba") == "ba"
    assert memo.get((a,), (id(b), 1), lambda: "one") == "one"  # one record and a value are another entry
    assert len(memo) == 3


def test_host_matches_remembered_is_the_rule() -> None:
    from lab.core.tls import host_matches
    rule = host_matches.__wrapped__
    names = ["mail.contoso.com", "MAIL.contoso.com.", "*.contoso.com", "contoso.com", "a.b.contoso.com", "",
             " mail.contoso.com ", "*.b.contoso.com", "mail*.contoso.com", "x.fabrikam.com"]
    for _ in range(2):
        for have in names:
            for want in names:
                assert host_matches(have, want) is rule(have, want), (have, want)


def _article_model() -> NetworkModel:
    from tests.unit.test_network import world
    return NetworkModel.from_dict(world())


def _same_model(mine: NetworkModel, full: NetworkModel) -> None:
    from dataclasses import fields
    assert mine == full
    for f in fields(NetworkModel):
        if f.name != "_routes":
            assert dict(getattr(mine, f.name)) == dict(getattr(full, f.name)) if f.name.startswith("_") else \
                getattr(mine, f.name) == getattr(full, f.name), f.name
    for src in ("client", "spammer", "mail-xutonglin", "dc-xutonglin", "erp"):
        for ip in ("100.100.100.254", "100.100.100.26", "192.168.8.10", "100.100.100.10"):
            for port in (25, 53, 587):
                assert mine.connect(src, ip, port) == full.connect(src, ip, port)


NAT_EDITS = [
    ("tmg", NatRule("publish", "DNS", "100.100.100.254", 53, "192.168.8.20", 53)),
    ("tmg", NatRule("publish", "all of dc", "100.100.100.254", None, "192.168.8.21")),
    ("office26-fw", NatRule("publish", "erp", "100.100.100.26", 587, "192.168.0.3", 25)),
    ("tmg", NatRule("publish", "twice", "100.100.100.254", 25, "192.168.8.20")),  # 25 is published already
    ("tmg", NatRule("publish", "nobody", "100.100.100.254", 2525, "192.168.8.99")),  # no host there
    ("tmg", NatRule("publish", "itself", "100.100.100.254", 2526, "192.168.8.1")),
    ("tmg", NatRule("publish", "not mine", "100.100.100.26", 2527, "192.168.8.10")),
    ("tmg", NatRule("publish", "other lan", "100.100.100.254", 2528, "192.168.0.3")),
    ("tmg", NatRule("masquerade", "m2", "100.100.100.254", from_network="internet")),
    ("tmg", NatRule("bogus", "b")),
]


@pytest.mark.parametrize("node,rule", NAT_EDITS)
def test_nat_edits_are_the_full_build(node: str, rule: NatRule) -> None:
    from dataclasses import replace
    model = _article_model()
    n = model.node(node)
    nodes = tuple(replace(n, nat=n.nat + (rule,)) if x.name == node else x for x in model.nodes)
    try:
        full = NetworkModel(model.networks, nodes, model.root)
    except ConfigError as exc:
        with pytest.raises(type(exc)) as caught:
            model.with_nat_rule(node, rule)
        assert str(caught.value) == str(exc)
        return
    mine = model.with_nat_rule(node, rule)
    _same_model(mine, full)
    back = mine.without_nat_rule(node, rule.name)
    _same_model(back, NetworkModel(model.networks, model.nodes, model.root))
