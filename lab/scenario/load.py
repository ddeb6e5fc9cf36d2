"""Load and validate scenario files: every problem named with file:line, all of them in one pass.

:func:`load_scenario` reads a file with :func:`lab.topology.source.read_yaml` (so every error
names its line) and checks it against the rules of :mod:`lab.scenario.schema`; problems raise
one :class:`~lab.core.errors.ConfigErrors` (exit code 2). :func:`check_against` checks the
names a scenario uses (shells, hosts) against a topology.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lab.core.errors import ConfigError, ConfigErrors
from lab.scenario.model import EXPECTATIONS, MULTI, Expectation, Scenario, SendStep, SetupLine, SmtpStep, Step
from lab.topology.source import Source, read_yaml

TOP = {"name": str, "title": str, "article": str, "summary": str, "shell": str, "setup": list, "steps": list,
       "goal": str, "gives_up": str, "allow_workaround": bool, "topology": str, "tags": list}
REQUIRED_TOP = ("name", "title", "article", "summary", "steps")
STEP_KEYS = ("say", "shell", "run", "send", "smtp", "advance", "expect", "fix", "workaround")
SEND_KEYS = {"from": str, "to": (str, list), "server": str, "port": int, "source": str, "tls": bool,
             "verify": bool, "auth": dict, "client_certificate": str, "subject": str, "body": str, "helo": str}
SMTP_KEYS = {"server": str, "port": int, "source": str, "lines": list}
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)d)?\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*"
                      r"(?:(\d+(?:\.\d+)?)s)?\s*$")
#: The source articles a scenario may follow (the file names of the project's seeds): the lab
#: ships the list, so a scenario file is checked the same way wherever the lab is installed.
ARTICLES = (
    "000_3cdb6025637ce5d8.txt",  # hybrid mail flow and the certificate (Chinese)
    "001_28f891aba42b99ad.txt",  # opportunistic TLS defaults (Chinese)
    "002_10f9b1bc572f523c.txt",  # an SMTP relay through Office 365 (Swedish)
    "003_69fde0b8a435861c.txt",  # Exchange 2010 mail over the public Internet (Chinese)
    "004_9890179b5402d303.txt",  # Exchange 2016 SMTP relay (Chinese)
)


def duration(value: Any) -> float | None:
    """Seconds from a number or ``2d``, ``4h``, ``30m``, ``1h30m``, ``90s``; None when invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value >= 0 else None
    if not isinstance(value, str) or not value.strip():
        return None
    match = DURATION.match(value)
    if not match or not any(match.groups()):
        return None
    d, h, m, s = (float(g) if g else 0.0 for g in match.groups())
    return d * 86400 + h * 3600 + m * 60 + s


def _type_name(t: Any) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", list: "a list", dict: "a mapping"}
    if isinstance(t, tuple):
        return " or ".join(names[x] for x in t)
    return names[t]


class _Checker:
    def __init__(self, src: Source):
        self.src = src
        self.errors: list[ConfigError] = []

    def error(self, path: tuple, message: str, allowed: Any = None) -> None:
        self.errors.append(self.src.error(path, message, allowed))

    def where(self, path: tuple) -> str:
        place = self.src.place(path)
        return f"{place.file}:{place.line}" if place.line else str(place.file)

    def typed(self, data: dict, key: str, kind: Any, path: tuple) -> bool:
        if key in data and not isinstance(data[key], kind) or (kind is int and isinstance(data.get(key), bool)):
            self.error(path + (key,), f"{key} must be {_type_name(kind)}, not {data[key]!r}")
            return False
        return key in data

    def unknown(self, data: dict, allowed: Any, path: tuple, what: str) -> None:
        for key in data:
            if key not in allowed:
                self.error(path + (key,), f"unknown key {key!r} in {what}", sorted(allowed))


