"""bench/scenarios: every scenario on the live driver vs the memory driver vs raw STARTTLS sessions.

Run:  .venv/bin/python bench/scenarios.py [--reps 3] [--json] [--no-warmup] [--dir SCENARIOS]

Everything runs in this one process (no ``lab`` subprocesses, so no interpreter start-up in any
figure), and in every repetition, in this order:

- live: ``lab.scenario.play.run_many(all scenarios, "live", quiet=True)``, the very call
  ``lab scenario run --all --driver live`` makes (each scenario starts its own loopback lab on a
  background loop, runs, stops it). Wall time around the whole call.
- memory: the same call with ``"memory"`` (same scenarios, no sockets).
- memory again, twice more in a row: the third run's time is reported as the memory driver's
  steady figure, for information only. A run straight after a live run measures slower (on this
  project's 2-vCPU VM, ~20% in a probe at stop 16: the live run leaves caches, allocator and the
  interpreter's specialised code in its own state); the target is judged on the run straight after live.
- baseline: ``bench.throughput.baseline(n, reuse=False)`` (imported, the shape of
  ../shared/research/baselines/bench_smtp.py inproc: aiosmtpd sink + aiosmtplib on one loop,
  new connection + EHLO + STARTTLS + EHLO + MAIL/RCPT/DATA + QUIT per session, EC P-256
  certificate) with n = the SMTP sessions the live run opened. Seconds = n / its rate.

Counting the live run's SMTP sessions. Server side, and that is the figure: every lab SMTP
listener (Exchange receive connectors and EOP endpoints) is an ``aiosmtpd`` protocol of class
``LabSMTP`` (or its subclass ``_EopSMTP``), one instance per accepted TCP connection; its first
``connection_made`` is recorded, whoever dialled: the scenario runner's own client, the console's
cmdlets (Send-MailMessage, telnet), Exchange send connectors and EOP's outbound delivery (the
server-to-server hops), probes. Connections the listener drops before its banner (the network
model says the peer cannot reach it) are counted too, and shown apart. Client side, only to say
WHO opened each session: ``aiosmtplib.SMTP.connect`` and ``asyncio.open_connection`` are wrapped
to note the calling lab module and the socket's local address, matched to the server's peer
address; failed dials (nothing accepted) are listed apart and are not sessions. The runner's own
``ScenarioResult.smtp_sessions`` (one per send/smtp step) is shown for comparison: it misses the
hops. The memory run is watched the same way and must open no TCP session.

Medians over ``--reps`` repetitions (default 3), after one untimed warm-up repetition (imports,
first-use code paths) unless ``--no-warmup``. Targets: live / baseline <= 3, memory speed-up
(live / memory) >= 20. Prints a text report, or one JSON object with ``--json``. Exit 1 when a
scenario fails or the session count changes between repetitions (the figures would mean little).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throughput import baseline  # noqa: E402

TARGET_RATIO, TARGET_SPEEDUP = 3.0, 20.0
STEADY_AFTER = 2  # memory runs after the timed one; the last of them is the steady figure

#: The lab module that dialled -> who that is.
PARTIES = (
    ("lab.scenario.live_client", "scenario runner (send/smtp steps)"),
    ("lab.console.", "console cmdlets (Send-MailMessage, telnet, ...)"),
    ("lab.adapters.smtp_client", "Exchange send connectors (server-to-server)"),
    ("lab.adapters.eop", "EOP outbound (server-to-server)"),
    ("lab.probes.", "probes"),
)
SKIP = ("asyncio", "aiosmtplib", __name__)


# ---------------------------------------------------------------- counting
@dataclass
class Tally:
    """What one driver run opened: server protocols (one per accepted TCP connection) and client dials."""

    servers: list[Any] = field(default_factory=list)
    dials: list[tuple[str, tuple[str, int] | None, str]] = field(default_factory=list)  # party, sockname, error

    def summary(self) -> dict[str, Any]:
        by_sock = {sock: party for party, sock, _ in self.dials if sock is not None}
        parties: Counter[str] = Counter()
        listeners: Counter[str] = Counter()
        greeted = tls = 0
        for proto in self.servers:
            parties[by_sock.get(proto._bench_peer, "unattributed (no wrapped client dialled it)")] += 1
            listeners["EOP endpoints" if type(proto).__name__ == "_EopSMTP" else "Exchange receive connectors"] += 1
            greeted += proto.core is not None
            tls += proto._tls_protocol is not None
        return {"sessions": len(self.servers), "greeted": greeted, "dropped_before_banner": len(self.servers) - greeted,
                "starttls": tls, "by_party": dict(parties.most_common()), "by_listener": dict(listeners.most_common()),
                "failed_dials": len([d for d in self.dials if d[1] is None]),
                "client_dials_accepted": len([d for d in self.dials if d[1] is not None])}


ACTIVE: list[Tally] = []  # the tally of the run in progress (empty between runs)


def _party(frame: Any) -> str:
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(SKIP):
            for prefix, label in PARTIES:
                if module.startswith(prefix):
                    return label
            return module
        frame = frame.f_back
    return "?"


def _sockname(transport: Any) -> tuple[str, int] | None:
    name = transport.get_extra_info("sockname") if transport is not None else None
    return (name[0], name[1]) if name else None


def install_counters() -> None:
    """Wrap the lab's SMTP listeners (server side) and the two ways lab code dials (client side)."""
    import aiosmtplib
    from lab.adapters.smtp_server import LabSMTP

    made = LabSMTP.connection_made

    def connection_made(self: Any, transport: Any) -> None:
        if ACTIVE and not hasattr(self, "_bench_peer"):  # the first call: the TCP accept (not STARTTLS)
            peer = transport.get_extra_info("peername")
            self._bench_peer = (peer[0], peer[1]) if peer else None
            ACTIVE[0].servers.append(self)
        made(self, transport)

    LabSMTP.connection_made = connection_made  # type: ignore[method-assign]

    def dialled(party: str, coro: Any, transport_of: Callable[[Any], Any]) -> Any:
        async def run() -> Any:
            try:
                result = await coro
            except BaseException as exc:
                if ACTIVE:
                    ACTIVE[0].dials.append((party, None, type(exc).__name__))
                raise
            if ACTIVE:
                ACTIVE[0].dials.append((party, _sockname(transport_of(result)), ""))
            return result
        return run()

    connect = aiosmtplib.SMTP.connect

    def smtp_connect(self: Any, *args: Any, **kwargs: Any) -> Any:
        return dialled(_party(sys._getframe(1)), connect(self, *args, **kwargs), lambda _: self.transport)

    aiosmtplib.SMTP.connect = smtp_connect  # type: ignore[method-assign]
    open_connection = asyncio.open_connection

    def counted_open_connection(*args: Any, **kwargs: Any) -> Any:
        return dialled(_party(sys._getframe(1)), open_connection(*args, **kwargs), lambda rw: rw[1].transport)

    asyncio.open_connection = counted_open_connection  # type: ignore[assignment]


