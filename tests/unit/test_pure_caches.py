"""Caches of pure results keyed by immutable inputs: what they hand out cannot be changed in place,
and a cached answer is the answer the uncached code gives."""
from __future__ import annotations

import dataclasses
import email

import pytest

from lab.console import ps_ast as ast
from lab.console.parser import ParseError, Parser, parse
from lab.scenario.expect import Mail, _text, is_report, read_mail


# -- the parser ---------------------------------------------------------------------------------
def _frozen_all_the_way(node: object) -> None:
    """Every node a frozen dataclass, every sequence a tuple (nothing a caller could change)."""
    if dataclasses.is_dataclass(node):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(node, dataclasses.fields(node)[0].name, None)
        for f in dataclasses.fields(node):
            _frozen_all_the_way(getattr(node, f.name))
    elif isinstance(node, (list, dict, set, bytearray)):
        raise AssertionError(f"mutable {type(node).__name__} in a cached tree: {node!r}")
    elif isinstance(node, tuple):
        for item in node:
            _frozen_all_the_way(item)


LINES = [
    'Set-ReceiveConnector "EX01\\Default Frontend EX01" -PermissionGroups AnonymousUsers,ExchangeServers',
    "$splat = @{Name = 'x'; SenderIPAddresses = '198.51.100.40'}\nNew-InboundConnector @splat",
    'Get-Queue | Where-Object {$_.MessageCount -gt 0} | Format-List Identity,LastError',
    'Write-Host "<I>$($cert.Issuer)<S>$name" -NoNewline; $a += 1,2,(3 + 4)',
]


@pytest.mark.parametrize("text", LINES)
def test_a_cached_parse_is_the_parse_and_cannot_be_changed(text: str) -> None:
    first = parse(text)
    assert parse(text) is first  # the same text: the same tree, not parsed again
    assert first == Parser(text).script()  # what parsing it afresh gives
    assert isinstance(first, ast.Script) and first.source == text
    _frozen_all_the_way(first)


def test_a_parse_error_is_raised_each_time_as_its_own_exception() -> None:
    errors = []
    for _ in range(2):
        with pytest.raises(ParseError) as caught:
            parse("Get-Queue | ")
        errors.append(caught.value)
    assert errors[0] is not errors[1]
    assert (errors[0].text, errors[0].error_id, errors[0].start) == (errors[1].text, errors[1].error_id,
                                                                    errors[1].start)


# -- delivered messages -------------------------------------------------------------------------
RAW = (b"Received: from a by b; Mon, 23 Nov 2026 09:00:00 +0000\n"
       b"Received: from c\n by d with Microsoft SMTP Server (version=TLS1_2)\n"
       b"From: contoso@contoso.com\nTo: allen@xutonglin.com\nSubject: will expire\n"
       b"MIME-Version: 1.0\nContent-Type: text/plain; charset=\"utf-8\"\n\nhello\n")


def test_read_mail_reads_what_the_email_parser_reads() -> None:
    mail = read_mail(RAW)
    msg = email.message_from_bytes(RAW)
    assert mail.subject == str(msg["Subject"]) and mail.report is is_report(msg) is False
    assert mail.get_all("received") == [str(v) for v in msg.get_all("Received")]
    assert mail.get_all("X-Nothing") == [] and mail.text == _text(msg)
    assert read_mail(RAW.replace(b"Subject: will expire\n", b"")).subject is None


REPORT = (b"From: postmaster@contoso.com\nTo: contoso@contoso.com\nSubject: Undeliverable: will expire\n"
          b"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
          b"--b\nContent-Type: text/plain\n\nDelivery has failed.\n"
          b"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns;x\n\nStatus: 5.4.7\n"
          b"--b--\n")


