"""policy.iso_ms writes the fields itself: the same text as the strftime pattern it replaces."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from lab.core.eop.policy import iso_ms


def _strftime(now: datetime) -> str:
    now = now.astimezone(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def test_iso_ms_is_the_strftime_text():
    rng = random.Random(17)
    instants = [datetime(2023, 6, 22, 8, 26, 31, 592999, tzinfo=timezone.utc),
                datetime(1000, 1, 1, 0, 0, 0, 0, tzinfo=timezone.utc),
                datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
                datetime(9999, 12, 31, 12, 0, 0, 1000, tzinfo=timezone(timedelta(hours=5)))]
    for _ in range(5000):
        instants.append(datetime(rng.randint(1001, 9998), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                                 rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999999),
                                 tzinfo=timezone(timedelta(minutes=rng.randint(-720, 720)))))
    for now in instants:
        assert iso_ms(now) == _strftime(now), now
