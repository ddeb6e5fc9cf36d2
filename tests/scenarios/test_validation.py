"""Broken scenario files: every problem named with file:line, exit code 2 from the CLI."""
from __future__ import annotations

import subprocess

import pytest

from scenario_support import SCENARIOS, lab_argv
from lab.core.errors import ConfigErrors
from lab.scenario.load import duration, load_scenario
from lab.scenario.schema import SCHEMA

GOOD = """\
name: demo
title: a demo
article: 003_69fde0b8a435861c.txt
summary: demo
shell: contoso-ex
steps:
  - say: hello
    run: Get-Queue
    fix: true
    expect:
      - output: Submission
"""


def _errors(tmp_path, text: str, name: str = "01-demo.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigErrors) as info:
        load_scenario(path)
    return [str(e) for e in info.value.errors]


def test_a_good_file_loads(tmp_path):
    path = tmp_path / "01-demo.yaml"
    path.write_text(GOOD, encoding="utf-8")
    s = load_scenario(path)
    assert s.name == "demo" and s.steps[0].fix and s.steps[0].expect[0].args == {"contains": ("Submission",)}


@pytest.mark.parametrize("broken, line, words", [
    (GOOD.replace("title: a demo\n", ""), None, "missing required key 'title'"),
    (GOOD.replace("    run: Get-Queue\n", "    run: Get-Queue\n    sned: {}\n"), 9, "unknown key 'sned'"),
    (GOOD.replace("      - output: Submission", "      - delivred: {to: a@b.c}"), 11, "unknown expectation 'delivred'"),
    (GOOD.replace("    fix: true\n", "    fix: true\n    advance: soon\n"), 10, "not a duration"),
    (GOOD.replace("      - output: Submission", "      - rejected: {reply: 550}"), 10, "the step sends nothing"),
    (GOOD.replace("    run: Get-Queue\n", "    run: Get-Queue\n    send: {from: a@b.c}\n"), 9, "send needs `to`"),
    (GOOD.replace("name: demo", "name: Demo_1"), 1, "lower-case"),
    (GOOD.replace("article: 003_69fde0b8a435861c.txt", "article: 999.txt"), 3, "no source article"),
    (GOOD.replace("    run: Get-Queue\n", ""), 7, "must run the article's cmdlet line"),
])
def test_each_problem_names_its_line(tmp_path, broken, line, words):
    errors = _errors(tmp_path, broken)
    hit = [e for e in errors if words in e]
    assert hit, errors
    if line is not None:
        assert f"01-demo.yaml:{line}" in hit[0], hit[0]


def test_all_problems_in_one_pass(tmp_path):
    text = GOOD.replace("title: a demo\n", "").replace("      - output: Submission", "      - nope: 1")
    errors = _errors(tmp_path, text)
    assert len(errors) >= 2


def test_name_must_match_the_file(tmp_path):
    assert any("does not match the file name" in e for e in _errors(tmp_path, GOOD, "07-other.yaml"))


def test_yaml_syntax_error_has_a_line(tmp_path):
    path = tmp_path / "01-demo.yaml"
    path.write_text(GOOD + "  - [unclosed\n", encoding="utf-8")
    with pytest.raises(Exception) as info:
        load_scenario(path)
    assert "01-demo.yaml:" in str(info.value)


def test_durations():
    assert duration("4h") == 14400 and duration("2d") == 172800 and duration("1h30m") == 5400
    assert duration(90) == 90 and duration("soon") is None and duration(-1) is None and duration(True) is None


def test_cli_validate_exits_2_with_file_line(tmp_path):
    bad = tmp_path / "01-demo.yaml"
    bad.write_text(GOOD.replace("      - output: Submission", "      - delivred: {to: a@b.c}"), encoding="utf-8")
    proc = subprocess.run(lab_argv("scenario", "validate", str(bad)), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "01-demo.yaml:11" in proc.stderr and "unknown expectation 'delivred'" in proc.stderr


def test_cli_run_with_a_broken_directory_exits_2(tmp_path):
    (tmp_path / "01-demo.yaml").write_text(GOOD.replace("shell: contoso-ex\n", "shell: 3\n"), encoding="utf-8")
    proc = subprocess.run(lab_argv("scenario", "run", "--all", "--dir", str(tmp_path)), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "shell must be a string" in proc.stderr


def test_the_repository_scenarios_validate_and_the_schema_lists_every_key():
    proc = subprocess.run(lab_argv("scenario", "validate", "--dir", str(SCENARIOS)), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    step = SCHEMA["properties"]["steps"]["items"]["properties"]
    assert set(step) == {"say", "shell", "run", "send", "smtp", "advance", "expect", "fix", "workaround"}
