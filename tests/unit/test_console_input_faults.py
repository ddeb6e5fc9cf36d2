"""telnet's port argument and the control channel's internal errors: telnet's text, or one lab text."""
from __future__ import annotations

import logging

import pytest

from cmdlets_support import console
from lab import control
from lab.core.catalogue import cmdlets as M
from lab.core.catalogue import lab as L


@pytest.mark.parametrize("port", ["99999", "abc", "0", "-1"])
def test_telnet_bad_port_prints_telnets_own_text(port):
    out = console().run(f"telnet mail.ixmsoft.com {port}")
    assert not out.errors
    assert out.output_text.strip() == M.TELNET_CONNECT_FAILED.format(host="mail.ixmsoft.com", port=port)
    assert "ConfigError" not in out.output_text and "dst_port" not in out.output_text


def test_telnet_service_name_and_port_parse():
    from lab.console.cmdlets.telnet import parse_port
    assert parse_port("smtp") == 25 and parse_port("25") == 25 and parse_port("65535") == 65535
    assert parse_port("65536") is None and parse_port("abc") is None


def test_internal_error_is_logged_and_shown_as_one_lab_text(monkeypatch, caplog):
    def boom(_console, _line):
        raise TypeError("unhashable type: 'list'")

    monkeypatch.setattr(control, "run_line", boom)
    monkeypatch.setattr(control, "prompt_of", lambda host: "[PS] X>")
    with caplog.at_level(logging.ERROR, logger="lab.control"):
        reply = control._guarded(console(), "Get-Thing")
    assert reply["errors"] == [L.INTERNAL_ERROR.format(kind="TypeError")]
    assert "unhashable" not in reply["errors"][0]
    assert any(r.exc_info and "unhashable" in str(r.exc_info[1]) for r in caplog.records)
