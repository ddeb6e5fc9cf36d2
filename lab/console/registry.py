"""Cmdlet registration and PowerShell parameter binding.

A cmdlet is a function of one :class:`Invocation` that returns its output records (an
iterable, one record, or ``None``)::

    registry = Registry()

    @registry.cmdlet("Set-SendConnector", params=[
        Param("Identity", position=0, pipeline=True, mandatory=True),
        Param("Port", type=int),
        Param("IgnoreSTARTTLS", type=bool),
    ])
    def set_send_connector(inv: Invocation) -> None:
        connector = find(inv.params["Identity"])        # raise CmdletError if missing
        validate(inv.params)                            # every check first ...
        if inv.should_process(M.WHATIF_SET_OBJECT, kind=M.KIND_SEND_CONNECTOR, name=connector.name):
            apply(connector, inv.params)                # ... then the change
            inv.report_change()

Contract for cmdlet authors (the console is transactional per line):

- The binder has converted every value to the declared type before the function runs, and a
  line with a parse or binding error runs nothing at all.
- A cmdlet must validate *all* its parameters before it changes anything, and raise
  :class:`CmdletError` (which changes nothing) when one is wrong.
- A cmdlet that changed the world calls :meth:`Invocation.report_change`; the host keeps a
  transcript of the lines that did. ``-WhatIf`` is honoured through
  :meth:`Invocation.should_process`.
- Pipeline input is bound *by value* to the first ``pipeline=True`` parameter that the
  command line left unbound; the function runs once per piped record.
- ``native=True`` commands (``telnet``, ``nslookup``) get no binding: ``inv.args`` holds
  their arguments as strings, the way a console program receives them.
"""
from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from lab.core.catalogue import Message
from lab.core.catalogue import console as msg
from lab.core.fastpath import frozen_init

Span = tuple[int, int]
SWITCH = "switch"
HASHTABLE = dict
ANY = object
UNKNOWN = object()  # a value the pre-flight binder cannot know before the line runs

_TYPE_NAMES = {str: "System.String", int: "System.Int32", bool: "System.Boolean", float: "System.Double",
               dict: "System.Collections.Hashtable", object: "System.Object",
               SWITCH: "System.Management.Automation.SwitchParameter"}
_SHOULD_PROCESS_VERBS = {"set", "new", "remove", "add", "enable", "disable", "clear", "start", "stop", "restart",
                         "suspend", "resume", "import", "export", "install", "uninstall", "update", "complete",
                         "move", "rename", "retry", "send"}


class CmdletError(Exception):
    """An error a cmdlet reports (PowerShell's ErrorRecord); nothing was changed.

    Args:
        message: the error text, from the catalogue.
        category: the ErrorCategory (``ObjectNotFound``, ``InvalidArgument``, ``NotSpecified``...).
        target: the target object's name, shown as ``(target:String)``; empty shows ``(:)``.
        error_id: the FullyQualifiedErrorId; ``,<cmdlet>`` is appended when it has no comma.
        reason: the exception type name shown after the activity (``ManagementObjectNotFoundException``).
    """

    def __init__(self, message: str, category: str = "NotSpecified", target: str = "", error_id: str = "",
                 reason: str = "", target_type: str = "String"):
        self.message = message
        self.category = category
        self.target = target
        self.error_id = error_id or reason or "RuntimeException"
        self.reason = reason or "RuntimeException"
        self.target_type = target_type
        super().__init__(message)


class BindingError(Exception):
    """A ParameterBindingException: the whole line is refused before anything runs."""

    def __init__(self, message: Message, error_id: str, span: Span | None, category: str = "InvalidArgument",
                 reason: str = "ParameterBindingException", **values: object):
        self.text = message.format(**values) if values else message.text
        self.error_id = error_id
        self.span = span
        self.category = category
        self.reason = reason
        super().__init__(self.text)


class _once:  # noqa: N801 (a decorator, as functools.cached_property)
    """``functools.cached_property`` without its lock (3.11 takes one on every first read): the value is
    computed from the instance once and kept in its ``__dict__``. For pure functions of frozen fields
    only: two threads computing it at once store equal values."""

    def __init__(self, fn: Callable[[Any], Any]):
        self._fn = fn
        self._name = fn.__name__
        self.__doc__ = fn.__doc__

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self._name] = self._fn(obj)
        return value


