"""The live console: a Lab on its own loopback block with its control channel, driven by
``lab shell -c/-f`` in subprocesses, a pty session, transcript replay and ``lab export``.
"""
from __future__ import annotations

import os
import re
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.console.host import SendRequest, Session
from lab.console.live_bridge import LabThread, LoopBridge
from lab.console.live_host import LiveHost
from lab.control import ControlClient, socket_path, start_control
from lab.core.world import World
from lab.runtime import Lab
from lab.topology.export import same_configuration
from lab.topology.load import load_topology

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGY = ROOT / "topology.yaml"
# `lab` with the console commands registered (lab/cli.py registers them in the product).
RUNNER = ("import sys; from lab.cli import cli, main; "
          "from lab.console.cli_shell import shell_command, export_command; "
          "cli.add_command(shell_command); cli.add_command(export_command); main(sys.argv[1:])")

RELAY = ('New-ReceiveConnector -Name "ANONYMOUS RELAY MAIL1" -TransportRole FrontendTransport -Custom '
         "-Bindings 0.0.0.0:25 -RemoteIPRanges 192.168.0.3")


class LiveLab:
    """A lab on its own loop thread with the control channel (as `lab up` runs it)."""

    def __init__(self, state: Path, block: str):
        self.state = state
        topo = load_topology(TOPOLOGY)
        self.channels: list = []

        async def start() -> Lab:
            lab = Lab(topo, state, loopback_base=block, live_clock=False)
            await lab.start()
            self.channels.append(await start_control(lab))
            return lab

        async def stop(lab: Lab) -> None:
            for channel in self.channels:
                await channel.close()
            await lab.stop()

        self.thread = LabThread(start, stop)

    def __enter__(self) -> "LiveLab":
        self.thread.__enter__()
        self.lab: Lab = self.thread.lab
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.__exit__(*exc)

    def host(self, **session: str) -> LiveHost:
        server = session.pop("server", "ex01")
        return LiveHost(self.lab, LoopBridge(self.thread.loop), Session(server=server, **session))


def ensure_changed(live: LiveLab) -> None:
    """Make sure the live world differs from the file (whatever order the tests ran in)."""
    if "ANONYMOUS RELAY MAIL1" in [c.name for c in live.lab.world.server("ex01").receive_connectors]:
        return
    client = ControlClient(live.state)
    try:
        assert not client.run(RELAY)["errors"]
    finally:
        client.close()


def lab_cmd(*args: str, input_text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, input=input_text)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with LiveLab(tmp_path_factory.mktemp("live"), "127.91.0.0/16") as running:
        yield running


def test_control_socket_is_private(live):
    path = socket_path(live.state)
    assert stat.S_ISSOCK(path.stat().st_mode)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(live.state.stat().st_mode) == 0o700


def test_shell_c_runs_a_line_in_the_running_lab(live):
    result = lab_cmd("shell", "--state", str(live.state), "-c", "Get-ReceiveConnector")
    assert result.returncode == 0, result.stderr
    assert "EX01\\Default Frontend EX01" in result.stdout
    assert "starting" not in result.stderr  # it joined the running lab, it did not start one


def test_a_failed_line_exits_1_and_changes_nothing(live):
    before = live.lab.world
    line = ('Set-ReceiveConnector "Default Frontend EX01" -PermissionGroups AnonymousUsers; '
            "Get-ReceiveConnector nope")
    result = lab_cmd("shell", "--state", str(live.state), "-c", line)
    assert result.returncode == 1
    assert "nope" in result.stderr and "nope" not in result.stdout
    assert live.lab.world is before
    transcript = live.state / "transcript.ps1"
    assert not transcript.exists() or "nope" not in transcript.read_text()


def test_script_changes_the_live_world_and_is_recorded(live):
    script = live.state / "change.ps1"
    script.write_text("# article 004: the ERP relay connector\n"
                      "Connect-ExchangeOnline\n"
                      "Get-InboundConnector | Format-List Name\n"
                      "Disconnect-ExchangeOnline\n"
                      + RELAY + "\n", encoding="utf-8")
    result = lab_cmd("shell", "--state", str(live.state), "--topology", str(TOPOLOGY), "-f", str(script))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Inbound from 6f2c4a91-hybrid" in result.stdout
    names = [c.name for c in live.lab.world.server("ex01").receive_connectors]
    assert "ANONYMOUS RELAY MAIL1" in names
    recorded = (live.state / "transcript.ps1").read_text().splitlines()
    assert recorded[-1] == RELAY and "Connect-ExchangeOnline" in recorded
    assert not any(line.startswith("Get-") for line in recorded)


def _read_until(fd: int, pattern: str, timeout: float = 30.0) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536).decode("utf-8", "replace")
            except OSError:
                break
            seen += chunk
            if "\x1b[6n" in chunk:
                os.write(fd, b"\x1b[1;1R")  # answer prompt_toolkit's cursor position request
            if re.search(pattern, _plain(seen)):
                return _plain(seen)
    raise AssertionError(f"{pattern!r} not seen in:\n{_plain(seen)}")


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r", "", text)


def test_pty_session_shows_where_you_are(live):
    import pty
    pid, fd = pty.fork()
    if pid == 0:  # the child: an interactive `lab shell` on a terminal
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-c", RUNNER, "shell", "--state", str(live.state)])
    try:
        _read_until(fd, r"\[PS\] EX01>")
        os.write(fd, b"Get-AcceptedDomain\r")
        out = _read_until(fd, r"ixmsoft\.mail\.onmicrosoft\.com[\s\S]*\[PS\] EX01>")
        assert "Authoritative" in out
        os.write(fd, b"Connect-ExchangeOnline\r")
        _read_until(fd, r"\[PS\] ixmsoft\.onmicrosoft\.com>")
        os.write(fd, b"Get-Nothing\r")
        _read_until(fd, r"not recognized[\s\S]*\[PS\] ixmsoft\.onmicrosoft\.com>")
        os.write(fd, b"exit\r")
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0
    finally:
        os.close(fd)
    assert (live.state / "shell_history").read_text().count("Connect-ExchangeOnline") >= 1


