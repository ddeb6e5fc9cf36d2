"""_skip takes n numbers of a timer sequence at once: what n calls of next() take."""
from __future__ import annotations

import itertools

import pytest

from lab.memory.transport import _skip


@pytest.mark.parametrize("n", [-1, 0, 1, 2, 3, 7, 50])
def test_skip_is_n_nexts(n):
    by_loop, by_skip = itertools.count(5), itertools.count(5)
    for _ in range(n):
        next(by_loop)
    _skip(by_skip, n)
    assert next(by_skip) == next(by_loop)