@frozen_init
@dataclass(frozen=True)
class Param:
    """A declared parameter.

    ``type`` is ``str``, ``int``, ``bool``, ``float``, ``dict`` (:data:`HASHTABLE`), ``object``
    (:data:`ANY`), :data:`SWITCH`, ``list`` or ``list[str]`` / ``list[int]``. ``enum`` lists the
    names of an enumeration (matched case-insensitively, returned as declared); ``convert``
    is a custom conversion raising ``ValueError(reason)``; ``type_name`` is the .NET type shown
    in errors. ``remaining`` collects leftover positional arguments.
    """

    name: str
    type: Any = str
    position: int | None = None
    mandatory: bool = False
    pipeline: bool = False
    aliases: tuple[str, ...] = ()
    enum: tuple[str, ...] = ()
    convert: Callable[[Any], Any] | None = None
    type_name: str | None = None
    remaining: bool = False
    help: str = ""

    @property
    def is_switch(self) -> bool:
        return self.type == SWITCH

    @property
    def element_type(self) -> Any:
        args = typing.get_args(self.type)
        return args[0] if args else object

    @_once
    def is_list(self) -> bool:  # (a class or a SWITCH string has no origin: get_origin only for the rest)
        return self.type is list or (self.type.__class__ not in (type, str) and typing.get_origin(self.type) is list)

    @_once
    def plain(self) -> Any:
        """``str`` or ``object`` for a parameter of that type with no enumeration and no conversion of its
        own (a str converts to a text one as it is, anything to an ``object`` one), else None."""
        if self.enum or self.convert is not None or (self.type is not str and self.type is not object):
            return None
        return self.type

    @_once
    def element(self) -> Param:
        """What one item of a list parameter converts as: its element type, the same name, enumeration and
        conversion, the .NET type name without ``[]``."""
        name = self.type_name
        return Param(self.name, self.element_type, enum=self.enum, convert=self.convert,
                     type_name=name[:-2] if name and name.endswith("[]") else name)

    @property
    def display_type(self) -> str:
        if self.type_name:
            return self.type_name
        if self.is_list:
            return _TYPE_NAMES.get(self.element_type, "System.Object") + "[]"
        return _TYPE_NAMES.get(self.type, "System.Object")


COMMON_PARAMETERS = (
    Param("Verbose", SWITCH, aliases=("vb",)), Param("Debug", SWITCH, aliases=("db",)),
    Param("ErrorAction", aliases=("ea",), type_name="System.Management.Automation.ActionPreference",
          enum=("SilentlyContinue", "Stop", "Continue", "Inquire", "Ignore", "Suspend")),
    Param("WarningAction", aliases=("wa",), type_name="System.Management.Automation.ActionPreference",
          enum=("SilentlyContinue", "Stop", "Continue", "Inquire", "Ignore", "Suspend")),
    Param("InformationAction", aliases=("infa",), type_name="System.Management.Automation.ActionPreference",
          enum=("SilentlyContinue", "Stop", "Continue", "Inquire", "Ignore", "Suspend")),
    Param("ErrorVariable", aliases=("ev",)), Param("WarningVariable", aliases=("wv",)),
    Param("InformationVariable", aliases=("iv",)), Param("OutVariable", aliases=("ov",)),
    Param("OutBuffer", int, aliases=("ob",)), Param("PipelineVariable", aliases=("pv",)),
)
SHOULD_PROCESS_PARAMETERS = (Param("WhatIf", SWITCH, aliases=("wi",)), Param("Confirm", SWITCH, aliases=("cf",)))
_COMMON_NAMES = {p.name for p in COMMON_PARAMETERS + SHOULD_PROCESS_PARAMETERS}


