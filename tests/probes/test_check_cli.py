"""`lab check`, `lab diff`, `lab rehearse` end to end (click), and the probe file of the default world."""
from __future__ import annotations

import io
import json
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from lab.probes.cli import check_command, diff_command, rehearse_command

from .conftest import TOPOLOGY


@pytest.fixture(scope="module")
def lab_cli() -> click.Group:
    group = click.Group("lab")
    for command in (check_command, diff_command, rehearse_command):
        group.add_command(command)
    return group


def run(lab_cli, *args):
    return CliRunner().invoke(lab_cli, [str(a) for a in args], catch_exceptions=False)


def test_the_default_worlds_probes_pass(lab_cli, tmp_path):
    result = run(lab_cli, "check", TOPOLOGY, "--json", "--junit", tmp_path / "junit.xml")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["failed"] == 0 and report["passed"] == len(report["probes"]) >= 20
    kinds = {p["expected"]["outcome"] for p in report["probes"]}
    assert kinds == {"delivered", "rejected", "failed", "queued", "bounced"}
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.get("tests") == str(report["passed"]) and suite.get("failures") == "0"


def broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = TOPOLOGY.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "after.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_failing_probe_exits_1_with_its_trace(lab_cli, tmp_path):
    path = broken_copy(tmp_path, 'expect: {rejected: "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain"}',
                       'expect: {delivered: someone@fabrikam.com}')
    result = run(lab_cli, "check", path)
    assert result.exit_code == 1
    assert "FAIL" in result.output and "23 of 24 probes passed" in result.output
    assert "why ERP relay to the Internet through MAIL1 is refused rejected: 550 5.7.54" in result.output
    assert "S: 550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain" in result.output  # the transcript


def test_a_bad_probe_is_a_file_line_error(tmp_path):
    from lab.core.errors import ConfigError
    from lab.probes.worlds import load
    path = broken_copy(tmp_path, "    from: erp\n    to: administrator@office26.com",
                       "    from: erp-typo\n    to: administrator@office26.com")
    with pytest.raises(ConfigError) as info:
        load(path).probes()
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "erp-typo" in text)
    assert (info.value.place.file, info.value.place.line) == (str(path), line)
    assert "'erp-typo' is not a node of this topology" in str(info.value)


def test_diff_of_identical_files_reports_no_change(lab_cli, tmp_path):
    copy = tmp_path / "same.yaml"
    copy.write_text(TOPOLOGY.read_text(encoding="utf-8"), encoding="utf-8")
    result = run(lab_cli, "diff", TOPOLOGY, copy, "--json")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["changes"] == [] and report["evaluated"] > 100


def test_diff_against_a_broken_variant_reports_exactly_the_flows_concerned(lab_cli, tmp_path):
    # office26's MX removed: only mail to office26.com that crosses the Internet breaks
    after = broken_copy(tmp_path, '        - {name: "@", type: MX, preference: 10, value: mail1.office26.com}\n', "")
    report = json.loads(run(lab_cli, "diff", TOPOLOGY, after, "--json").output)
    got = {c["flow"]: (c["change"], c["after"]["outcome"]) for c in report["changes"]}
    assert all(flow.split(">")[1].startswith("administrator@office26.com@") for flow in got)
    assert set(got.values()) == {("broke", "queued"), ("broke", "failed")}
    senders = {flow.split(">")[0] for flow in got}
    assert senders == {"allen@xutonglin.com", "contoso@contoso.com", "partner@fabrikam.com", "someone@fabrikam.com",
                       "user01@ixmsoft.com", "user02@ixmsoft.com", "user20@ixmsoft.com", "internet-client", "office26-pc"}
    # the office26 LAN through MAIL1 (its mailboxes, the ERP, office26-pc) does not need the MX; looking it up does
    assert got["office26-pc>administrator@office26.com@mx"] == ("broke", "failed")
    assert not any(flow.startswith(("erp", "sales@", "office26-pc>administrator@office26.com@mail1")) for flow in got)
    assert got["internet-client>administrator@office26.com@mx"] == ("broke", "failed")
    assert report["summary"]["broke"] == len(got)


def test_rehearse_writes_the_accepted_script_and_shows_the_breaks(lab_cli, tmp_path):
    script = tmp_path / "change.ps1"
    script.write_text('# article 003, the other way round\n'
                      'Remove-DnsServerResourceRecord -ZoneName xutonglin.com -Name "@" -RRType MX -Force\n',
                      encoding="utf-8")
    out = tmp_path / "production.ps1"
    result = run(lab_cli, "rehearse", script, "--topology", TOPOLOGY, "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == \
        'Remove-DnsServerResourceRecord -ZoneName xutonglin.com -Name "@" -RRType MX -Force\n'
    assert "11 broke, 0 started working, 0 changed reply" in result.output
    assert "InfoNoRecords" in result.output


def test_rehearse_stops_at_a_failing_line(lab_cli, tmp_path):
    script = tmp_path / "bad.ps1"
    script.write_text("Get-AcceptedDomain\nSet-SendConnector Nope -MaxMessageSize 10MB\n", encoding="utf-8")
    out = tmp_path / "never.ps1"
    result = run(lab_cli, "rehearse", script, "--out", out, "--topology", TOPOLOGY)
    assert result.exit_code == 1
    assert f"{script}:line 2 failed" in result.output and "Set-SendConnector Nope" in result.output
    assert not out.exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_a_progress_bar_per_matrix_and_the_matrix_may_still_fork(monkeypatch):
    from lab.probes import cli

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with cli._matrix_progress({"before": "a.yaml", "after": "b.yaml"}) as progress:
        progress("before", 250, 1000)
        assert threading.active_count() == 1  # no refresh thread: evaluate may fork its workers
        progress("before", 1000, 1000)
        progress("after", 500, 900)
    shown = terminal.getvalue()
    assert "flow matrix of a.yaml" in shown and "250/1000" in shown and "1000/1000" in shown
    assert "flow matrix of b.yaml" in shown and "500/900" in shown


def test_no_terminal_no_progress_bar(monkeypatch):
    from lab.probes import cli

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with cli._matrix_progress({"before": "a.yaml", "after": "b.yaml"}) as progress:
        assert progress is None
