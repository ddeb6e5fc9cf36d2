"""The console over the in-memory lab (MemoryHost): every kind of console line, real flows, no sockets."""
from __future__ import annotations

from email import message_from_bytes
from pathlib import Path

import pytest

from lab.adapters.pki_world import Pki
from lab.console.cmdlets.telnet import run_script
from lab.console.host import SendRequest, Session
from lab.console.memory_host import MemoryHost
from lab.console.transcript import LabConsole
from lab.core.world import World
from lab.memory import MemoryLab, trust_from_pki
from lab.runtime import pki_specs
from lab.topology.load import load_topology

TOPOLOGY = Path(__file__).resolve().parents[2] / "topology.yaml"


@pytest.fixture(scope="module")
def built():
    topology = load_topology(TOPOLOGY)
    specs, stores = pki_specs(topology)
    pki = Pki.build(specs, stores, now=topology.settings.clock_start)
    return topology, pki, trust_from_pki(pki)


@pytest.fixture
def lab(built) -> MemoryLab:
    topology, _, trust = built
    return MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)


def host(built, lab, **session) -> MemoryHost:
    server = session.pop("server", "ex01")
    return MemoryHost(lab, built[1], Session(server=server, **session))


def test_send_message_from_the_current_lab_host(built, lab):
    h = host(built, lab, source_host="internet-client")
    ok = h.send_message(SendRequest("mx.fabrikam.com", 25, "someone@example.org", ("partner@fabrikam.com",),
                                    subject="hello"))
    assert ok.ok, ok
    assert [message_from_bytes(m)["Subject"] for m in lab.mailbox("partner@fabrikam.com")] == ["hello"]
    refused = h.send_message(SendRequest("mx.fabrikam.com", 25, "someone@example.org", ("contoso@contoso.com",),
                                         subject="relay?"))
    assert not refused.ok and refused.reply.startswith("550") and refused.failed_recipient == "contoso@contoso.com"
    nowhere = h.send_message(SendRequest("no-such-host.fabrikam.com", 25, "a@example.org", ("b@fabrikam.com",)))
    assert not nowhere.ok and nowhere.failure == "resolve"
    lan = h.send_message(SendRequest("192.168.0.10", 25, "a@example.org", ("sales@office26.com",)))
    assert not lan.ok and lan.failure == "connect"


def test_send_reports_refused_recipients_and_still_delivers(built, lab):
    h = host(built, lab, source_host="internet-client")
    result = h.send_message(SendRequest("mx.fabrikam.com", 25, "someone@example.org",
                                        ("partner@fabrikam.com", "contoso@contoso.com"),
                                        delivery_notification=("OnFailure", "Delay")))
    assert result.ok
    assert [r for r, _ in result.refused] == ["contoso@contoso.com"] and result.refused[0][1].startswith("550")


def test_use_ssl_judges_the_server_certificate_like_windows(built, lab):
    h = host(built, lab, source_host="internet-client")
    self_signed = h.send_message(SendRequest("mail.contoso.com", 587, "contoso@contoso.com", ("allen@xutonglin.com",),
                                             use_ssl=True, username="contoso@contoso.com", password="P@ssw0rd"))
    assert not self_signed.ok and self_signed.failure == "tls" and self_signed.detail.startswith("UntrustedRoot")
    assert lab.mailbox("allen@xutonglin.com") == []
    no_starttls = h.send_message(SendRequest("mx.fabrikam.com", 25, "a@example.org", ("partner@fabrikam.com",),
                                             use_ssl=True))
    assert no_starttls.ok or no_starttls.failure in ("starttls", "tls")


def test_telnet_and_nslookup(built, lab):
    h = host(built, lab, source_host="internet-client")
    reply = h.resolve("xutonglin.com", "MX")
    assert reply.server_address == "100.100.100.2" and reply.answer.rcode == "NOERROR"
    assert [r.value for r in reply.answer.answer] == [(10, "mail.xutonglin.com")]
    assert h.resolve("nothing.xutonglin.com", "A").answer.rcode == "NXDOMAIN"
    smtp = h.open_smtp_session("203.0.113.25", 25)
    assert smtp.read_reply()[0].startswith("220 ")
    smtp.send_line("EHLO client.example.org")
    ehlo = smtp.read_reply()
    assert ehlo[0].startswith("250-") and ehlo[-1].startswith("250 ")
    smtp.send_line("QUIT")
    assert smtp.read_reply()[0].startswith("221")
    assert smtp.read_reply() == ()
    with pytest.raises(ConnectionError):
        h.open_smtp_session("192.168.0.10", 25)


