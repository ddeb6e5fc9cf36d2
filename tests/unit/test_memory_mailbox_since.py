"""MemoryLab.mailbox(address, since) / mailbox_count: what a probe reads after its own send."""
from __future__ import annotations

from lab.memory.lab import Mailboxes


def test_since_gives_the_messages_delivered_after_a_count():
    boxes = Mailboxes()
    assert boxes.count("A@x.example") == 0 and boxes.messages("a@x.example", 0) == []
    boxes.deliver("a@x.example", b"one")
    before = boxes.count(" A@X.example ")
    boxes.deliver("A@x.example", b"two")
    boxes.deliver("a@x.example", b"three")
    assert before == 1 and boxes.count("a@x.example") == 3
    assert boxes.messages("a@x.example") == [b"one", b"two", b"three"]
    assert boxes.messages("a@x.example", before) == [b"two", b"three"]
    assert boxes.messages("a@x.example", 3) == []
    assert boxes.messages("nobody@x.example", 2) == []
