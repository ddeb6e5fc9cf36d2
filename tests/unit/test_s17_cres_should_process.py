"""Invocation.should_process formats a catalogue message's fields only under -WhatIf: what it prints is the text
formatted at once (as the cmdlets did before), and without -WhatIf it prints nothing and formats nothing."""
from __future__ import annotations

from lab.core.catalogue import Message
from lab.core.catalogue import cmdlets as M
from lab.core.catalogue import console as msg
from lab.console.registry import invocation


class Counting(Message):
    formatted = 0

    def format(self, **values: object) -> str:
        Counting.formatted += 1
        return super().format(**values)


def _inv(what_if: object):
    common = {} if what_if is None else {"WhatIf": what_if}
    return invocation("Set-Thing", {}, common, [], None, None, None)


def test_should_process_prints_the_formatted_message_only_under_whatif():
    cases = [(M.WHATIF_SET_OBJECT, {"kind": M.KIND_SEND_CONNECTOR, "name": "Outbound {x}"}),
             (M.WHATIF_ENABLE_CERTIFICATE, {"thumbprint": "AB12", "services": "SMTP, IIS"}),
             (M.WHATIF_RETRY_QUEUE, {"identity": "mail1\\contoso.com"})]
    for action, fields in cases:
        eager = action.format(**fields)
        for what_if in (True, False, None):
            inv = _inv(what_if)
            assert inv.should_process(action, **fields) is not bool(what_if)
            assert inv.messages == ([msg.WHAT_IF.format(text=eager)] if what_if else [])


def test_no_formatting_without_whatif():
    counting = Counting("Doing {thing}.")
    Counting.formatted = 0
    assert _inv(None).should_process(counting, thing="x") and _inv(False).should_process(counting, thing="x")
    assert Counting.formatted == 0
    inv = _inv(True)
    assert not inv.should_process(counting, thing="x")
    assert Counting.formatted == 1 and inv.messages == [msg.WHAT_IF.format(text="Doing x.")]


def test_console_whatif_lines_print_the_catalogue_texts():
    from cmdlets_support import console

    c = console("ex01")
    out = c.run('Set-SendConnector "Outbound to Office365" -Port 25 -WhatIf').output_text
    assert msg.WHAT_IF.format(text=M.WHATIF_SET_OBJECT.format(kind=M.KIND_SEND_CONNECTOR,
                                                                name="Outbound to Office365")) in out
    out = c.run('New-AcceptedDomain -Name lab.example -DomainName lab.example -WhatIf').output_text
    assert msg.WHAT_IF.format(text=M.WHATIF_NEW_OBJECT.format(kind=M.KIND_ACCEPTED_DOMAIN, name="lab.example")) in out
    assert c.lines == []
