"""bench/matrix: flow-matrix probes evaluated per second on the in-memory driver.

Run:  .venv/bin/python bench/matrix.py [--sizes 5x50,10x100,50x1000] [--sample N] [--jobs N] [--json]

A size ``DxM`` is a generated world of D mail domains (one Exchange 2016 organization each, on
the public network of the lab, its MX and A records in the public DNS, a certificate from one
public CA) and M mailboxes spread over them, plus one Internet client. The matrix of that world
(lab.probes.matrix.generate: every mailbox x one recipient per domain x its server's 25 and 587,
the client x every domain's MX) is generated, then all of it (or, with ``--sample N``, N flows
drawn at random with a fixed seed: the same mix of outcomes in expectation) is evaluated without
transcripts by
``lab.probes.matrix.evaluate``, as ``lab diff`` / ``lab rehearse`` do: in blocks of
``matrix.BLOCK`` flows, each block in a fresh shared MemoryLab, the blocks shared out among
``--jobs`` worker processes (default: one per CPU, as ``lab diff`` does), and then again in this
one process alone (``jobs=1``; run second, so neither run finds the other's memos warm). The
figures are flows evaluated per second, both shown; the target is judged on the first (what
``lab diff`` gives on this machine). Generation and world building are reported apart.

The rate depends on the mix of outcomes (a bounce builds and queues a DSN; a rejection ends at
RCPT), so a sample must keep the matrix's mix: an evenly spaced one does not (every 57th flow of
the 50x1000 matrix bounced 1% of the time, the matrix 15%, and ran ~1.5x faster).
Target: >= 5,000 probes/s at 50x1000.

When bench/matrix_world.py (the driver engineer's generator) exists, its ``generate(domains,
mailboxes)`` -> topology text is used instead of the one here.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def generate(domains: int, mailboxes: int) -> str:
    """The topology text of a generated world (see the module docstring)."""
    lines = ["name: matrix-bench", "settings:", "  outside_host: client", "  key_type: ec", "topology:", "  networks:",
             "    internet: {kind: public, cidrs: [100.64.0.0/16, 192.0.2.0/24]}", "  nodes:",
             "    dns: {kind: dns, interfaces: {internet: 192.0.2.2}}",
             "    client: {kind: client, interfaces: {internet: 192.0.2.50}}"]
    for d in range(domains):
        lines += [f"    ex{d}:", "      kind: exchange", f"      org: org{d}", "      version: 2016",
                  f"      fqdn: mail.d{d}.example", f"      interfaces: {{internet: 100.64.{d}.10}}",
                  f"      certificates: [cert{d}]"]
    lines += ["dns:", "  server: dns", "  zones:"]
    for d in range(domains):
        lines += [f"    d{d}.example:", "      records:",
                  f"        - {{name: mail, type: A, value: 100.64.{d}.10}}",
                  f"        - {{name: \"@\", type: MX, preference: 10, value: mail.d{d}.example}}"]
    lines += ["pki:", "  authorities:",
              "    - {name: root, kind: root, common_name: Bench Root, trusted_by: [internet], valid_from: \"2020-01-01\", "
              "valid_days: 7300}", "  certificates:"]
    for d in range(domains):
        lines.append(f"    - {{name: cert{d}, issuer: root, common_name: mail.d{d}.example, sans: [mail.d{d}.example], "
                     f"valid_from: \"2026-01-01\", valid_days: 365, services: [SMTP]}}")
    lines.append("organizations:")
    for d in range(domains):
        lines += [f"  org{d}:", "    accepted_domains:", f"      - {{DomainName: d{d}.example, Default: true}}",
                  "    mailboxes:"]
        for m in range(d, mailboxes, domains):
            lines.append(f"      - {{Name: u{m}, PrimarySmtpAddress: u{m}@d{d}.example, Password: pw, Server: ex{d}}}")
        lines += ["    send_connectors:", f"      - {{Name: Internet, AddressSpaces: [\"SMTP:*;1\"], "
                                           f"SourceTransportServers: [ex{d}]}}"]
    return "\n".join(lines) + "\n"


def _generator():
    path = REPO / "bench" / "matrix_world.py"
    if not path.exists():
        return generate
    spec = importlib.util.spec_from_file_location("matrix_world", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, "generate", generate)


def measure(domains: int, mailboxes: int, sample: int, jobs: int) -> dict:
    from lab.probes.matrix import evaluate, generate as flows_of
    from lab.probes.memory_driver import MemoryDriver
    from lab.probes.worlds import load

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "world.yaml"
        path.write_text(_generator()(domains, mailboxes), encoding="utf-8")
        started = time.perf_counter()
        loaded = load(path)
        built = time.perf_counter() - started
    started = time.perf_counter()
    flows = flows_of(loaded.world)
    generated = time.perf_counter() - started
    chosen = random.Random(0).sample(flows, sample) if 0 < sample < len(flows) else flows
    seconds, answers = [], []
    for workers in (jobs, 1):
        driver = MemoryDriver(loaded.world, loaded.trust, loaded.start, shared=True, record=False)
        started = time.perf_counter()
        answers.append(evaluate(chosen, driver, jobs=workers))
        seconds.append(time.perf_counter() - started)
    if answers[0] != answers[1]:
        sys.exit(f"{domains}x{mailboxes}: the outcomes with {jobs} jobs differ from those in one process")
    kinds: dict[str, int] = {}
    for _, outcome in answers[0].values():
        kinds[outcome.kind] = kinds.get(outcome.kind, 0) + 1
    return {"domains": domains, "mailboxes": mailboxes, "matrix_flows": len(flows), "evaluated": len(chosen),
            "jobs": jobs, "seconds": round(seconds[0], 3), "probes_per_second": round(len(chosen) / seconds[0], 1),
            "seconds_one_process": round(seconds[1], 3),
            "probes_per_second_one_process": round(len(chosen) / seconds[1], 1),
            "generate_seconds": round(generated, 3), "build_seconds": round(built, 3), "outcomes": kinds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5x50,10x100,50x1000", help="DOMAINSxMAILBOXES, comma-separated")
    parser.add_argument("--sample", type=int, default=0,
                        help="flows evaluated per size, drawn at random with a fixed seed (default 0: the whole matrix)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per CPU)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from lab.probes.matrix import available_cpus
    jobs = args.jobs or available_cpus()
    rows = [measure(*(int(x) for x in size.split("x")), args.sample, jobs) for size in args.sizes.split(",")]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'world':>10} {'matrix':>8} {'evaluated':>9} {'probes/s':>9} {'1 process':>9} {'generate':>9} "
          f"{'build':>7}  outcomes")
    for r in rows:
        print(f"{r['domains']:>4}x{r['mailboxes']:<5} {r['matrix_flows']:>8} {r['evaluated']:>9} "
              f"{r['probes_per_second']:>9} {r['probes_per_second_one_process']:>9} {r['generate_seconds']:>8}s "
              f"{r['build_seconds']:>6}s  {r['outcomes']}")
    world = "bench/matrix.py" if _generator() is generate else "bench/matrix_world.py"
    print(f"world: generated by {world}'s generate(domains, mailboxes)")
    print(f"probes/s: {jobs} worker process(es) (lab diff's default here: one per CPU); 1 process: jobs=1")
    print("target: >= 5000 probes/s at 50x1000")


if __name__ == "__main__":
    main()