@dataclass
class Invocation:
    """What a cmdlet function receives: bound parameters, input and ways to talk back.

    ``host`` is the shell's :class:`~lab.console.evaluator.HostCallbacks`, ``shell`` the shell, and
    ``console_host`` the :class:`~lab.console.host.ConsoleHost` of the console (its registry's
    ``host``): a lab cmdlet reads and changes the lab through it, so one command serves every console.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    common: dict[str, Any] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    input: list[Any] = field(default_factory=list)
    host: Any = None
    shell: Any = None
    changed: bool = False
    messages: list[str] = field(default_factory=list)
    console_host: Any = None

    def report_change(self) -> None:
        """Record that this invocation changed the lab (for the host's transcript)."""
        self.changed = True

    def warn(self, text: str) -> None:
        """Write ``WARNING: text`` to the console (unless ``-WarningAction SilentlyContinue``)."""
        if self.common.get("WarningAction") not in ("SilentlyContinue", "Ignore"):
            self.messages.append(msg.WARNING.format(text=text))

    def write_host(self, text: str) -> None:
        """Write a line straight to the console."""
        self.messages.append(text)

    def should_process(self, action: Message, **fields: object) -> bool:
        """False (after printing ``What if: action``) when ``-WhatIf`` was given: ``action`` is a catalogue
        message, formatted with ``fields`` only then (a command run without -WhatIf formats nothing)."""
        if self.common.get("WhatIf"):
            self.messages.append(msg.WHAT_IF.format(text=action.format(**fields)))
            return False
        return True


def invocation(name: str, params: dict[str, Any], common: dict[str, Any], input: list[Any], host: Any, shell: Any,
               console_host: Any) -> Invocation:
    """``Invocation(name, params, common, input=input, host=host, shell=shell, console_host=console_host)`` (no
    arguments, not changed, no messages yet), its fields set in declaration order without the dataclass
    ``__init__``'s default-factory tests (the shell makes one for every command it runs)."""
    inv = _new(Invocation)
    inv.name = name
    inv.params = params
    inv.common = common
    inv.args = []
    inv.input = input
    inv.host = host
    inv.shell = shell
    inv.changed = False
    inv.messages = []
    inv.console_host = console_host
    return inv


@frozen_init
@dataclass(frozen=True)
class Cmdlet:
    """A registered command. ``collect_input`` commands get all piped records in ``inv.input``."""

    name: str
    fn: Callable[[Invocation], Any]
    params: tuple[Param, ...] = ()
    aliases: tuple[str, ...] = ()
    native: bool = False
    collect_input: bool = False
    should_process: bool | None = None
    remote: bool = False
    synopsis: str = ""
    module: str = ""
    version: str = ""
    command_type: str = "Cmdlet"
    implementing_type: str = ""

    def exact_param(self, lowered: str) -> Param | None:
        """The first parameter (of :attr:`all_params`) whose name or an alias is ``lowered`` (lower
        case), else None."""
        return self.signature.exact.get(lowered)

    def qualified_error_id(self, error_id: str) -> str:
        """``error_id,<implementing type or name>`` as PowerShell's FullyQualifiedErrorId."""
        return error_id if "," in error_id else f"{error_id},{self.implementing_type or self.name}"

    @_once
    def signature(self) -> Signature:
        """What binding reads of this command's declaration (shared by every command declaring these
        parameters, with or without WhatIf/Confirm)."""
        supports = self.should_process
        if supports is None:
            supports = self.name.split("-")[0].lower() in _SHOULD_PROCESS_VERBS
        return signature_of(self.params, bool(supports))

    @property
    def shape(self) -> tuple[tuple[Param, ...], tuple[Param, ...], tuple[Param, ...]]:
        """Own parameters that collect leftovers, the positional ones by position (declaration order
        among equals), the mandatory ones."""
        sig = self.signature
        return sig.remaining, sig.by_position, sig.mandatory

    @property
    def all_params(self) -> tuple[Param, ...]:
        """Own parameters, then the common ones (and WhatIf/Confirm for changing verbs)."""
        return self.signature.all_params


class Signature:
    """What :func:`~lab.console.binding.bind` reads of a declaration, worked out once: every parameter
    (own, then the common ones, then WhatIf/Confirm when supported), the own ones that collect
    leftovers, the positional ones by position (declaration order among equals), the mandatory ones,
    the ones bound from the pipeline, and each lower-case name or alias -> the first parameter it names."""

    __slots__ = ("params", "all_params", "remaining", "by_position", "mandatory", "pipeline", "exact")

    def __init__(self, params: tuple[Param, ...], supports: bool):
        params = tuple(params)
        self.params = params
        self.all_params = params + (_SHARED if supports else COMMON_PARAMETERS)
        self.remaining = tuple(p for p in params if p.remaining)
        self.by_position = tuple(sorted((p for p in params if p.position is not None), key=lambda p: p.position))
        self.mandatory = tuple(p for p in params if p.mandatory)
        self.pipeline = tuple(p for p in params if p.pipeline)
        exact: dict[str, Param] = {}
        for p in self.all_params:
            exact.setdefault(p.name.lower(), p)
            for alias in p.aliases:
                exact.setdefault(alias.lower(), p)
        self.exact = exact


#: (id of a params tuple, supports WhatIf) -> (that tuple, its Signature): the tuple kept alive with its
#: entry, so the id names it as long as the entry lives (a tuple of frozen Params never changes)
_SIGNATURES: dict[tuple[int, bool], tuple[tuple[Param, ...], Signature]] = {}


def signature_of(params: tuple[Param, ...], supports: bool) -> Signature:
    """The :class:`Signature` of ``params`` (and the shared parameters ``supports`` adds): one per
    declaration, shared by the commands every console's registry builds from it."""
    if type(params) is not tuple:
        return Signature(params, supports)  # (not an immutable declaration: nothing kept)
    key = (id(params), supports)
    entry = _SIGNATURES.get(key)
    if entry is not None and entry[0] is params:
        return entry[1]
    found = Signature(params, supports)
    if len(_SIGNATURES) >= 2048:
        _SIGNATURES.clear()
    _SIGNATURES[key] = (params, found)
    return found


_SHARED = COMMON_PARAMETERS + SHOULD_PROCESS_PARAMETERS  # what follows a command's own parameters


_new = object.__new__

#: a declaration's key -> (its params tuple, the command built for it with no function): see declared()
_PROTOTYPES: dict[tuple[Any, ...], tuple[tuple[Param, ...], Cmdlet]] = {}


def declared(fn: Callable[[Invocation], Any], key: tuple[Any, ...], params: tuple[Param, ...],
             build: Callable[..., Cmdlet], *args: Any) -> Cmdlet:
    """``build(*args)`` with ``fn`` as its function, for a cmdlet module declaring a command the same way
    for every console's registry (only the function, a closure over the console's host, differs).

    ``key`` and the identity of the ``params`` tuple (kept alive with the entry) must determine every
    field but the function that ``build(*args)`` gives: the command is built once, with no function,
    and each declaration gets a copy of its fields (and of its worked-out :attr:`Cmdlet.signature`)."""
    entry = _PROTOTYPES.get(key)
    if entry is not None and entry[0] is params:  # (the same declaration again, the usual case: see below)
        command = _new(Cmdlet)
        command.__dict__.update(entry[1].__dict__, fn=fn)  # (its "fn" replaced in place: the same fields)
        return command
    if type(params) is not tuple:  # (not an immutable declaration: built as it is, nothing kept)
        made = build(*args)
        made.__dict__["fn"] = fn
        return made
    made = build(*args)  # (a declaration not seen yet, or a new params tuple under its key)
    made.signature  # noqa: B018 (worked out once, for every copy)
    if len(_PROTOTYPES) >= 2048:
        _PROTOTYPES.clear()
    _PROTOTYPES[key] = (params, made)
    command = _new(Cmdlet)
    command.__dict__.update(made.__dict__, fn=fn)
    return command


def cmdlet(name: str, params: Iterable[Param] = (), **options: Any) -> Callable[[Callable[[Invocation], Any]], Cmdlet]:
    """Decorator turning a function into a :class:`Cmdlet` (register it with :meth:`Registry.register`)."""

    def wrap(fn: Callable[[Invocation], Any]) -> Cmdlet:
        return Cmdlet(name, fn, tuple(params), **options)

    return wrap


class Registry:
    """Commands by name and alias, case-insensitive.

    ``host`` is the :class:`~lab.console.host.ConsoleHost` the lab's cmdlets act on (set by a cmdlet
    module's ``register``): the shell hands it to each cmdlet as :attr:`Invocation.console_host`.
    """

    host: Any = None

    def __init__(self) -> None:
        self._commands: dict[str, Cmdlet] = {}
        self._aliases: dict[str, str] = {}

    def register(self, command: Cmdlet) -> Cmdlet:
        """Add (or replace) a command and its aliases."""
        self._commands[command.name.lower()] = command
        for alias in command.aliases:
            self._aliases[alias.lower()] = command.name.lower()
        return command

    def cmdlet(self, name: str, params: Iterable[Param] = (), **options: Any) -> Callable[..., Cmdlet]:
        """Decorator form of :meth:`register`."""

        def wrap(fn: Callable[[Invocation], Any]) -> Cmdlet:
            return self.register(Cmdlet(name, fn, tuple(params), **options))

        return wrap

    def copy(self, host: Any = None) -> Registry:
        """A registry of this one's commands and aliases whose cmdlets act on ``host`` (tables of its own:
        what either registers later is its own)."""
        other = Registry()
        other._commands = dict(self._commands)
        other._aliases = dict(self._aliases)
        other.host = host
        return other

    def alias(self, alias: str, target: str) -> None:
        """Make ``alias`` name the command ``target``."""
        self._aliases[alias.lower()] = target.lower()

    def resolve(self, name: str) -> Cmdlet | None:
        """The command named ``name`` (or aliased so), else None."""
        key = name.lower()
        return self._commands.get(key) or self._commands.get(self._aliases.get(key, ""))

    def commands(self) -> list[Cmdlet]:
        """All commands, sorted by name."""
        return sorted(self._commands.values(), key=lambda c: c.name.lower())

    def aliases(self) -> dict[str, str]:
        """Alias -> command name."""
        return {a: self._commands[t].name for a, t in self._aliases.items() if t in self._commands}




_BINDING = frozenset({"Arg", "bind", "convert", "resolve_parameter", "_check_not_empty", "_convert_scalar",
                      "_transformation", "to_string"})


def __getattr__(name: str) -> Any:
    """The binder's names, importable from here as before they moved to :mod:`lab.console.binding`."""
    if name in _BINDING:
        from lab.console import binding
        return getattr(binding, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
