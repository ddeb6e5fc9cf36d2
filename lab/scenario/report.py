"""Reports of scenario runs: text in colour (rich), JSON for machines, JUnit XML for CI."""
from __future__ import annotations

import json
from typing import Any, Sequence
from xml.etree import ElementTree as ET

from rich.console import Console
from rich.markup import escape

from lab.core.catalogue import lab as T
from lab.scenario.model import Step
from lab.scenario.runner import ScenarioResult, StepResult


def _marker(step: Step) -> str:
    return " \\[fix]" if step.fix else (" \\[workaround]" if step.workaround else "")


def show_step_intro(console: Console, step: Step, shell: str) -> None:
    """What a step is about to do: the narrative and the commands (``--step``)."""
    console.print(f"\n[bold cyan]Step {step.index + 1}{_marker(step)}[/] [dim]{escape(step.place)}[/]")
    if step.say:
        console.print(escape(step.say.strip()))
    if step.run:
        for line in step.run.strip().splitlines():
            console.print(f"  [yellow]\\[PS] {escape(step.shell or shell)}>[/] {escape(line)}")
    if step.send:
        s = step.send
        console.print(f"  [yellow]send[/] {escape(s.mail_from)} -> {escape(', '.join(s.to))} via "
                      f"{escape(s.server)}:{s.port} from {escape(s.source or T.OUTSIDE)}"
                      f"{' STARTTLS' if s.tls else ''}{' AUTH' if s.auth else ''}")
    if step.smtp:
        console.print(f"  [yellow]telnet[/] {escape(step.smtp.server)} {step.smtp.port} "
                      f"from {escape(step.smtp.source or T.OUTSIDE)}")
    if step.advance:
        console.print(f"  [yellow]advance lab time[/] {step.advance:g} s")


def show_step_result(console: Console, result: StepResult, verbose: bool = False) -> None:
    """A step's outcome: output, transcript, checks (failed ones with expected vs got and the trace)."""
    if verbose and result.console and result.console.output.strip():
        console.print(f"[dim]{escape(result.console.output.rstrip())}[/]")
    if verbose and result.transcript:
        for line in result.transcript:
            style = "green" if line.startswith("S: 2") or line.startswith("S: 3") else \
                ("red" if line.startswith("S: 4") or line.startswith("S: 5") or line.startswith("*") else "white")
            console.print(f"    [{style}]{escape(line)}[/]")
    if result.error:
        console.print(f"  [bold red]{T.STEP_ERROR}[/] {escape(result.error)}")
    for c in result.checks:
        if c.ok:
            console.print(f"  [green]✔[/] {escape(c.expected)}")
        else:
            console.print(f"  [bold red]✘ {T.EXPECTED}[/] {escape(c.expected)}")
            console.print(f"    [red]{T.GOT}[/] {escape(c.got)}")
            console.print(f"    [dim]{escape(c.expectation.place)}[/]")
    if result.trace and not result.ok:
        console.print(f"    [magenta]{T.TRACE}[/]")
        for line in result.trace:
            console.print(f"      {escape(line)}")


def show_result(console: Console, result: ScenarioResult, verbose: bool = False) -> None:
    """A scenario's run as text."""
    s = result.scenario
    console.print(f"\n[bold]{escape(s.stem)}[/] — {escape(s.title)} [dim]({escape(s.article)}, "
                  f"{result.driver} driver)[/]")
    if result.error:
        console.print(f"  [bold red]{escape(result.error)}[/]")
    for step in result.steps:
        if verbose or not step.ok:
            show_step_intro(console, step.step, s.shell)
            show_step_result(console, step, verbose)
    verdict = "[bold green]PASS[/]" if result.ok else "[bold red]FAIL[/]"
    checks = sum(len(r.checks) for r in result.steps)
    console.print(f"  {verdict} {len(result.steps)} steps, {checks} checks, {result.seconds:.2f} s")


def to_json(results: Sequence[ScenarioResult]) -> dict[str, Any]:
    """Every run as plain data."""
    def step(r: StepResult) -> dict[str, Any]:
        return {"index": r.step.index, "place": r.step.place, "say": r.step.say, "shell": r.shell,
                "run": r.step.run, "fix": r.step.fix, "workaround": r.step.workaround,
                "output": r.console.output if r.console else None,
                "errors": list(r.console.errors) if r.console else [],
                "reply": r.send_reply, "accepted": r.accepted, "transcript": list(r.transcript),
                "checks": [{"expectation": c.expectation.describe(), "ok": c.ok, "expected": c.expected,
                            "got": c.got, "place": c.expectation.place} for c in r.checks],
                "trace": r.trace, "error": r.error, "ok": r.ok, "seconds": round(r.seconds, 4)}
    return {"ok": all(r.ok for r in results),
            "scenarios": [{"name": r.scenario.name, "file": r.scenario.file, "title": r.scenario.title,
                           "article": r.scenario.article, "driver": r.driver, "ok": r.ok, "error": r.error,
                           "seconds": round(r.seconds, 4), "smtp_sessions": r.smtp_sessions,
                           "steps": [step(s) for s in r.steps]} for r in results]}


def dumps(results: Sequence[ScenarioResult]) -> str:
    return json.dumps(to_json(results), ensure_ascii=False, indent=2)


def to_junit(results: Sequence[ScenarioResult]) -> str:
    """JUnit XML: one testsuite per driver, one testcase per scenario."""
    root = ET.Element("testsuites")
    for driver in dict.fromkeys(r.driver for r in results):
        mine = [r for r in results if r.driver == driver]
        suite = ET.SubElement(root, "testsuite", name=f"scenarios ({driver})", tests=str(len(mine)),
                              failures=str(sum(1 for r in mine if not r.ok)), errors="0",
                              time=f"{sum(r.seconds for r in mine):.3f}")
        for r in mine:
            case = ET.SubElement(suite, "testcase", classname=f"scenarios.{driver}", name=r.scenario.stem,
                                 time=f"{r.seconds:.3f}")
            if r.ok:
                continue
            lines = [r.error] if r.error else []
            for s in r.steps:
                if s.error:
                    lines.append(f"step {s.step.index + 1} ({s.step.place}): {s.error}")
                for c in s.failed:
                    lines.append(f"step {s.step.index + 1} ({c.expectation.place}): {T.EXPECTED} {c.expected}\n"
                                 f"  {T.GOT} {c.got}")
                lines += [f"  {T.TRACE} {t}" for t in s.trace] if not s.ok else []
            failure = ET.SubElement(case, "failure", message=(lines[0].splitlines()[0] if lines else "failed"))
            failure.text = "\n".join(lines)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