# ---------------------------------------------------------------- one repetition
def run_driver(scenarios: list[Any], driver: str) -> dict[str, Any]:
    from lab.scenario import play

    tally = Tally()
    ACTIVE.append(tally)
    try:
        t0 = time.perf_counter()
        results = play.run_many(scenarios, driver, quiet=True)
        secs = time.perf_counter() - t0
    finally:
        ACTIVE.clear()
    return {"secs": secs, "in_runner_secs": sum(r.seconds for r in results),
            "failed": [r.scenario.stem for r in results if not r.ok] + ([] if len(results) == len(scenarios)
                                                                        else ["(run interrupted)"]),
            "runner_smtp_sessions": sum(r.smtp_sessions for r in results), "count": tally.summary()}


def repetition(scenarios: list[Any]) -> dict[str, Any]:
    live = run_driver(scenarios, "live")
    memory = run_driver(scenarios, "memory")
    steady = [run_driver(scenarios, "memory") for _ in range(STEADY_AFTER)][-1]
    n = live["count"]["sessions"]
    base = n / asyncio.run(baseline(n, reuse=False)) if n else 0.0
    return {"live": live, "memory": memory, "memory_steady": steady, "baseline_secs": base, "sessions": n}


def run(reps: int, warmup: bool, directory: str | None) -> dict[str, Any]:
    from lab.scenario import catalog

    install_counters()
    scenarios = catalog.load_all(catalog.scenario_dir(directory or ROOT / "scenarios"))
    if warmup:
        repetition(scenarios)
    runs = [repetition(scenarios) for _ in range(reps)]
    med = statistics.median
    live, memory, base = (med(r["live"]["secs"] for r in runs), med(r["memory"]["secs"] for r in runs),
                          med(r["baseline_secs"] for r in runs))
    steady = med(r["memory_steady"]["secs"] for r in runs)
    sessions = [r["sessions"] for r in runs]
    ratio = live / base if base else float("inf")
    speedup = live / memory if memory else float("inf")
    failed = sorted({f"{s} ({d})" for r in runs for d in ("live", "memory", "memory_steady") for s in r[d]["failed"]})
    return {
        "bench": "scenarios/live-vs-memory-vs-starttls-baseline",
        "in_process": True,
        "scenarios": len(scenarios), "reps": reps, "warmup": warmup,
        "live_secs": round(live, 4), "memory_secs": round(memory, 4),
        "sessions": sessions[0], "sessions_stable": len(set(sessions)) == 1,
        "baseline_secs": round(base, 4),
        "ratio_live_vs_baseline": round(ratio, 2), "speedup_live_vs_memory": round(speedup, 1),
        "memory_steady_secs": round(steady, 4),
        "speedup_live_vs_memory_steady": round(live / steady, 1) if steady else float("inf"),
        "targets": {"ratio": f"<= {TARGET_RATIO}", "speedup": f">= {TARGET_SPEEDUP}",
                    "ratio_met": ratio <= TARGET_RATIO, "speedup_met": speedup >= TARGET_SPEEDUP},
        "live_in_runner_secs": round(med(r["live"]["in_runner_secs"] for r in runs), 4),
        "memory_in_runner_secs": round(med(r["memory"]["in_runner_secs"] for r in runs), 4),
        "count": runs[0]["live"]["count"],
        "runner_smtp_sessions": runs[0]["live"]["runner_smtp_sessions"],
        "memory_tcp_sessions": max(r[d]["count"]["sessions"] + r[d]["count"]["client_dials_accepted"]
                                   for r in runs for d in ("memory", "memory_steady")),
        "failed_scenarios": failed,
        "runs": [{"live_secs": round(r["live"]["secs"], 4), "memory_secs": round(r["memory"]["secs"], 4),
                  "memory_steady_secs": round(r["memory_steady"]["secs"], 4),
                  "baseline_secs": round(r["baseline_secs"], 4), "sessions": r["sessions"]} for r in runs],
    }


