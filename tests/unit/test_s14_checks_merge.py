"""A script's ConsoleResult (lab.scenario.driver.block_result per block, script_result over the blocks, as both
drivers make it) is what the drivers' former merge of the blocks' RunResults made, verbatim below as the reference."""
from __future__ import annotations

import itertools
from typing import Any, Sequence

from lab.console.evaluator import RunResult
from lab.scenario.driver import ConsoleResult, block_result, script_result

_TEXTS = ["", "\n", "out", "out\n", "a\nb", "a\nb\n\n", "\u00e9"]
_ERRORS = [[], ["boom"], ["one", "two"]]


def merge(results: Sequence[Any]) -> ConsoleResult:
    """The reference: one ConsoleResult for the RunResults of a script's blocks."""
    output = "".join(r.output_text if r.output_text.endswith("\n") or not r.output_text else r.output_text + "\n"
                     for r in results)
    errors = tuple(e for r in results for e in r.errors)
    return ConsoleResult(output, errors, any(r.changed for r in results))


def _made(results: Sequence[RunResult]) -> ConsoleResult:
    return script_result([block_result(r.output_text, r.objects, r.errors, r.changed) for r in results])


def test_one_block_is_the_merge_of_its_run_result() -> None:
    for text, errors, changed in itertools.product(_TEXTS, _ERRORS, [False, True]):
        result = RunResult(text, [], list(errors), changed)
        made = _made([result])
        assert made == merge([result]) and type(made.changed) is bool
        assert type(made.errors) is tuple and made.output.endswith("\n") == bool(text)


def test_several_blocks_and_none() -> None:
    for blocks in itertools.product([RunResult(t, [], list(e), c) for t in _TEXTS[:4] for e in _ERRORS[:2]
                                     for c in (False, True)], repeat=2):
        assert _made(list(blocks)) == merge(blocks)
    a, b = RunResult("a", [], ["x"], False), RunResult("b\n", [], [], True)
    made = _made([a, b])
    assert (made.output, made.errors, made.changed) == ("a\nb\n", ("x",), True)
    assert _made([]) == merge([]) and _made([]).output == "" and _made([]).changed is False
