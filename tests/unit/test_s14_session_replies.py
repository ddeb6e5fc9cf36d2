"""Stop 14 (session): a reply's wire lines kept beside its fields, and the session paths changed with it."""
from __future__ import annotations

import dataclasses
import pickle

from lab.core.catalogue import Reply
from lab.core.catalogue import exchange as cat
from lab.core.exchange import receive as rv


def _templates() -> list[Reply]:
    return [r for r in vars(cat).values() if isinstance(r, Reply)]


def test_kept_lines_are_the_written_lines_and_leave_the_record_as_it_was():
    for reply in _templates() + [Reply(250, None, ""), Reply(550, "5.7.1", "one\ntwo\nthree")]:
        fresh = Reply(**{f.name: getattr(reply, f.name) for f in dataclasses.fields(Reply)})
        lines = rv.reply_lines(reply)
        assert lines == rv._reply_lines(fresh) and rv.reply_lines(reply) is lines
        assert reply == fresh and hash(reply) == hash(fresh) and repr(reply) == repr(fresh)
        assert dataclasses.replace(reply) == fresh and dataclasses.asdict(reply) == dataclasses.asdict(fresh)
        assert pickle.loads(pickle.dumps(reply)) == fresh


def test_a_formatted_copy_writes_its_own_line_and_lines():
    template = Reply(550, "5.7.1", "{a}\nsecond {a}")
    first = template.format(a="x")
    assert rv.reply_lines(template) == ("550-5.7.1 {a}", "550 second {a}")
    assert template.line() == "550 5.7.1 {a}\nsecond {a}"
    for value in ("x", "y"):
        copy = template.format(a=value)  # from a template that keeps its line and lines
        assert copy.__dict__.keys() == {f.name for f in dataclasses.fields(Reply)}
        assert rv.reply_lines(copy) == (f"550-5.7.1 {value}", f"550 second {value}")
        assert copy.line() == f"550 5.7.1 {value}\nsecond {value}"
    again = rv.reply_lines(first)
    assert again == ("550-5.7.1 x", "550 second x")
    assert first.format(a="z").__dict__.keys() == {f.name for f in dataclasses.fields(Reply)}


def test_a_reply_formatted_before_its_lines_were_kept_is_unchanged():
    template = cat.S250_2_6_0_CHUNK_RECEIVED
    assert template.format(octets=3) == Reply(template.code, template.enhanced, template.text.format(octets=3),
                                              template.source, template.unconfirmed, template.note)