def load_scenario(path: str | Path, text: str | None = None) -> Scenario:
    """Read and validate one scenario file.

    Raises:
        ConfigErrors: every problem, each with file:line and, where it helps, the allowed values.
    """
    src = read_yaml(path, text)
    c = _Checker(src)
    data = src.data
    if not isinstance(data, dict):
        raise ConfigErrors([src.error((), "a scenario file is a mapping (name, title, article, summary, steps)")])
    c.unknown(data, TOP, (), "a scenario")
    for key in REQUIRED_TOP:
        if key not in data:
            c.error((), f"missing required key {key!r}")
    for key, kind in TOP.items():
        c.typed(data, key, kind, ())
    name = data.get("name") if isinstance(data.get("name"), str) else ""
    stem = Path(str(path)).stem
    if name and not NAME.match(name):
        c.error(("name",), f"name {name!r} must be lower-case letters, digits and dashes")
    elif name and re.sub(r"^\d+-", "", stem) != name and stem != name:
        c.error(("name",), f"name {name!r} does not match the file name {Path(str(path)).name!r} "
                           f"(scenarios/NN-{name}.yaml)")
    article = data.get("article")
    if isinstance(article, str) and article not in ARTICLES:
        c.error(("article",), f"no source article {article!r}", list(ARTICLES))
    setup = _setup(c, data.get("setup") if isinstance(data.get("setup"), list) else [])
    steps = [_step(c, i, raw) for i, raw in enumerate(data.get("steps") or [])
             if isinstance(data.get("steps"), list)]
    if isinstance(data.get("steps"), list) and not data["steps"]:
        c.error(("steps",), "a scenario needs at least one step")
    if c.errors:
        raise ConfigErrors(c.errors)
    shell = data.get("shell", "")
    if not shell and any(s.run and not s.shell for s in steps) | any(not s.shell for s in setup):
        raise ConfigErrors([src.error(("shell",), "steps run cmdlet lines without a shell: set `shell:` "
                                                  "(the Exchange server whose shell runs them)")])
    return Scenario(name=name, title=data["title"], article=data["article"], summary=data["summary"],
                    file=str(path), shell=shell, setup=tuple(setup), steps=tuple(s for s in steps if s),
                    goal=data.get("goal", ""), gives_up=data.get("gives_up", ""),
                    allow_workaround=bool(data.get("allow_workaround", False)), topology=data.get("topology"),
                    tags=tuple(str(t) for t in data.get("tags", [])))


def _setup(c: _Checker, items: list) -> list[SetupLine]:
    out = []
    for i, item in enumerate(items):
        path = ("setup", i)
        if isinstance(item, str):
            out.append(SetupLine(item))
        elif isinstance(item, dict):
            c.unknown(item, ("run", "shell"), path, "a setup line")
            if not isinstance(item.get("run"), str):
                c.error(path, "a setup entry needs `run:` (cmdlet lines)")
                continue
            c.typed(item, "shell", str, path)
            out.append(SetupLine(item["run"], item.get("shell")))
        else:
            c.error(path, "a setup entry is a cmdlet line or {run: ..., shell: ...}")
    return out


def _step(c: _Checker, index: int, raw: Any) -> Step | None:
    path = ("steps", index)
    if not isinstance(raw, dict):
        c.error(path, "a step is a mapping", STEP_KEYS)
        return None
    c.unknown(raw, STEP_KEYS, path, "a step")
    for key, kind in (("say", str), ("shell", str), ("run", str), ("fix", bool), ("workaround", bool),
                      ("send", dict), ("smtp", dict), ("expect", list)):
        c.typed(raw, key, kind, path)
    if not any(k in raw for k in ("run", "send", "smtp", "advance", "expect", "say")):
        c.error(path, "an empty step", STEP_KEYS)
    if raw.get("fix") is True and raw.get("workaround") is True:
        c.error(path + ("workaround",), "a step is a fix or a workaround, not both")
    if (raw.get("fix") or raw.get("workaround")) and not raw.get("run"):
        c.error(path, "a fix or workaround step must run the article's cmdlet line (`run:`)")
    seconds = None
    if "advance" in raw:
        seconds = duration(raw["advance"])
        if seconds is None:
            c.error(path + ("advance",), f"advance {raw['advance']!r} is not a duration (seconds, or 30m, 4h, 2d)")
    send = _send(c, raw["send"], path + ("send",)) if isinstance(raw.get("send"), dict) else None
    smtp = _smtp(c, raw["smtp"], path + ("smtp",)) if isinstance(raw.get("smtp"), dict) else None
    expect = tuple(e for i, item in enumerate(raw.get("expect") or []) if isinstance(raw.get("expect"), list)
                   for e in [_expect(c, item, path + ("expect", i))] if e is not None)
    for e in expect:
        if e.kind in ("accepted", "rejected", "failed") and send is None:
            c.error(path + ("expect",), f"`{e.kind}` reads this step's send, and the step sends nothing")
        if e.kind in ("output", "error") and not raw.get("run"):
            c.error(path + ("expect",), f"`{e.kind}` reads this step's cmdlet output, and the step runs nothing")
        if e.kind == "transcript" and send is None and smtp is None:
            c.error(path + ("expect",), "`transcript` reads this step's send or smtp dialogue, and there is none")
    return Step(index=index, say=raw.get("say", "") or "", shell=raw.get("shell"), run=raw.get("run"), send=send,
                smtp=smtp, advance=seconds, expect=expect, fix=raw.get("fix") is True,
                workaround=raw.get("workaround") is True, place=c.where(path))


