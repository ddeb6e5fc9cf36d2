"""bench/startup: time from `lab up` to every endpoint answering, against a bare import of the stack.

Run:  .venv/bin/python bench/startup.py [--reps 5] [--topology topology.yaml] [--json]

Both timings are taken in the same run, back to back, on the same machine:
- baseline: `python -c "import aiosmtpd, dnslib, cryptography, networkx, simpy"` (spawn to exit);
- lab: spawn `python -m lab up --state <tmp>` and poll until `endpoints.json` exists and every
  listed endpoint answers (an SMTP endpoint sends its 220 banner — or closes at once when the Internet client may not
  reach it —, the DNS server answers a query).
The figure is the ratio of the medians (target ≤ 2.0).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Both sides run as a user's shell would: with Python's bytecode cache on (some sandboxes set
# PYTHONDONTWRITEBYTECODE, which makes every run recompile the lab from source).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
BASELINE = "import aiosmtpd, dnslib, cryptography, networkx, simpy"


def time_baseline() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", BASELINE], check=True, env=ENV)
    return time.perf_counter() - t0


def _dns_answers(ip: str, port: int) -> bool:
    query = bytes.fromhex("abcd01000001000000000000") + b"\x07example\x03com\x00\x00\x01\x00\x01"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        try:
            s.sendto(query, (ip, port))
            return len(s.recv(512)) >= 12
        except OSError:
            return False


def _smtp_answers(ip: str, port: int) -> bool:
    """The endpoint is up: it sends its 220 banner, or closes at once because the Internet client
    (where 127.0.0.1 stands in the lab) may not reach it — both are answers of a running service."""
    try:
        with socket.create_connection((ip, port), timeout=0.5) as s:
            s.settimeout(1.0)
            data = s.recv(256)
            return data.startswith(b"220") or data == b""
    except OSError:
        return False


def _answers(endpoint: dict) -> bool:
    if endpoint["service"] == "dns":
        return endpoint["protocol"] != "udp" or _dns_answers(endpoint["loopback_ip"], endpoint["port"])
    return _smtp_answers(endpoint["loopback_ip"], endpoint["port"])


POOL = ThreadPoolExecutor(max_workers=32)


def time_lab(topology: str) -> tuple[float, int]:
    with tempfile.TemporaryDirectory(prefix="lab-bench-") as state:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "lab", "up", topology, "--state", state],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        try:
            endpoints = Path(state) / "endpoints.json"
            pending: list[dict] | None = None
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"lab up exited: {proc.stderr.read().decode()}")
                if pending is None and endpoints.exists():
                    try:
                        pending = json.loads(endpoints.read_text())["services"]
                    except (json.JSONDecodeError, KeyError):
                        pending = None
                if pending is not None:  # ask every endpoint at once: readiness, not the probes' own latency
                    answered = list(POOL.map(_answers, pending))
                    pending = [e for e, ok in zip(pending, answered) if not ok]
                    if not pending:
                        elapsed = time.perf_counter() - t0
                        count = len(json.loads(endpoints.read_text())["services"])
                        return elapsed, count
                time.sleep(0.005)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--topology", default=str(ROOT / "topology.yaml"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    time_baseline()  # warm the page cache and the bytecode cache of both
    time_lab(args.topology)
    base, lab, count = [], [], 0
    for _ in range(args.reps):
        base.append(time_baseline())
        t, count = time_lab(args.topology)
        lab.append(t)
    result = {
        "benchmark": "startup",
        "reps": args.reps,
        "endpoints": count,
        "baseline_import_s": round(statistics.median(base), 4),
        "lab_up_all_answering_s": round(statistics.median(lab), 4),
        "ratio": round(statistics.median(lab) / statistics.median(base), 2),
        "target_ratio": 2.0,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"baseline (bare import of the stack): {result['baseline_import_s']:.3f} s")
        print(f"lab up -> {count} endpoints answering: {result['lab_up_all_answering_s']:.3f} s")
        print(f"ratio: {result['ratio']} (target <= {result['target_ratio']})")


if __name__ == "__main__":
    main()
