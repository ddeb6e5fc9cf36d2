"""One decoder for the text files users give the lab: UTF-8 (BOM or not) and UTF-16 (PowerShell 5.1)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from lab.console.cli_shell import shell_command
from lab.core.errors import ConfigError
from lab.probes.cli import rehearse_command
from lab.textfiles import read_text
from lab.topology.importer import read_json

TOPOLOGY = "topology.yaml"
LINE = "Get-AcceptedDomain\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le"])
def test_read_text_takes_every_windows_encoding(tmp_path, encoding):
    path = tmp_path / "s.ps1"
    path.write_bytes(LINE.encode(encoding))
    assert read_text(path) == LINE


def test_bad_bytes_and_missing_files_name_the_file(tmp_path):
    path = tmp_path / "bad.ps1"
    path.write_bytes(b"Get-\x80Mailbox\n")
    with pytest.raises(ConfigError) as caught:
        read_text(path)
    assert caught.value.place.file == str(path) and "not UTF-8 or UTF-16 text" in caught.value.message
    with pytest.raises(ConfigError) as caught:
        read_text(tmp_path / "missing.ps1")
    assert caught.value.message.startswith("cannot read the file")


def test_importer_uses_the_shared_decoder(tmp_path):
    path = tmp_path / "x.json"
    path.write_bytes('[{"Name": "a"}]'.encode("utf-16"))
    assert read_json(path) == [{"Name": "a"}]


def test_rehearse_reads_a_utf16_script(tmp_path):
    script = tmp_path / "s.ps1"
    script.write_bytes(LINE.encode("utf-16"))
    result = CliRunner().invoke(rehearse_command, [str(script), "--topology", TOPOLOGY])
    assert result.exit_code == 0, result.output


def test_shell_refuses_an_undecodable_script_before_starting_a_lab(tmp_path):
    script = tmp_path / "bad.ps1"
    script.write_bytes(b"Get-\x80Mailbox\n")
    result = CliRunner().invoke(shell_command, ["--state", str(tmp_path / "state"), "-f", str(script)])
    assert isinstance(result.exception, ConfigError)
    assert not (tmp_path / "state").exists()