def text_report(r: dict[str, Any]) -> str:
    c, t = r["count"], r["targets"]
    lines = [
        f"scenarios: all {r['scenarios']} (lab.scenario.play.run_many, in-process: no interpreter start-up), "
        f"median of {r['reps']} reps{' after a warm-up' if r['warmup'] else ''}",
        f"  live driver     {r['live_secs']:8.3f} s   (inside the runner {r['live_in_runner_secs']:.3f} s; "
        f"the rest is starting/stopping {r['scenarios']} loopback labs)",
        f"  memory driver   {r['memory_secs']:8.3f} s   (inside the runner {r['memory_in_runner_secs']:.3f} s; "
        f"TCP sessions opened: {r['memory_tcp_sessions']})",
        f"  SMTP sessions (live, TCP accepted by a lab listener) {r['sessions']}"
        f"{'' if r['sessions_stable'] else '  (CHANGED between reps: ' + str([x['sessions'] for x in r['runs']]) + ')'}",
        f"    {c['greeted']} greeted, {c['dropped_before_banner']} dropped before the banner, "
        f"{c['starttls']} began STARTTLS; {c['failed_dials']} failed dials not counted",
        *(f"    {n:4d}  {who}" for who, n in c["by_party"].items()),
        f"    (the runner's own count, one per send/smtp step, dialled or not, no hops: {r['runner_smtp_sessions']})",
        f"  baseline        {r['baseline_secs']:8.3f} s   ({r['sessions']} x new connection + STARTTLS + 1 message, "
        "aiosmtpd + aiosmtplib, one loop, EC P-256)",
        f"  live / baseline {r['ratio_live_vs_baseline']:8.2f}     target <= {TARGET_RATIO:g}  "
        f"{'MET' if t['ratio_met'] else 'NOT MET'}",
        f"  live / memory   {r['speedup_live_vs_memory']:8.1f} x   target >= {TARGET_SPEEDUP:g}  "
        f"{'MET' if t['speedup_met'] else 'NOT MET'}",
        f"    (for information: the memory run's steady figure, the {STEADY_AFTER + 1}rd run in a row, "
        f"{r['memory_steady_secs']:.3f} s: live / it {r['speedup_live_vs_memory_steady']:.1f} x; the target is judged "
        "on the run straight after live)",
    ]
    if r["failed_scenarios"]:
        lines.append(f"  FAILED scenarios: {', '.join(r['failed_scenarios'])} (figures not comparable)")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3, help="repetitions; the figures are medians (default 3)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--no-warmup", dest="warmup", action="store_false", help="skip the untimed warm-up repetition")
    ap.add_argument("--dir", default=None, help="the scenarios directory (default: the lab's own)")
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    report = run(args.reps, args.warmup, args.dir)
    print(json.dumps(report) if args.json else text_report(report))
    return 1 if report["failed_scenarios"] or not report["sessions_stable"] else 0


if __name__ == "__main__":
    sys.exit(main())
