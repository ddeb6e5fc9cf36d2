"""Rendering probe results and differences: rich tables with traces, JSON, JUnit XML."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Sequence

from lab.core.catalogue import probes as T
from lab.probes.diff import Diff
from lab.probes.evaluate import ProbeResult
from lab.probes.outcome import Outcome


def check_table(results: Sequence[ProbeResult], title: str) -> Any:
    """PASS/FAIL, probe, expected, got."""
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=title, title_justify="left")
    for column in T.CHECK_COLUMNS:
        table.add_column(column, overflow="fold")
    for r in results:
        mark = f"[green]{T.PASS_MARK}[/]" if r.passed else f"[red]{T.FAIL_MARK}[/]"
        table.add_row(mark, _esc(r.probe.name), _esc(r.probe.expect.describe()), _esc(r.outcome.describe()))
    return table


def failure_traces(results: Sequence[ProbeResult]) -> list[str]:
    """For every failed probe: where it is written, its flow, and the trace of what happened."""
    lines: list[str] = []
    for r in results:
        if r.passed:
            continue
        lines.append(T.TRACE_HEADING.format(name=r.probe.name, outcome=r.outcome.describe()))
        lines.append(f"  {r.probe.place}: {r.probe.flow.describe()}")
        lines += [f"    {line}" for line in r.outcome.trace]
    return lines


def diff_table(diff: Diff, title: str) -> Any:
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=title, title_justify="left")
    for column in T.DIFF_COLUMNS:
        table.add_column(column, overflow="fold")
    for c in diff.changes:
        table.add_row(c.kind, _esc(c.flow.describe()), _esc(_describe(c.before)), _esc(_describe(c.after)))
    return table


def diff_traces(diff: Diff) -> list[str]:
    lines: list[str] = []
    for c in diff.changes:
        lines.append(f"{c.kind}: {c.flow.id}")
        for label, outcome in (("before", c.before), ("after", c.after)):
            if outcome is None:
                continue
            lines.append(f"  {label}: {outcome.describe()}")
            lines += [f"    {line}" for line in outcome.trace]
    return lines


def diff_summary(diff: Diff) -> str:
    if not diff.changes:
        return T.DIFF_NONE.format(count=diff.evaluated)
    return T.DIFF_SUMMARY.format(count=diff.evaluated, broke=diff.count(T.BROKE), fixed=diff.count(T.FIXED),
                                 changed=diff.count(T.CHANGED), added=diff.count(T.ADDED),
                                 removed=diff.count(T.REMOVED))


def junit(results: Sequence[ProbeResult], suite: str) -> bytes:
    """JUnit XML: one testcase per probe; a failure carries the expectation, the outcome and the trace."""
    failures = sum(1 for r in results if not r.passed)
    root = ET.Element("testsuites", tests=str(len(results)), failures=str(failures))
    node = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)), failures=str(failures))
    for r in results:
        case = ET.SubElement(node, "testcase", classname=suite, name=r.probe.name)
        if not r.passed:
            failure = ET.SubElement(case, "failure", message=f"{r.probe.expect.describe()} / {r.outcome.describe()}")
            failure.text = "\n".join((r.probe.flow.describe(), *r.outcome.trace))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _describe(outcome: Outcome | None) -> str:
    return outcome.describe() if outcome else ""


def _esc(text: str) -> str:
    from rich.markup import escape  # noqa: PLC0415

    return escape(text)
