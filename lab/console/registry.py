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
        if inv.should_process(f'Setting send connector "{connector.name}".'):
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

import functools
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from lab.console.ps_values import to_string, type_name
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

    @property
    def is_list(self) -> bool:  # (a class or a SWITCH string has no origin: get_origin only for the rest)
        return self.type is list or (self.type.__class__ not in (type, str) and typing.get_origin(self.type) is list)

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
    """What a cmdlet function receives: bound parameters, input and ways to talk back."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    common: dict[str, Any] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    input: list[Any] = field(default_factory=list)
    host: Any = None
    shell: Any = None
    changed: bool = False
    messages: list[str] = field(default_factory=list)

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

    def should_process(self, action: str) -> bool:
        """False (after printing ``What if: action``) when ``-WhatIf`` was given."""
        if self.common.get("WhatIf"):
            self.messages.append(msg.WHAT_IF.format(text=action))
            return False
        return True


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
        case), else None: in the own parameters' index, then in the shared one of those that follow them."""
        own = self._own_index.get(lowered)
        if own is not None:
            return self.params[own]
        shared = _SHARED_INDEX[len(self.all_params) - len(self.params)].get(lowered)
        return None if shared is None else _SHARED[shared]

    @functools.cached_property
    def _own_index(self) -> dict[str, int]:
        return _name_index(tuple((p.name, p.aliases) for p in self.params))

    def qualified_error_id(self, error_id: str) -> str:
        """``error_id,<implementing type or name>`` as PowerShell's FullyQualifiedErrorId."""
        return error_id if "," in error_id else f"{error_id},{self.implementing_type or self.name}"

    @functools.cached_property
    def shape(self) -> tuple[tuple[Param, ...], tuple[Param, ...], tuple[Param, ...]]:
        """Own parameters that collect leftovers, the positional ones by position (declaration order
        among equals), the mandatory ones: what :func:`bind` walks on every call, read once."""
        params = tuple(self.params)
        return (tuple(p for p in params if p.remaining),
                tuple(sorted((p for p in params if p.position is not None), key=lambda p: p.position)),
                tuple(p for p in params if p.mandatory))

    @functools.cached_property
    def all_params(self) -> tuple[Param, ...]:
        """Own parameters, then the common ones (and WhatIf/Confirm for changing verbs)."""
        extra = COMMON_PARAMETERS
        supports = self.should_process
        if supports is None:
            supports = self.name.split("-")[0].lower() in _SHOULD_PROCESS_VERBS
        if supports:
            extra = extra + SHOULD_PROCESS_PARAMETERS
        return tuple(self.params) + extra


@functools.lru_cache(maxsize=1024)
def _name_index(names: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, int]:
    """Lower-case name or alias -> the position of the first ``(name, aliases)`` it names. A pure function
    of strings: each console's registry builds its own commands, but the same declarations give the same
    tuple, so the index is built once per declaration (the dict is shared: read, never changed)."""
    index: dict[str, int] = {}
    for position, (name, aliases) in enumerate(names):
        index.setdefault(name.lower(), position)
        for alias in aliases:
            index.setdefault(alias.lower(), position)
    return index


_SHARED = COMMON_PARAMETERS + SHOULD_PROCESS_PARAMETERS  # what follows a command's own parameters (by count:)
_SHARED_INDEX = {len(s): _name_index(tuple((p.name, p.aliases) for p in s)) for s in (COMMON_PARAMETERS, _SHARED)}


def cmdlet(name: str, params: Iterable[Param] = (), **options: Any) -> Callable[[Callable[[Invocation], Any]], Cmdlet]:
    """Decorator turning a function into a :class:`Cmdlet` (register it with :meth:`Registry.register`)."""

    def wrap(fn: Callable[[Invocation], Any]) -> Cmdlet:
        return Cmdlet(name, fn, tuple(params), **options)

    return wrap


class Registry:
    """Commands by name and alias, case-insensitive."""

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