def test_telnet_script_delivers_through_the_console(built, lab):
    console = LabConsole(host(built, lab, server="mail1", source_host="office26-pc"))
    results = run_script(console, "telnet 192.168.0.10 25\nEHLO pc\nMAIL FROM:<pc@office26.com>\n"
                                  "RCPT TO:<administrator@office26.com>\nDATA\nSubject: typed\n\nhello\n.\nQUIT")
    out = results[0].output_text
    assert "250 2.6.0" in out and "Connection to host lost." in out
    assert [message_from_bytes(m)["Subject"] for m in lab.mailbox("administrator@office26.com")] == ["typed"]


def test_console_lines_queue_clock_and_retry(built, lab):
    console = LabConsole(host(built, lab, server="contoso-ex"))
    broken = lab.world.zones.without_record("xutonglin.com", "MX").without_record("mail.xutonglin.com", "A")
    lab.world = lab.world.evolve(zones=broken)
    lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com", ["allen@xutonglin.com"],
             b"Subject: later\r\n\r\nx\r\n", tls=True, auth=("contoso@contoso.com", "P@ssw0rd"))
    out = console.run("Get-Queue | Format-List Identity,Status,LastError").output_text
    assert "InfoNoRecords" in out
    before = console.host.clock_now()
    assert not console.run("Set-LabClock -Advance 45m").errors
    assert (console.host.clock_now() - before).total_seconds() == pytest.approx(2700)
    identity = next(q.identity for q in lab.queues("contoso-ex") if q.status == "Retry")
    assert not console.run(f"Retry-Queue -Identity '{identity}'").errors
    assert any(e.event_id == "RECEIVE" for e in console.host.tracking_events("contoso-ex"))


def test_config_cmdlet_changes_the_memory_world_and_a_failed_line_changes_nothing(built, lab):
    console = LabConsole(host(built, lab, server="mail1"))
    before = lab.world
    assert console.run("Set-ReceiveConnector 'nonexistent' -MaxMessageSize 1MB").errors
    assert lab.world is before
    line = ('New-ReceiveConnector -Name "ANONYMOUS RELAY MAIL1" -TransportRole FrontendTransport -Custom '
            "-Bindings 0.0.0.0:25 -RemoteIPRanges 192.168.0.3")
    assert not console.run(line).errors
    assert "ANONYMOUS RELAY MAIL1" in [c.name for c in lab.world.server("mail1").receive_connectors]


def test_ca_desk_issues_and_the_imported_certificate_is_trusted(built, lab):
    h = host(built, lab, server="mail1")
    pending = h.generate_request("mail1", (("CN", "mail1.office26.com"),), ["mail1.office26.com"])
    assert h.request_names(pending.csr_pem) == ("mail1.office26.com",)
    pem = h.issue_certificate("wosign-g2", pending.csr_pem)
    name, facts = h.complete_request("mail1", pem)
    assert lab.trust.certificates[name].thumbprint == facts.thumbprint
    assert lab.trust.is_trusted(facts, "internet")


def test_validate_outbound_connector_runs_in_memory(built, lab):
    h = host(built, lab, server="ex01")
    connector = lab.world.tenants["ixmsoft"].outbound_connectors[0].name
    outside = h.validate_outbound_connector("ixmsoft", connector, ["someone@fabrikam.com"])
    assert outside.tasks[0][:2] == ("Resolve", "Failed") and not outside.succeeded
    onprem = h.validate_outbound_connector("ixmsoft", connector, ["user01@ixmsoft.com"])
    assert [t[0] for t in onprem.tasks][:2] == ["Resolve", "Connect"]
    assert onprem.tasks[0][1] == "Succeeded" and onprem.tasks[1][1] == "Succeeded", onprem.tasks
