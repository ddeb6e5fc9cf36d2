"""Long runs (a flow matrix, a batch of scenarios) and the cyclic garbage collector."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def spared() -> Iterator[None]:
    """Keep every object that exists now out of the cyclic garbage collector until the block ends.

    What a long run finds (modules, the loaded world and its PKI, a matrix's flows, the pure
    memos, whatever an earlier run in this process left: up to hundreds of thousands of objects,
    most of them outliving the run) is then not walked again by each full collection the run's
    own objects trigger: those look only at what the run made (and forked workers do not touch,
    hence copy, the pages of what was found). Only garbage cycles older than the block wait for
    its end to be collected. The collector is left as it was found: not touched when it is
    disabled or something else froze objects.
    """
    freeze = gc.isenabled() and gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        yield
    finally:
        if freeze:
            gc.unfreeze()
