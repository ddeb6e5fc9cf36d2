"""Trainer and trainee modes: ``--step`` in a pty, and exercise + grade of the stale TlsCertificateName
scenario (graded failing until the trainee types the article's fix through ``lab shell -c``)."""
from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, lab_argv

pytestmark = pytest.mark.live

SHELL_RUNNER = ("import sys; from lab.cli import cli, main; from lab.console.cli_shell import shell_command; "
                "cli.add_command(shell_command); main(sys.argv[1:])")


def _read_until(fd: int, needle: bytes, timeout: float = 60.0) -> bytes:
    out = b""
    end = time.monotonic() + timeout
    while needle not in out:
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {needle!r}; got:\n{out.decode(errors='replace')}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def test_step_mode_pauses_before_each_step_in_a_pty():
    pid, fd = pty.fork()
    if pid == 0:  # the child: lab scenario run missing-mx --step
        os.chdir(ROOT)
        os.execv(sys.executable, lab_argv("scenario", "run", "missing-mx", "--step"))
    seen = b""
    try:
        for number in range(1, 5):
            seen += _read_until(fd, f"Step {number}".encode())
            seen += _read_until(fd, b"[Enter] run this step")
            os.write(fd, b"\r")
        seen += _read_until(fd, b"PASS")
    finally:
        _, status = os.waitpid(pid, 0)
    text = seen.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "Remove-DnsServerResourceRecord" not in text  # the start state is not a step
    assert "451 4.4.0 DNS query failed" in text and "Add-DnsServerResourceRecordMX" in text
    assert "S: 250 2.6.0" in text  # the SMTP transcript is shown


def _grade(state: Path) -> subprocess.CompletedProcess:
    return subprocess.run(lab_argv("scenario", "grade", "stale-tls-certificate-name", "--state", str(state)),
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_exercise_then_grade_before_and_after_the_trainee_fix(tmp_path):
    state = tmp_path / "ex"
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.execv(sys.executable, lab_argv("scenario", "run", "stale-tls-certificate-name", "--exercise",
                                          "--state", str(state)))
    try:
        intro = _read_until(fd, b"Ctrl-C stops the lab", 120).decode(errors="replace")
        assert "454 4.7.5" in intro and "lab shell --state" in intro
        before = _grade(state)
        assert before.returncode == 1, before.stdout + before.stderr
        assert "NOT YET" in before.stdout and "454 4.7.5" in before.stdout
        fix = subprocess.run([sys.executable, "-c", SHELL_RUNNER, "shell", "--state", str(state), "-c",
                              'Set-sendconnector out* -tlscertificatename "<I>CN=CA 沃通免费ssl证书 G2, '
                              'O=WoSign CA Limited, C=CN<S>CN=mail.ixmsoft.com"'],
                             capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert fix.returncode == 0, fix.stdout + fix.stderr
        after = _grade(state)
        assert after.returncode == 0, after.stdout + after.stderr
        assert "PASS" in after.stdout
    finally:
        os.kill(pid, signal.SIGINT)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert not (state / "scenario.sock").exists()
