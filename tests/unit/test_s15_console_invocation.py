"""registry.invocation builds what the Invocation dataclass __init__ builds for the shell's arguments (fields,
their order, fresh argument and message lists of its own), without the dataclass __init__."""
from __future__ import annotations

import dataclasses

from lab.console.registry import Invocation, invocation


def test_invocation_as_the_dataclass_builds_it() -> None:
    values = {"name": "Get-Thing", "params": {"Identity": "x"}, "common": {"WhatIf": True}, "input": [1, 2],
              "host": object(), "shell": object(), "console_host": object()}
    made = invocation(values["name"], values["params"], values["common"], values["input"], values["host"],
                      values["shell"], values["console_host"])
    plain = Invocation(values["name"], values["params"], values["common"], input=values["input"], host=values["host"],
                       shell=values["shell"], console_host=values["console_host"])
    assert made == plain
    assert list(made.__dict__) == list(plain.__dict__) == [f.name for f in dataclasses.fields(Invocation)]
    assert all(made.__dict__[k] is plain.__dict__[k] for k in values)
    other = invocation("x", {}, {}, [], None, None, None)
    assert made.args == [] and made.messages == [] and made.changed is False
    assert made.args is not other.args and made.messages is not other.messages
    made.warn("w")
    assert made.messages and not other.messages
