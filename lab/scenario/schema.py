"""The JSON Schema of scenario files (``lab scenario schema``); :mod:`lab.scenario.load` enforces it
with file:line errors."""
from __future__ import annotations

from lab.scenario.model import EXPECTATIONS

_STR_OR_LIST = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
_DURATION = {"oneOf": [{"type": "number", "minimum": 0},
                       {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?d)?\s*(\d+(\.\d+)?h)?\s*(\d+(\.\d+)?m)?\s*(\d+(\.\d+)?s)?\s*$"}]}

_EXPECT_ARGS = {
    "to": {"type": "string"}, "subject": {"type": "string"}, "count": {"type": "integer"},
    "header": {"type": "object", "properties": {"name": {"type": "string"}, "contains": {"type": "string"}},
               "required": ["name", "contains"], "additionalProperties": False},
    "contains": _STR_OR_LIST, "not_contains": _STR_OR_LIST, "reply": {"type": "string"},
    "server": {"type": "string"}, "last_error": {"type": "string"}, "delivery_type": {"type": "string"},
    "next_hop": {"type": "string"}, "status": {"type": "string"}, "value": {"type": "boolean"},
}


def _expectation(kind: str, keys: tuple[str, ...]) -> dict:
    first = _EXPECT_ARGS.get(keys[0], {"type": "boolean"})
    return {"type": "object", "required": [kind], "additionalProperties": False,
            "properties": {kind: {"oneOf": [first, {"type": "object", "additionalProperties": False,
                                                     "properties": {k: _EXPECT_ARGS.get(k, {}) for k in keys}}]}}}


SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://hybrid-mail-lab.example/scenario.schema.json",
    "title": "hybrid mail lab scenario",
    "type": "object",
    "required": ["name", "title", "article", "summary", "steps"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "title": {"type": "string"}, "article": {"type": "string"}, "summary": {"type": "string"},
        "shell": {"type": "string", "description": "the Exchange server (node) whose shell runs `run` lines"},
        "topology": {"type": "string", "description": "a topology file relative to the scenario (default: topology.yaml)"},
        "goal": {"type": "string"}, "gives_up": {"type": "string"}, "allow_workaround": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "setup": {"type": "array", "description": "start state: cmdlet lines run before step 1",
                  "items": {"oneOf": [{"type": "string"},
                                      {"type": "object", "required": ["run"], "additionalProperties": False,
                                       "properties": {"run": {"type": "string"}, "shell": {"type": "string"}}}]}},
        "steps": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "say": {"type": "string"}, "shell": {"type": "string"}, "run": {"type": "string"},
                "fix": {"type": "boolean"}, "workaround": {"type": "boolean"}, "advance": _DURATION,
                "send": {"type": "object", "required": ["from", "to", "server"], "additionalProperties": False,
                         "properties": {"from": {"type": "string"}, "to": _STR_OR_LIST, "server": {"type": "string"},
                                        "port": {"type": "integer"}, "source": {"type": "string"},
                                        "tls": {"type": "boolean"}, "verify": {"type": "boolean"},
                                        "auth": {"type": "object", "required": ["user", "password"],
                                                 "properties": {"user": {"type": "string"},
                                                                "password": {"type": "string"}}},
                                        "client_certificate": {"type": "string"}, "subject": {"type": "string"},
                                        "body": {"type": "string"}, "helo": {"type": "string"}}},
                "smtp": {"type": "object", "required": ["server"], "additionalProperties": False,
                         "properties": {"server": {"type": "string"}, "port": {"type": "integer"},
                                        "source": {"type": "string"},
                                        "lines": {"type": "array", "items": {"type": "string"}}}},
                "expect": {"type": "array", "items": {"oneOf": [_expectation(k, v) for k, v in EXPECTATIONS.items()]}},
            }}},
    },
}
