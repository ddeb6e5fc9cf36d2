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

from scenario_support import ROOT, lab_argv

pytestmark = pytest.mark.live

SHELL_RUNNER = ("import sys; from lab.cli import cli, main; from lab.console.cli_shell import shell_command; "
                "cli.add_command(shell_command); main(sys.argv[1:])")


class PtyReader:
    """Reads a child's pty into one buffer; :meth:`until` waits for a text after the last match."""

    def __init__(self, fd: int):
        self.fd, self.buffer, self.pos = fd, b"", 0

    def until(self, needle: bytes, timeout: float = 60.0) -> bytes:
        end = time.monotonic() + timeout
        while (found := self.buffer.find(needle, self.pos)) < 0:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {needle!r}; got:\n{self.buffer.decode(errors='replace')}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"the child closed the pty before {needle!r}:\n"
                                         f"{self.buffer.decode(errors='replace')}")
                self.buffer += chunk
        start, self.pos = self.pos, found + len(needle)
        return self.buffer[start:self.pos]


def _finish(pid: int, fd: int, sig: int | None = None, timeout: float = 60.0) -> tuple[int, bytes]:
    """Wait for the child, reading its pty meanwhile (a full pty would block it); kill it when late."""
    if sig is not None:
        os.kill(pid, sig)
    out, end = b"", time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), out
        if time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"the child did not end: {out.decode(errors='replace')[-2000:]}")
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:
                pass


def test_step_mode_pauses_before_each_step_in_a_pty():
    pid, fd = pty.fork()
    if pid == 0:  # the child: lab scenario run missing-mx --step
        os.chdir(ROOT)
        os.environ["COLUMNS"] = "200"
        os.execv(sys.executable, lab_argv("scenario", "run", "missing-mx", "--step"))
    reader = PtyReader(fd)
    try:
        for number in range(1, 5):
            reader.until(f"Step {number}".encode())
            reader.until(b"[Enter]")
            os.write(fd, b"\r")
        reader.until(b"PASS")
    finally:
        code, rest = _finish(pid, fd)
        os.close(fd)
    text = (reader.buffer + rest).decode(errors="replace")
    assert code == 0, text
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
        os.environ["COLUMNS"] = "200"
        os.execv(sys.executable, lab_argv("scenario", "run", "stale-tls-certificate-name", "--exercise",
                                          "--state", str(state)))
    try:
        intro = PtyReader(fd).until(b"Ctrl-C stops the lab", 120).decode(errors="replace")
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
        _finish(pid, fd, signal.SIGINT)
        os.close(fd)
    assert not (state / "scenario.sock").exists()