def _send(c: _Checker, raw: dict, path: tuple) -> SendStep | None:
    c.unknown(raw, SEND_KEYS, path, "send")
    ok = True
    for key, kind in SEND_KEYS.items():
        if key in raw and not c.typed(raw, key, kind, path):
            ok = False
    for key in ("from", "to", "server"):
        if key not in raw:
            c.error(path, f"send needs `{key}`")
            ok = False
    auth = raw.get("auth")
    if isinstance(auth, dict) and (set(auth) != {"user", "password"}):
        c.error(path + ("auth",), "auth is {user: ..., password: ...}")
        ok = False
    if not ok:
        return None
    to = (raw["to"],) if isinstance(raw["to"], str) else tuple(str(t) for t in raw["to"])
    return SendStep(mail_from=raw["from"], to=to, server=raw["server"], port=raw.get("port", 25),
                    source=raw.get("source"), tls=raw.get("tls", False), verify=raw.get("verify", True),
                    auth=(str(auth["user"]), str(auth["password"])) if auth else None,
                    client_certificate=raw.get("client_certificate"), subject=raw.get("subject", ""),
                    body=raw.get("body", ""), helo=raw.get("helo"))


def _smtp(c: _Checker, raw: dict, path: tuple) -> SmtpStep | None:
    c.unknown(raw, SMTP_KEYS, path, "smtp")
    ok = all(c.typed(raw, k, t, path) or k not in raw for k, t in SMTP_KEYS.items())
    if "server" not in raw:
        c.error(path, "smtp needs `server`")
        return None
    if not ok:
        return None
    return SmtpStep(server=raw["server"], port=raw.get("port", 25), source=raw.get("source"),
                    lines=tuple(str(x) for x in raw.get("lines", [])))


def _expect(c: _Checker, item: Any, path: tuple) -> Expectation | None:
    if not isinstance(item, dict) or len(item) != 1:
        c.error(path, "an expectation is a mapping with one kind", sorted(EXPECTATIONS))
        return None
    (kind, value), = item.items()
    if kind not in EXPECTATIONS:
        c.error(path + (kind,), f"unknown expectation {kind!r}", sorted(EXPECTATIONS))
        return None
    keys = EXPECTATIONS[kind]
    if isinstance(value, dict):
        c.unknown(value, keys, path + (kind,), f"expectation {kind!r}")
        args = dict(value)
    elif isinstance(value, (str, bool, int, list)):
        args = {keys[0]: value}
    else:
        c.error(path + (kind,), f"expectation {kind!r} takes a value or a mapping", keys)
        return None
    for key in MULTI:
        if key in args:
            args[key] = tuple(args[key]) if isinstance(args[key], list) else (str(args[key]),)
    needs = {"delivered": "to", "not_delivered": "to", "ndr": "to", "dsn": "to", "queued": "server",
             "not_queued": "server", "rejected": "reply"}
    if kind in needs and needs[kind] not in args:
        c.error(path + (kind,), f"expectation {kind!r} needs `{needs[kind]}`")
        return None
    return Expectation(kind, args, c.where(path))


def check_against(scenario: Scenario, world: Any) -> None:
    """The shells and hosts a scenario names exist in ``world``.

    Raises:
        ConfigErrors: a name that does not exist, with the allowed names.
    """
    errors: list[ConfigError] = []
    servers, hosts = world.servers, world.topology.hosts  # (names, sorted in an error's allowed values)
    shells = [(scenario.shell, scenario.file)] if scenario.shell else []
    shells += [(s.shell, s.place) for s in scenario.steps if s.shell] + \
              [(s.shell, scenario.file) for s in scenario.setup if s.shell]
    for shell, where in shells:
        if shell not in servers:
            errors.append(ConfigError(f"{where}: shell {shell!r} is not an Exchange server of the topology", None,
                                      sorted(servers)))
    for step in scenario.steps:
        for src in (step.send.source if step.send else None, step.smtp.source if step.smtp else None):
            if src and src not in hosts:
                errors.append(ConfigError(f"{step.place}: source {src!r} is not a host of the topology", None,
                                          sorted(hosts)))
    if errors:
        raise ConfigErrors(errors)


def discover(root: str | Path) -> list[Path]:
    """The scenario files of a directory, in order (``NN-name.yaml``)."""
    return sorted(p for p in Path(root).glob("*.yaml") if p.is_file())
