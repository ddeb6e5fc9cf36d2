"""Stop 14: a script of one block is merged as the general merge of any number of blocks merges it."""
from __future__ import annotations

import itertools

from lab.console.evaluator import RunResult
from lab.scenario.live_driver import _merge_all, merge

_TEXTS = ["", "\n", "out", "out\n", "a\nb", "a\nb\n\n", "\u00e9"]
_ERRORS = [[], ["boom"], ["one", "two"]]


def test_one_block_merges_as_the_general_merge() -> None:
    for text, errors, changed in itertools.product(_TEXTS, _ERRORS, [False, True, 0, 1]):
        result = RunResult(text, [], list(errors), changed)  # type: ignore[arg-type]
        one, general = merge([result]), _merge_all([result])
        assert one == general and type(one.changed) is type(general.changed) is bool
        assert type(one.errors) is tuple and one.output.endswith("\n") == bool(text)


def test_several_blocks_and_none() -> None:
    a, b = RunResult("a", [], ["x"], False), RunResult("b\n", [], [], True)
    merged = merge([a, b])
    assert (merged.output, merged.errors, merged.changed) == ("a\nb\n", ("x",), True)
    assert merge([]) == _merge_all([]) and merge([]).output == "" and merge([]).changed is False
