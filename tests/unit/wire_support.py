"""A stand-in for the session core behind a memory wire, for the wire tests."""
from __future__ import annotations


class ScriptedSession:
    """Says the given outputs in turn: the banner on connect, then one per command line."""

    def __init__(self, *outputs):
        self.outputs = list(outputs)

    def connect(self, now):
        return self.outputs.pop(0)

    def receive_line(self, line, now):
        return self.outputs.pop(0)
