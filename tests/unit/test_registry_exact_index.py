"""Cmdlet.exact_param finds a parameter through a name index built once per declaration: it must name
the parameter the plain scan of all_params names (the oracle below), duplicates and aliases included."""
from __future__ import annotations

import random

from lab.console.registry import Cmdlet, Param


def scan(command: Cmdlet, lowered: str) -> Param | None:
    return next((p for p in command.all_params
                 if p.name.lower() == lowered or lowered in (a.lower() for a in p.aliases)), None)


def test_same_parameter_as_the_scan() -> None:
    rng = random.Random(7)
    words = ["Identity", "Name", "Port", "TlsDomain", "Force", "Confirm", "ErrorAction", "ea", "wi", "WhatIf",
             "Server", "Bindings", "vb", "Debug", "Custom", "NAME", "identity", "Id", "id", "x"]
    for _ in range(400):
        params = []
        for _ in range(rng.randint(0, 8)):
            aliases = tuple(rng.sample(words, rng.randint(0, 2)))
            params.append(Param(rng.choice(words), aliases=aliases))
        command = Cmdlet(rng.choice(["Get-Thing", "Set-Thing", "Remove-Thing", "Test-Thing"]), lambda inv: None,
                         tuple(params), should_process=rng.choice([None, True, False]))
        for word in words + ["wi", "cf", "ov", "nothing", ""]:
            lowered = word.lower()
            assert command.exact_param(lowered) is scan(command, lowered)
