"""`lab up` on the default topology, checked the way a new user would: with dig, ss and the CLI."""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGY = ROOT / "topology.yaml"


def _free_block() -> str:
    """A loopback block of its own (127.20-99.x.x: not the scenario runner's 127.100-249, not a
    developer's default lab) whose DNS address and port are free now, so that suites running side
    by side (worktrees, CI shards) and a running lab do not collide."""
    for n in random.sample(range(20, 100), 80):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.bind((f"127.{n}.0.1", 5353))
        except OSError:
            continue
        finally:
            probe.close()
        return f"127.{n}.0.0/16"
    pytest.skip("no free loopback block for lab up", allow_module_level=True)


BASE = _free_block()
PREFIX = BASE.rsplit(".", 2)[0] + "."  # "127.N."


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"lab up exited with {proc.returncode}: {proc.stderr.read()}")
        if path.exists():
            try:
                return json.loads(path.read_text())
            except json.JSONDecodeError:
                pass
        time.sleep(0.05)
    raise AssertionError("lab up did not write endpoints.json in time")


@pytest.fixture(scope="module")
def running_lab(tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab", "up", str(TOPOLOGY), "--state", str(state), "--loopback-base", BASE],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        desc = _wait_for(state / "endpoints.json", proc)
        yield state, desc, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert proc.returncode == 0, err
        assert "lab stopped" in out


def _service(desc: dict, host: str, service: str, protocol: str = "tcp") -> dict:
    for s in desc["services"]:
        if s["host"] == host and s["service"] == service and s["protocol"] == protocol:
            return s
    raise AssertionError(f"no {service}/{protocol} endpoint on {host}: {desc['services']}")


def test_endpoints_json_lists_hosts_and_services(running_lab):
    state, desc, _ = running_lab
    hosts = {h["host"]: h for h in desc["hosts"]}
    assert hosts["tmg"]["addresses"] == [
        {"virtual_ip": "100.100.100.254", "loopback_ip": hosts["tmg"]["addresses"][0]["loopback_ip"]},
        {"virtual_ip": "192.168.8.1", "loopback_ip": hosts["tmg"]["addresses"][1]["loopback_ip"]},
    ]
    loopbacks = [a["loopback_ip"] for h in desc["hosts"] for a in h["addresses"]]
    assert len(set(loopbacks)) == len(loopbacks), "every virtual address has its own loopback address"
    assert all(ip.startswith(PREFIX) for ip in loopbacks)
    dns = _service(desc, "public-dns", "dns", "udp")
    assert dns["virtual_ip"] == "100.100.100.2" and dns["virtual_port"] == 53 and dns["port"] == 5353
    assert (state / "trust" / "internet.pem").read_text().count("BEGIN CERTIFICATE") == 2
    for key in (state / "ca").glob("*.key"):
        assert key.stat().st_mode & 0o777 == 0o600


def test_inspect_shows_the_running_lab(running_lab):
    state, desc, _ = running_lab
    res = subprocess.run([sys.executable, "-m", "lab", "inspect", "--state", str(state), "--format", "json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["services"] == desc["services"]


def test_inspect_without_a_lab_says_so(tmp_path):
    res = subprocess.run([sys.executable, "-m", "lab", "inspect", "--state", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert res.returncode == 1
    assert "no lab is running" in res.stderr and "Traceback" not in res.stderr


def _dig(*args: str) -> str:
    if not shutil.which("dig"):
        pytest.skip("dig is not installed")
    return subprocess.run(["dig", *args], capture_output=True, text=True, timeout=20).stdout


def test_dig_mx_of_xutonglin(running_lab):
    _, desc, _ = running_lab
    dns = _service(desc, "public-dns", "dns", "udp")
    out = _dig(f"@{dns['loopback_ip']}", "-p", str(dns["port"]), "MX", "xutonglin.com")
    assert "status: NOERROR" in out
    assert "xutonglin.com.\t\t3600\tIN\tMX\t10 mail.xutonglin.com." in out
    flags = next(line for line in out.splitlines() if line.startswith(";; flags:"))
    assert " aa" in flags and " ad" not in flags


def test_dig_nxdomain_with_soa(running_lab):
    _, desc, _ = running_lab
    dns = _service(desc, "public-dns", "dns", "udp")
    out = _dig(f"@{dns['loopback_ip']}", "-p", str(dns["port"]), "A", "nothing-here.xutonglin.com")
    assert "status: NXDOMAIN" in out
    authority = out.split(";; AUTHORITY SECTION:")[1]
    assert "IN\tSOA\tns1.xutonglin.com. hostmaster.xutonglin.com." in authority


def test_no_listener_outside_loopback(running_lab):
    _, _, proc = running_lab
    if not shutil.which("ss"):
        pytest.skip("ss is not installed")
    out = subprocess.run(["ss", "-ltnup"], capture_output=True, text=True, timeout=20).stdout
    ours = [line for line in out.splitlines() if f"pid={proc.pid}," in line]
    assert ours, "ss shows the lab's listeners"
    for line in ours:
        local = line.split()[4]
        assert local.startswith("127."), line


def test_port_in_use_is_a_clear_error(tmp_path):
    block = _free_block()
    dns = block.replace("0.0/16", "0.1")
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind((dns, 5353))  # the DNS server's address and port in this block
    try:
        res = subprocess.run(
            [sys.executable, "-m", "lab", "up", str(TOPOLOGY), "--state", str(tmp_path), "--loopback-base",
             block, "--once"], cwd=ROOT, capture_output=True, text=True, timeout=60,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    finally:
        blocker.close()
    assert res.returncode == 1
    assert f"{dns}:5353" in res.stderr and "Traceback" not in res.stderr


def _smtp(desc: dict, host: str, port: int = 25) -> dict:
    for s in desc["services"]:
        if s["host"] == host and s["virtual_port"] == port and s["service"].startswith("smtp"):
            return s
    raise AssertionError(f"no SMTP endpoint {host}:{port}")


def _s_client(endpoint: dict, cafile: Path, hostname: str) -> subprocess.CompletedProcess:
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    return subprocess.run(
        ["openssl", "s_client", "-starttls", "smtp", "-connect", f"{endpoint['loopback_ip']}:{endpoint['port']}",
         "-CAfile", str(cafile), "-verify_hostname", hostname, "-verify_return_error", "-brief"],
        input="QUIT\r\n", capture_output=True, text=True, timeout=30)


def test_openssl_verifies_a_public_certificate(running_lab):
    state, desc, _ = running_lab
    res = _s_client(_smtp(desc, "ex01"), state / "trust" / "internet.pem", "mail.ixmsoft.com")
    assert res.returncode == 0, res.stderr
    assert "Verification: OK" in res.stderr
    assert "Verified peername: mail.ixmsoft.com" in res.stderr
    assert "Protocol version: TLSv1.2" in res.stderr  # Exchange 2016 stops at TLS 1.2


def test_openssl_rejects_an_internal_ca_certificate(running_lab):
    state, desc, _ = running_lab
    res = _s_client(_smtp(desc, "xutonglin-ex"), state / "trust" / "internet.pem", "mail.xutonglin.com")
    assert res.returncode != 0
    assert "certificate verify failed" in res.stderr
    assert "CN = xutonglin-DC-CA" in res.stderr  # the chain ends at the internal CA, not an Internet root


def _raw_session(endpoint: dict, lines: list[str]) -> list[str]:
    with socket.create_connection((endpoint["loopback_ip"], endpoint["port"]), timeout=10) as s:
        f = s.makefile("rwb")
        replies = [f.readline().decode().rstrip("\r\n")]
        for line in lines:
            f.write(line.encode() + b"\r\n")
            f.flush()
            while True:
                reply = f.readline().decode().rstrip("\r\n")
                replies.append(reply)
                if reply[3:4] != "-":
                    break
        return replies


def test_telnet_session_gets_the_exchange_banner_and_ehlo_lines(running_lab):
    _, desc, _ = running_lab
    replies = _raw_session(_smtp(desc, "mail1"), ["EHLO client.example.org", "QUIT"])
    banner, ehlo, bye = replies[0], replies[1:-1], replies[-1]
    assert banner.startswith("220 mail1.office26.com Microsoft ESMTP MAIL Service ready at ")
    # fidelity.md §1.2: Default Frontend, port 25, before STARTTLS (the client is internet-client)
    assert ehlo == [
        "250-mail1.office26.com Hello [203.0.113.50]",
        "250-SIZE 37748736",
        "250-PIPELINING",
        "250-DSN",
        "250-ENHANCEDSTATUSCODES",
        "250-STARTTLS",
        "250-X-ANONYMOUSTLS",
        "250-AUTH NTLM",
        "250-X-EXPS GSSAPI NTLM",
        "250-8BITMIME",
        "250-BINARYMIME",
        "250-CHUNKING",
        "250 XRDST",
    ]
    assert bye == "221 2.0.0 Service closing transmission channel"


def test_eop_mx_endpoint_takes_anonymous_mail_from(running_lab):
    _, desc, _ = running_lab
    replies = _raw_session(_smtp(desc, "eop"), ["EHLO relay.example.org", "MAIL FROM:<x@example.org>", "QUIT"])
    assert replies[0].startswith("220 AM5EUR02FT025.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready")
    assert "250-STARTTLS" in replies
    assert replies[-2] == "250 2.1.0 Sender OK"
