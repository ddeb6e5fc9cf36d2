"""The memory driver's console has its ConsoleResult made from the values of each block (no RunResult built to be
copied): held to what ``merge`` makes of the blocks' RunResults, over scripts of one block and of several
(telnet), that print, fail (rolled back), change the lab, or are blank."""
from __future__ import annotations

from pathlib import Path

from lab.console.cmdlets.telnet import run_script
from lab.console.evaluator import RunResult
from lab.scenario.memory_driver import MemoryDriver
from lab.topology.load import load_topology
from tests.unit.test_s14_checks_merge import merge

TOPOLOGY = Path(__file__).resolve().parents[2] / "topology.yaml"

SCRIPTS = [
    "Get-AcceptedDomain",
    "Get-ReceiveConnector | Format-List Identity,Bindings",
    "Get-SendConnector -Identity nothing-of-that-name",
    "Set-ReceiveConnector -Identity nothing -Banner x",
    "Get-Queue\nGet-NoSuchCommand\nWrite-Host done",
    "Write-Host 'no newline' -NoNewline",
    "",
    "  \n\t",
    "Write-Host before\ntelnet 192.168.0.10 25\nEHLO pc\nQUIT\nWrite-Host after\nGet-NoSuchCommand",
    "telnet 192.168.0.10 25\nEHLO pc\nQUIT",
    "Get-TransportConfig | Format-List MaxSendSize",
]


def test_memory_driver_results_are_merge_of_the_run_results():
    topology = load_topology(TOPOLOGY)
    one, two = MemoryDriver(), MemoryDriver()
    one.start(topology, None)
    two.start(topology, None)
    try:
        shells = sorted(one.world.servers)
        changing = [f"Get-SendConnector | Set-SendConnector -Port {n}" for n in (2525, 25)]
        for shell in shells:
            for script in SCRIPTS + changing:
                got = one.run(script, shell)
                blocks = run_script(two.console(shell), script)
                two.lab.run()
                assert all(type(b) is RunResult for b in blocks)
                assert got == merge(blocks), (shell, script)
                assert type(got.changed) is bool and type(got.errors) is tuple
        assert one.consoles[shells[0]].lines == two.consoles[shells[0]].lines
        assert any(one.consoles[s].lines for s in shells)  # (a line changed the lab)
    finally:
        one.stop()
        two.stop()


def test_block_result_is_merge_of_one_run_result():
    from lab.scenario.driver import block_result

    for text in ("", "a", "a\n", "a\nb", "\n", "x\n\n"):
        for errors in ([], ["e1"], ["e1", "e2"]):
            for changed in (False, True):
                made = block_result(text, [object()], list(errors), changed)
                assert made == merge([RunResult(text, [], list(errors), changed)]), (text, errors, changed)