# --- binding ------------------------------------------------------------------------------
@frozen_init
@dataclass(frozen=True)
class Arg:
    """One evaluated command-line element: positional when ``name`` is None."""

    value: Any
    span: Span | None = None
    name: str | None = None
    has_value: bool = True
    name_span: Span | None = None


def resolve_parameter(command: Cmdlet, name: str, span: Span | None) -> Param:
    """The parameter ``-name`` designates: exact name or alias, else a unique prefix."""
    lowered = name.lower()
    candidates = command.all_params
    exact = command.exact_param(lowered)
    if exact is not None:
        return exact
    matches = [p for p in candidates if p.name.lower().startswith(lowered)
               or any(a.lower().startswith(lowered) for a in p.aliases)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise BindingError(msg.AMBIGUOUS_PARAMETER, "AmbiguousParameter", span, name=name,
                           matches="".join(f" -{p.name}" for p in matches))
    raise BindingError(msg.NAMED_PARAMETER_NOT_FOUND, "NamedParameterNotFound", span, name=name)


def bind(command: Cmdlet, args: list[Arg], *, partial: bool = False, expects_input: bool = False
         ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Bind evaluated arguments to ``command``'s parameters like PowerShell.

    Args:
        partial: the argument list may be incomplete (a splat not yet known): skip the
            positional-overflow and mandatory checks.
        expects_input: records will be piped in, so pipeline parameters may stay unbound.

    Returns:
        ``(params, common)``: own parameters and common parameters, by declared name.

    Raises:
        BindingError: PowerShell's parameter binding error.
    """
    bound: dict[str, Any] = {}
    positional: list[Arg] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg.name is None:
            positional.append(arg)
            continue
        param = resolve_parameter(command, arg.name, arg.name_span)
        if param.name in bound:
            raise BindingError(msg.PARAMETER_ALREADY_BOUND, "ParameterAlreadyBound", arg.name_span, name=param.name)
        if param.is_switch and not arg.has_value:
            bound[param.name] = True
        elif arg.has_value:
            bound[param.name] = convert(param, arg.value, arg.span)
        else:
            if i >= len(args) or args[i].name is not None:
                raise BindingError(msg.MISSING_ARGUMENT_FOR_PARAMETER, "MissingArgument", arg.name_span,
                                   name=param.name, type_name=param.display_type)
            bound[param.name] = convert(param, args[i].value, args[i].span)
            i += 1
    remaining, by_position, mandatory = command.shape
    rest = next((p for p in remaining if p.name not in bound), None)
    slots = [p for p in by_position if p.name not in bound and p is not rest]
    leftovers: list[Any] = []
    for arg in positional:
        if slots:
            param = slots.pop(0)
            bound[param.name] = convert(param, arg.value, arg.span)
        elif rest is not None:
            leftovers.append(arg.value)
        elif not partial:
            shown = "System.Object[]" if isinstance(arg.value, list) else to_string(arg.value)
            raise BindingError(msg.POSITIONAL_PARAMETER_NOT_FOUND, "PositionalParameterNotFound", None,
                               argument=shown)
    if rest is not None and leftovers:
        bound[rest.name] = convert(rest, leftovers if len(leftovers) > 1 or rest.is_list else leftovers[0], None)
    if not partial:
        missing = [p.name for p in mandatory if p.name not in bound and not (expects_input and p.pipeline)]
        if missing:
            raise BindingError(msg.MISSING_MANDATORY_PARAMETER, "MissingMandatoryParameter", None,
                               names="".join(" " + n for n in missing))
    for p in mandatory:
        if p.name in bound and bound[p.name] is not UNKNOWN:
            _check_not_empty(p, bound[p.name])
    if _COMMON_NAMES.isdisjoint(bound):  # (no common parameter given: the split below keeps every one)
        return bound, {}
    common = {k: v for k, v in bound.items() if k in _COMMON_NAMES}
    return {k: v for k, v in bound.items() if k not in _COMMON_NAMES}, common


def _element_type_name(name: str | None) -> str | None:
    return name[:-2] if name and name.endswith("[]") else name


def _check_not_empty(param: Param, value: Any) -> None:
    if value is None:
        raise BindingError(msg.NULL_NOT_ALLOWED, "ParameterArgumentValidationErrorNullNotAllowed", None,
                           category="InvalidData", reason="ParameterBindingValidationException", name=param.name)
    if value == "" and param.type is str:
        raise BindingError(msg.EMPTY_STRING_NOT_ALLOWED, "ParameterArgumentValidationErrorEmptyStringNotAllowed",
                           None, category="InvalidData", reason="ParameterBindingValidationException",
                           name=param.name)


def _transformation(param: Param, span: Span | None, detail: str) -> BindingError:
    return BindingError(msg.ARGUMENT_TRANSFORMATION_ERROR, "ParameterArgumentTransformationError", span,
                        category="InvalidData", reason="ParameterBindingArgumentTransformationException",
                        name=param.name, detail=detail)


def convert(param: Param, value: Any, span: Span | None) -> Any:
    """Convert ``value`` to ``param``'s type, raising PowerShell's transformation error."""
    if value is UNKNOWN:
        return UNKNOWN
    if param.is_list:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        element = Param(param.name, param.element_type, enum=param.enum, convert=param.convert,
                        type_name=_element_type_name(param.type_name))
        return [convert(element, item, span) for item in items]
    if isinstance(value, (list, tuple)) and param.type is not object:
        if len(value) == 1:
            value = value[0]
        else:
            raise _transformation(param, span, msg.CANNOT_CONVERT_VALUE.format(
                value="System.Object[]", value_type="System.Object[]", type_name=param.display_type))
    if param.convert is not None and value is not None:
        try:
            return param.convert(value)
        except ValueError as error:
            raise _transformation(param, span, msg.CANNOT_CONVERT_STRING.format(
                value=to_string(value), type_name=param.display_type, error=str(error))) from None
    if param.enum:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(param.enum):
            return param.enum[value]  # enumerations declared in value order (ActionPreference 0 = SilentlyContinue)
        text = to_string(value).strip()
        for name in param.enum:
            if name.lower() == text.lower():
                return name
        reason = msg.ENUM_NO_MATCH.format(value=text, names=", ".join(param.enum))
        raise _transformation(param, span, msg.CANNOT_CONVERT_STRING.format(
            value=text, type_name=param.display_type, error=reason))
    return _convert_scalar(param, value, span)


def _convert_scalar(param: Param, value: Any, span: Span | None) -> Any:
    kind = param.type
    if kind in (bool, SWITCH):
        if value is None:
            return False
        if isinstance(value, (bool, int, float)):
            return bool(value)
        raise _transformation(param, span, msg.BOOLEAN_ONLY.format(value_type=type_name(value),
                                                                   type_name=param.display_type))
    if value is None or kind is object:
        return value
    if kind is str:
        return to_string(value)
    if kind in (int, float):
        if isinstance(value, (bool, int, float)):
            number = float(value) if kind is float else round(value)
            return int(number) if kind is int else number
        if isinstance(value, str):
            try:
                return int(value.strip(), 0) if kind is int else float(value.strip())
            except ValueError:
                try:
                    return round(float(value.strip())) if kind is int else float(value)
                except ValueError:
                    raise _transformation(param, span, msg.CANNOT_CONVERT_STRING.format(
                        value=value, type_name=param.display_type, error=msg.INPUT_STRING_FORMAT.text)) from None
    if kind is dict and isinstance(value, dict):
        return value
    if isinstance(value, kind) if isinstance(kind, type) else False:
        return value
    raise _transformation(param, span, msg.CANNOT_CONVERT_VALUE.format(
        value=to_string(value), value_type=type_name(value), type_name=param.display_type))
