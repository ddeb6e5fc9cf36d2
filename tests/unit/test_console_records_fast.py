"""Console shortcuts held to the plain code they replace (verbatim below), so a wrong one fails:
ExRecord.get through a lower-case index (first of a name wins), Get-Queue's property pairs built in C,
and wildcard_regex translating a pattern without ``\\``` escapes or ``[...]`` sets by re.escape."""
from __future__ import annotations

import random
import re

from lab.console import ps_values
from lab.console.records import ExRecord


def old_get(props, name):
    lowered = name.lower()
    return next((v for k, v in props if k.lower() == lowered), None)


def test_get_as_the_scan() -> None:
    rng = random.Random(9)
    names = ["Identity", "identity", "IDENTITY", "Name", "Status", "NextHopDomain", "x", "", "Straße", "İd"]
    for _ in range(500):
        props = [(rng.choice(names), rng.randint(0, 9)) for _ in range(rng.randint(0, 8))]
        record = ExRecord(props, [], "T")
        for name in names + ["nope"]:
            for _ in range(2):  # (the second read from the kept index)
                assert record.get(name) == old_get(props, name)


def old_wildcard_regex(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "`" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            out.append("[" + pattern[i + 1 : end].replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z", re.IGNORECASE | re.DOTALL)


def test_wildcard_regex_as_the_walk() -> None:
    rng = random.Random(4)
    alphabet = list("ab.*?\\]$^+(){}|-é ") + ["\\*", "\\?", "**"]
    plain = 0
    for _ in range(4000):
        pattern = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        if rng.random() < 0.1:
            pattern += rng.choice(["`*", "[ab]", "["])
        assert ps_values.wildcard_regex(pattern).pattern == old_wildcard_regex(pattern).pattern, pattern
        plain += "`" not in pattern and "[" not in pattern
    assert plain > 1000


def test_queue_pairs_as_the_comprehension() -> None:
    from lab.console import records as R

    order = ("DeliveryType", "NextHopDomain", "TlsDomain", "NextHopConnector", "Status", "MessageCount", "LastError",
             "RetryCount", "LastRetryTime", "NextRetryTime", "FirstRetryTime", "DeferredMessageCount",
             "LockedMessageCount", "RiskLevel", "OutboundIPPool", "NextHopCategory", "Velocity", "QueueIdentity",
             "Identity")
    mapping = {k: f"v{i}" for i, k in enumerate(reversed(order))} | {"Extra": 1}

    class View:
        def to_mapping(self, settings):
            return mapping

    props = [(k, mapping[k]) for k in order]
    props.insert(13, ("MessageCountsPerPriority", [0, 0, 0, 0]))
    props.insert(len(props) - 1, ("PriorityDescriptions", ["High", "Normal", "Low", "None"]))
    assert list(R.queue(View(), None).ps_properties()) == props


def test_connector_changes_as_the_comprehension() -> None:
    from types import SimpleNamespace

    from lab.console.cmdlets.exchange_connectors import _changes

    rng = random.Random(2)
    words = ["Port", "Bindings", "Fqdn", "Name", "TlsDomain", "x"]
    for _ in range(300):
        params = {w: rng.randint(0, 9) for w in rng.sample(words, rng.randint(0, 5))}
        names = [rng.choice(words) for _ in range(rng.randint(0, 7))]
        got = _changes(SimpleNamespace(params=params), names)
        want = {n: params[n] for n in names if n in params}
        assert got == want and list(got) == list(want)