def test_read_mail_knows_a_report_from_its_headers_and_reads_its_parts() -> None:
    mail, msg = read_mail(REPORT), email.message_from_bytes(REPORT)
    assert mail.report is is_report(msg) is True
    assert mail.text == _text(msg) and "Delivery has failed." in mail.text
    assert mail.headers == tuple((k, str(v)) for k, v in msg.items())


def test_read_mail_is_shared_only_as_a_frozen_value() -> None:
    mail = read_mail(RAW)
    assert read_mail(bytes(RAW)) is mail  # equal bytes: parsed once
    assert isinstance(mail, Mail) and isinstance(mail.headers, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        mail.subject = "changed"  # type: ignore[misc]
    values = mail.get_all("Received")
    values.append("mine")  # a caller's list, not the cache's
    assert len(read_mail(RAW).get_all("Received")) == 2


# -- the cmdlet registry --------------------------------------------------------------------------
def _shape(command: object) -> tuple:
    return (command.name, command.params, command.aliases, command.native, command.remote,  # type: ignore[attr-defined]
            command.module, command.implementing_type, command.should_process)  # type: ignore[attr-defined]


def test_a_console_registry_resolves_as_a_full_build_and_acts_on_its_own_host() -> None:
    from lab.console import cmdlets
    from lab.console.registry import Cmdlet, Registry
    from tests.unit.cmdlets_support import console

    full = Registry()
    host = console().host
    for module in cmdlets._modules():
        module.register(full, host)
    assert full.host is host
    one, other = cmdlets.build_registry(host), cmdlets.build_registry(console().host)
    assert one.host is host and other.host is not host
    names = [c.name for c in full.commands()] + list(full.aliases()) + ["Get-Nothing", "telnet.exe", "GET-QUEUE"]
    for name in names:
        want, got = full.resolve(name), one.resolve(name)
        assert (want is None) == (got is None), name
        if want is not None:
            assert _shape(got) == _shape(want) and got.fn is want.fn, name
    assert [_shape(c) for c in one.commands()] == [_shape(c) for c in full.commands()]
    assert one.aliases() == full.aliases()
    mine = one.register(Cmdlet("Get-Mine", lambda inv: None))
    assert one.resolve("Get-Mine") is mine and other.resolve("Get-Mine") is None  # (tables of its own)
    assert cmdlets.build_registry(host).resolve("Get-Mine") is None


def test_consoles_sharing_commands_each_change_their_own_world() -> None:
    from tests.unit.cmdlets_support import console

    first, second = console("mail1"), console("ex01")
    assert first.shell.registry.resolve("New-SendConnector") is second.shell.registry.resolve("New-SendConnector")
    made = first.run('New-SendConnector -Name Shared -AddressSpaces "SMTP:*;1"')
    assert not made.errors and made.changed
    assert "Shared" in first.run("Get-SendConnector").output_text
    assert "Shared" not in second.run("Get-SendConnector").output_text  # (the other console's lab is untouched)
    assert "MAIL1" in first.run("Get-ReceiveConnector").output_text.upper()
    assert "EX01" in second.run("Get-ReceiveConnector").output_text.upper()


def test_a_console_over_a_lazy_registry_runs_lines() -> None:
    from tests.unit.cmdlets_support import console

    shell = console("ex01")
    shell.run("Get-Queue")  # the first console of a process builds in full; this one may be lazy
    result = console("ex01").run('Get-ReceiveConnector "Default Frontend EX01" | Format-List Name,Bindings')
    assert not result.errors and "Default Frontend EX01" in result.output_text
    listed = console("ex01").run("Get-Command *-SendConnector")
    assert not listed.errors and "New-SendConnector" in listed.output_text


def test_the_commands_of_a_tree_are_walked_once_and_stay_the_same() -> None:
    from lab.console.ps_static import _commands, commands

    tree = parse('Get-Queue | Retry-Queue -Resubmit $true; $x = (Get-SendConnector "To Internet").Name')
    first = list(commands(tree.statements))
    assert first == list(_commands(tree.statements)) and first == list(commands(tree.statements))
    assert [c.name for c, _ in first] == ["Get-Queue", "Retry-Queue", "Get-SendConnector"]
    assert [piped for _, piped in first] == [False, True, False]
    first.clear()  # a caller's list: the remembered walk is untouched
    assert len(list(commands(tree.statements))) == 3


# -- a server's recipient directory -------------------------------------------------------------
def test_a_directory_is_built_once_per_organization_and_follows_a_change() -> None:
    from dataclasses import replace

    from lab.core.exchange.routing import Directory
    from lab.core.world_views import directory_for
    from tests.unit.cmdlets_support import base

    world, _ = base()
    first = directory_for(world, "ex01")
    org = world.org_of("ex01")
    fresh = Directory.build(org.organization.accepted_domains, org.organization.mailboxes, org.remote_mailboxes)
    assert first == fresh and directory_for(world, "ex01") is first
    assert directory_for(world.evolve(), "ex01") is first  # a change elsewhere: the same organization object
    box = org.organization.mailboxes[0]
    changed_org = replace(org, organization=replace(org.organization, mailboxes=org.organization.mailboxes[1:]))
    changed = world.with_org(changed_org)
    after = directory_for(changed, "ex01")
    assert after is not first and after == Directory.build(changed_org.organization.accepted_domains,
                                                           changed_org.organization.mailboxes,
                                                           changed_org.remote_mailboxes)
    assert set(first.mailboxes) - set(after.mailboxes) and box is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.default_domain = "x"  # type: ignore[misc]


# -- the console's built-in commands --------------------------------------------------------------
def test_every_console_shares_the_sealed_built_in_commands() -> None:
    from lab.console.ps_builtins import builtin_registry, shared_builtins
    from lab.console.registry import Cmdlet
    from tests.unit.cmdlets_support import console

    one, two = console().shell, console("ex01").shell
    assert one.builtins is two.builtins is shared_builtins()
    fresh = builtin_registry()
    assert [c.name for c in one.builtins.commands()] == [c.name for c in fresh.commands()]
    assert one.builtins.aliases() == fresh.aliases()
    with pytest.raises(TypeError, match="cannot be changed"):
        one.builtins.register(Cmdlet("Get-Mine", lambda inv: None))
    with pytest.raises(TypeError, match="cannot be changed"):
        one.builtins.alias("gm2", "Get-Member")
    assert one.builtins.resolve("Get-Mine") is None
    out = one.run("Get-Date -Format yyyy | Write-Output; 1,2,3 | Measure-Object | Select-Object -ExpandProperty Count")
    assert not out.errors and "3" in out.output_text


# -- parameter binding ------------------------------------------------------------------------------
def test_a_parameter_is_found_as_the_walk_over_every_parameter_finds_it() -> None:
    from lab.console.registry import COMMON_PARAMETERS, Cmdlet, Param, resolve_parameter

    command = Cmdlet("Set-Thing", lambda inv: None, (Param("Identity", aliases=("id",)), Param("Port", int),
                                                    Param("PortRange", aliases=("pr",)), Param("Verbose")))
    assert command.all_params[:4] == command.params and command.all_params[4] == COMMON_PARAMETERS[0]
    for name in ("identity", "ID", "port", "PortRange", "pr", "verbose", "vb", "WhatIf", "wi", "ErrorAction", "ea"):
        walked = next(p for p in command.all_params
                      if p.name.lower() == name.lower() or name.lower() in (a.lower() for a in p.aliases))
        assert resolve_parameter(command, name, None) is walked
    assert resolve_parameter(command, "Verbose", None) is command.params[3]  # its own first, as the walk
    assert resolve_parameter(command, "Ident", None).name == "Identity"  # a unique prefix
    assert command.exact_param("identity") is command.params[0] and command.exact_param("nothing") is None
    assert resolve_parameter(command, "ID", None) is command.params[0]  # remembered: the same answer


def test_plain_headers_read_as_the_email_parser_reads_them() -> None:
    import random

    from lab.scenario.expect import _read_with_email, plain_headers, read_mail

    rng = random.Random(5322)
    names = ["Subject", "Received", "From", "To", "Content-Type", "X-MS-Exchange-Organization-AuthAs", "subject",
             "CONTENT-TYPE", "X", "Message-ID", "Date", "Bad Name", "", "From ", "X\x0bY"]
    values = ["will expire", "", "  spaced  ", "a: b: c", "multipart/report; report-type=delivery-status",
              "Multipart/Report ; x=y", "text/plain", "no/slash/twice", "=?utf-8?q?x?=", "tab\there", "é",
              "from a by b with Microsoft SMTP Server (version=TLS1_2)", "\x0cff", "x\x85y"]
    plain = 0
    for _ in range(1500):
        lines = []
        odd = rng.random() < 0.5  # half the messages only plain names and values
        pick_names, pick_values = (names, values) if odd else (names[:11], values[:12])
        for _ in range(rng.randint(0, 7)):
            name, value = rng.choice(pick_names), rng.choice(pick_values)
            lines.append(f"{name}:{rng.choice(['', ' ', '  ', chr(9)])}{value}")
            for _ in range(rng.choice([0, 0, 0, 1, 2])):
                lines.append(rng.choice([" ", "\t", "  "]) + rng.choice(pick_values))
        if odd and rng.random() < 0.1:
            lines.insert(rng.randint(0, len(lines)), rng.choice(["From someone", " continued", "no colon here", ":x"]))
        end = rng.choice(["\n", "\r\n", "\n", "\n"])
        body = rng.choice(["", "body\n", "\nline after a blank\n", "From the body\n"])
        raw = (end.join(lines) + end + rng.choice([end, ""]) + body).encode("utf-8", "surrogateescape")
        got, want = read_mail.__wrapped__(raw), _read_with_email(raw)
        assert (got.subject, got.report, got.headers) == (want.subject, want.report, want.headers), raw
        plain += plain_headers(raw) is not None
    assert plain > 200  # the direct reading was exercised, not only the parser


# -- a topology's PKI and first World -------------------------------------------------------------
def test_a_topology_gives_the_same_pki_and_first_world_as_building_them() -> None:
    from lab.adapters.pki_world import Pki
    from lab.core.world import World
    from lab.runtime import initial_world, pki_specs, topology_pki
    from tests.unit.cmdlets_support import TOPOLOGY
    from lab.topology.load import load_topology

    topology = load_topology(TOPOLOGY)
    specs, stores = pki_specs(topology)
    pki = topology_pki(topology)
    assert pki is Pki.cached(specs, stores, now=topology.settings.clock_start) and topology_pki(topology) is pki
    world = initial_world(topology, pki)
    assert initial_world(topology, pki) is world
    assert world == World.from_topology(topology, {n: c.facts for n, c in pki.certificates.items()})
    other = load_topology(TOPOLOGY)  # an equal topology, another object: its own first World
    assert initial_world(other, topology_pki(other)) is not world


def test_eop_views_and_ports_are_remembered_per_immutable_inputs_and_follow_changes() -> None:
    from dataclasses import replace

    from lab.core.eop.model import EopNode
    from lab.core.eop.policy import EopWorld
    from lab.core import world_views
    from lab.core.world_views import eop_world, virtual_ports
    from tests.unit.cmdlets_support import base

    # (the memo empties itself when it reaches its bound: start it empty, so that what earlier tests left
    # in it cannot make it empty itself half-way through this test)
    world_views._EOP_WORLDS.clear()
    world, _ = base()
    node = next(h.name for h in world.topology.hosts_of_kind("eop"))
    first = eop_world(world, node)
    fresh = EopWorld(replace(EopNode.from_host(world.topology.hosts[node]),
                             banned_ips=tuple(sorted(world.banned_ips.get(node, frozenset())))),
                     tuple(t for t in world.tenants.values() if t.eop == node))
    assert first == fresh and eop_world(world.evolve(), node) is first
    banned = world.evolve(banned_ips={**world.banned_ips, node: frozenset({"198.51.100.40"})})
    assert eop_world(banned, node).node.banned_ips == ("198.51.100.40",)
    assert eop_world(banned, node) is not first and eop_world(world, node) is first
    name, tenant = next(iter(world.tenants.items()))
    other = world.evolve(tenants={**world.tenants, name: replace(tenant)})  # an equal, new tenant object
    assert eop_world(other, node) is not first and eop_world(other, node) == first
    ports = virtual_ports(world, "ex01")
    assert ports == tuple(sorted({b.port for c in world.server("ex01").receive_connectors for b in c.bindings}))
    assert virtual_ports(world.evolve(), "ex01") is ports


def test_property_parameters_are_shared_frozen_and_the_same_as_built_afresh() -> None:
    from lab.console.cmdlets import exchange_connectors as ec, online
    from lab.console.registry import ANY, Param

    names = ec._RC_SETTABLE
    first, again = ec._rc_params(names), ec._rc_params(list(names))
    assert first == again and first is not again and all(a is b for a, b in zip(first, again))
    first.append(Param("Mine"))  # the caller's list: the remembered parameters are untouched
    assert len(ec._rc_params(names)) == len(names)
    assert ec._sc_params(ec._SC_SETTABLE) == [Param(n, bool if n in ec._BOOL_SEND else ANY) for n in ec._SC_SETTABLE]
    from lab.core.eop.model import InboundConnector
    assert online._property_params(InboundConnector) == tuple(Param(n, ANY) for n in online._names(InboundConnector))
    with pytest.raises(dataclasses.FrozenInstanceError):
        first[0].name = "x"  # type: ignore[misc]


# -- Format-List / Format-Table read each record's properties once --------------------------------
def test_formatting_reads_the_values_value_of_finds() -> None:
    from lab.console.format import expand_properties, format_list, format_table, value_of
    from lab.console.ps_values import PSObject, display

    records = [PSObject([("Name", "a"), ("name", "shadowed"), ("Count", 3), ("Text", "two\nlines"), ("Nil", None)]),
               PSObject([("Name", "bb"), ("Count", 12), ("Extra", 1.5)]),
               PSObject([("NAME", "c"), ("Count", None), ("Text", "x\ry")])]
    for patterns in (None, ["*"], ["name", "count", "missing"], ["Text", "N*"]):
        blocks = []
        for record in records:
            names = expand_properties(record, patterns)
            width = max(len(n) for n in names)
            lines = []
            for name in names:
                text = display(value_of(record, name)).split("\n")
                lines.append(f"{name.ljust(width)} : {text[0]}".rstrip())
                lines += [(" " * (width + 3) + more).rstrip() for more in text[1:]]
            blocks.append("\n".join(lines))
        assert format_list(records, patterns) == "\n" + "\n\n".join(blocks) + "\n\n"
        columns = expand_properties(records[0], patterns) if patterns else [n for n, _ in records[0].ps_properties()]
        cells = [[display(value_of(r, c)).replace("\r", "").replace("\n", " ") for c in columns] for r in records]
        numeric = [all(isinstance(value_of(r, c), (int, float)) for r in records if value_of(r, c) is not None)
                   and any(value_of(r, c) is not None for r in records) for c in columns]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]

        def line(values):
            return " ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()
        want = [line(columns), line(["-" * len(c) for c in columns])] + [line(row) for row in cells]
        assert format_table(records, patterns) == "\n" + "\n".join(want) + "\n\n"
    assert format_table(records, ["Count"]).splitlines()[3:5] == ["    3", "   12"]  # numbers right-aligned