def test_live_host_sends_mail_from_the_current_lab_host(live):
    host = live.host(source_host="internet-client")
    ok = host.send_message(SendRequest("mx.fabrikam.com", 25, "someone@example.org", ("partner@fabrikam.com",),
                                       subject="hello"))
    assert ok.ok, ok
    refused = host.send_message(SendRequest("mx.fabrikam.com", 25, "someone@example.org",
                                            ("contoso@contoso.com",), subject="relay?"))
    assert not refused.ok and refused.reply.startswith("550") and refused.failed_recipient == "contoso@contoso.com"
    nowhere = host.send_message(SendRequest("no-such-host.fabrikam.com", 25, "a@example.org", ("b@fabrikam.com",)))
    assert not nowhere.ok and nowhere.failure == "resolve"
    lan = host.send_message(SendRequest("192.168.0.10", 25, "a@example.org", ("sales@office26.com",)))
    assert not lan.ok and lan.failure == "connect"  # a private address is not reachable from the Internet


def test_live_host_telnet_and_nslookup(live):
    host = live.host(source_host="internet-client")
    reply = host.resolve("xutonglin.com", "MX")
    assert reply.server_address == "100.100.100.2" and reply.answer.rcode == "NOERROR"
    assert reply.answer.authoritative
    assert [r.value for r in reply.answer.answer] == [(10, "mail.xutonglin.com")]
    assert host.resolve("nothing.xutonglin.com", "A").answer.rcode == "NXDOMAIN"
    smtp = host.open_smtp_session("203.0.113.25", 25)
    try:
        assert smtp.read_reply()[0].startswith("220 ")
        smtp.send_line("EHLO client.example.org")
        ehlo = smtp.read_reply()
        assert ehlo[0].startswith("250-") and ehlo[-1].startswith("250 ")
        smtp.send_line("QUIT")
        assert smtp.read_reply()[0].startswith("221")
        assert smtp.read_reply() == ()
    finally:
        smtp.close()
    with pytest.raises(ConnectionError):
        host.open_smtp_session("192.168.0.10", 25)


def test_live_host_queues_clock_and_ca_desk(live):
    host = live.host(server="mail1")
    assert any(q.identity.endswith("Submission") for q in host.queues("mail1"))
    start = host.clock_now()
    assert (host.advance_clock(120) - start).total_seconds() == pytest.approx(120)
    pending = host.generate_request("mail1", (("CN", "mail1.office26.com"),), ["mail1.office26.com"])
    assert host.request_names(pending.csr_pem) == ("mail1.office26.com",)
    pem = host.issue_certificate("wosign-g2", pending.csr_pem)
    name, facts = host.complete_request("mail1", pem)
    assert "CA 沃通免费ssl证书 G2" in facts.issuer and live.lab.keys[name].facts.thumbprint == facts.thumbprint


def test_transcript_replays_into_a_fresh_lab(live, tmp_path):
    ensure_changed(live)
    transcript = live.state / "transcript.ps1"
    with LiveLab(tmp_path / "fresh", "127.92.0.0/16") as fresh:
        assert same_configuration(fresh.lab.world, live.lab.world)  # different before the replay
        result = lab_cmd("shell", "--state", str(fresh.state), "-f", str(transcript))
        assert result.returncode == 0, result.stdout + result.stderr
        assert same_configuration(fresh.lab.world, live.lab.world) == []


def test_export_round_trip(live, tmp_path):
    ensure_changed(live)
    out = tmp_path / "exported.yaml"
    result = lab_cmd("export", "--state", str(live.state), "-o", str(out))
    assert result.returncode == 0, result.stderr
    check = lab_cmd("validate", str(out))
    assert check.returncode == 0, check.stdout + check.stderr
    topo = load_topology(out)
    facts = {c.name: live.lab.pki.certificate(c.name).facts for c in topo.pki.certificates
             if c.name in live.lab.pki.certificates}
    again = World.from_topology(topo, facts)
    assert same_configuration(again, live.lab.world) == []
    assert "ANONYMOUS RELAY MAIL1" in out.read_text(encoding="utf-8")


def test_client_without_a_lab_says_so(tmp_path):
    from lab.core.errors import LabRuntimeError
    with pytest.raises(LabRuntimeError):
        ControlClient(tmp_path)


def test_send_reports_refused_recipients_and_still_delivers(live):
    host = live.host(source_host="internet-client")
    result = host.send_message(SendRequest("mx.fabrikam.com", 25, "someone@example.org",
                                           ("partner@fabrikam.com", "contoso@contoso.com"),
                                           delivery_notification=("OnFailure", "Delay")))
    assert result.ok
    assert [r for r, _ in result.refused] == ["contoso@contoso.com"] and result.refused[0][1].startswith("550")


def test_typed_lines_come_before_the_user(live):
    asked: list[str] = []
    host = LiveHost(live.lab, LoopBridge(live.thread.loop), Session(server="ex01"),
                    read_line=lambda: asked.append("user") or "QUIT")
    host.typed.extend(["EHLO a"])
    assert host.read_client_line() == "EHLO a" and not asked
    assert host.read_client_line() == "QUIT" and asked == ["user"]
