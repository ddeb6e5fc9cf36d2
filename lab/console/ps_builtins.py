"""Built-in commands of the lab console (the PowerShell ones the articles type).

Get-Date, Write-Host, Write-Output, Get-Credential, ConvertTo-SecureString, New-Object,
Get-Command, Get-Help, Where-Object, ForEach-Object, Select-Object, Sort-Object,
Measure-Object, Format-List, Format-Table and Out-Null, with their usual aliases, plus the
few .NET methods (:func:`call_method`) that article one-liners call.
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from lab.console.format import FormattedOutput, expand_properties, format_list, format_table, value_of
from lab.console.ps_datetime import format_date
from lab.console.ps_values import PSObject, PSRuntimeError, to_string, truthy, type_name, _order
from lab.console.registry import ANY, SWITCH, Cmdlet, CmdletError, Invocation, Param, Registry
from lab.core.catalogue import console as msg

_UTILITY = "Microsoft.PowerShell.Utility"
_CORE = "Microsoft.PowerShell.Core"
_SECURITY = "Microsoft.PowerShell.Security"


class SecureString:
    """A System.Security.SecureString (the lab keeps the text to hand to its SMTP client)."""

    ps_type_name = "System.Security.SecureString"

    def __init__(self, plain: str):
        self._plain = plain

    def reveal(self) -> str:
        """The protected text (for the host's own use, never printed)."""
        return self._plain

    def __str__(self) -> str:
        return self.ps_type_name


class PSCredential:
    """A System.Management.Automation.PSCredential."""

    ps_type_name = "System.Management.Automation.PSCredential"

    def __init__(self, user_name: str, password: SecureString):
        self.user_name = user_name
        self.password = password

    def ps_properties(self) -> list[tuple[str, Any]]:
        return [("UserName", self.user_name), ("Password", self.password)]

    def __str__(self) -> str:
        return self.ps_type_name


class CommandInfo:
    """A Get-Command record."""

    def __init__(self, command: Cmdlet):
        self.command = command

    def ps_properties(self) -> list[tuple[str, Any]]:
        c = self.command
        kind = "Application" if c.native else c.command_type
        return [("CommandType", kind), ("Name", c.name), ("Version", c.version), ("Source", c.module)]

    def ps_default_table(self) -> list[str]:
        return ["CommandType", "Name", "Version", "Source"]

    def __str__(self) -> str:
        return self.command.name


def _builtin(registry: Registry, name: str, params: list[Param], implementing: str, module: str = _UTILITY,
             **options: Any):
    def wrap(fn):
        return registry.register(Cmdlet(name, fn, tuple(params), module=module, version="3.1.0.0",
                                        implementing_type=f"Microsoft.PowerShell.Commands.{implementing}",
                                        should_process=options.pop("should_process", False), **options))

    return wrap


class _Sealed(Registry):
    """A registry that refuses changes once sealed (one is shared by every console)."""

    sealed = False

    def register(self, command: Cmdlet) -> Cmdlet:
        self._unsealed()
        return super().register(command)

    def alias(self, alias: str, target: str) -> None:
        self._unsealed()
        super().alias(alias, target)

    def _unsealed(self) -> None:
        if self.sealed:
            raise TypeError(msg.BUILTINS_SEALED)


@functools.lru_cache(maxsize=1)
def shared_builtins() -> Registry:
    """The built-in commands, built once per process and sealed: they hold no state of their own
    (everything they touch comes in their Invocation), so every console can use the same ones."""
    registry = builtin_registry(_Sealed())
    registry.sealed = True  # type: ignore[attr-defined]
    return registry


def builtin_registry(r: Registry | None = None) -> Registry:
    """A registry holding the console's built-in commands (in ``r`` when given)."""
    r = Registry() if r is None else r

    @_builtin(r, "Get-Date", [Param("Date", ANY, position=0, pipeline=True), Param("Format"), Param("UFormat")],
              "GetDateCommand")
    def get_date(inv: Invocation) -> Any:
        when = inv.params.get("Date") or inv.host.now()
        if isinstance(when, str):
            when = dt.datetime.fromisoformat(when)
        fmt = inv.params.get("Format")
        return format_date(when, fmt) if fmt else when

    @_builtin(r, "Write-Host", [Param("Object", ANY, position=0, remaining=True), Param("NoNewline", SWITCH),
                                Param("Separator", ANY), Param("ForegroundColor"), Param("BackgroundColor")],
              "WriteHostCommand")
    def write_host(inv: Invocation) -> None:
        value = inv.params.get("Object")
        items = value if isinstance(value, list) else [value]
        separator = to_string(inv.params.get("Separator", " "))
        inv.write_host(separator.join(to_string(v) for v in items if v is not None))

    @_builtin(r, "Write-Output", [Param("InputObject", ANY, position=0, remaining=True, pipeline=True)],
              "WriteOutputCommand", aliases=("echo", "write"))
    def write_output(inv: Invocation) -> Any:
        value = inv.params.get("InputObject")
        return value if isinstance(value, list) else [value]

    @_builtin(r, "Get-Credential", [Param("Credential", ANY, position=0), Param("UserName"), Param("Message"),
                                    Param("Title")], "GetCredentialCommand", module=_SECURITY)
    def get_credential(inv: Invocation) -> Any:
        given = inv.params.get("Credential")
        if isinstance(given, PSCredential):
            return given
        prompt = inv.host.read_credential
        if prompt is None:
            raise CmdletError(msg.NON_INTERACTIVE.text, "InvalidOperation", "", "GetCredentialNonInteractive",
                              "PSInvalidOperationException")
        user, password = prompt(to_string(given) if given else inv.params.get("UserName"), inv.params.get("Message"))
        return PSCredential(user, SecureString(password))

    @_builtin(r, "ConvertTo-SecureString", [Param("String", position=0, mandatory=True, pipeline=True),
                                            Param("AsPlainText", SWITCH), Param("Force", SWITCH), Param("Key", ANY)],
              "ConvertToSecureStringCommand", module=_SECURITY)
    def convert_to_secure_string(inv: Invocation) -> Any:
        if not inv.params.get("AsPlainText"):
            raise CmdletError(msg.INPUT_STRING_FORMAT.text, "NotSpecified", "", "System.FormatException",
                              "FormatException")
        if not inv.params.get("Force"):
            raise CmdletError(msg.PLAIN_TEXT_NEEDS_FORCE.text, "InvalidArgument", "",
                              "ImportSecureString_InvalidArgument", "ArgumentException")
        return SecureString(inv.params["String"])

    @_builtin(r, "New-Object", [Param("TypeName", position=0, mandatory=True),
                                Param("ArgumentList", list, position=1, aliases=("Args",)),
                                Param("Property", dict)], "NewObjectCommand")
    def new_object(inv: Invocation) -> Any:
        name = inv.params["TypeName"]
        args = inv.params.get("ArgumentList") or []
        short = name.lower().rsplit(".", 1)[-1]
        if short == "pscredential" and name.lower() in ("pscredential", "system.management.automation.pscredential"):
            if len(args) != 2:
                raise CmdletError(msg.CONSTRUCTOR_OVERLOAD.format(type_name="PSCredential", count=len(args)),
                                  "InvalidOperation", "", "ConstructorInvokedThrowException", "MethodException")
            password = args[1] if isinstance(args[1], SecureString) else SecureString(to_string(args[1]))
            return PSCredential(to_string(args[0]), password)
        if short in ("psobject", "pscustomobject"):
            return PSObject(list((inv.params.get("Property") or {}).items()))
        raise CmdletError(msg.TYPE_NOT_FOUND.format(type_name=name), "InvalidType", "", "TypeNotFound",
                          "PSArgumentException")

    @_builtin(r, "Get-Command", [Param("Name", list, position=0)], "GetCommandCommand", module=_CORE,
              aliases=("gcm",))
    def get_command(inv: Invocation) -> Any:
        from lab.console.ps_values import like

        shell = inv.shell
        everything = {c.name.lower(): c for c in shell.builtins.commands() + shell.registry.commands()}
        patterns = [to_string(p) for p in inv.params.get("Name") or ["*"]]
        found = []
        for pattern in patterns:
            matched = [c for key, c in sorted(everything.items()) if like(c.name, pattern)]
            if not matched and not any(ch in pattern for ch in "*?["):
                raise CmdletError(msg.COMMAND_NOT_FOUND.format(name=pattern), "ObjectNotFound", pattern,
                                  "CommandNotFoundException", "CommandNotFoundException")
            found += [CommandInfo(c) for c in matched]
        return found

    @_builtin(r, "Get-Help", [Param("Name", position=0), Param("Full", SWITCH), Param("Detailed", SWITCH),
                              Param("Examples", SWITCH)], "GetHelpCommand", module=_CORE, aliases=("help",))
    def get_help(inv: Invocation) -> Any:
        name = inv.params.get("Name") or "Get-Help"
        command = inv.shell.resolve(name)
        if command is None:
            raise CmdletError(msg.COMMAND_NOT_FOUND.format(name=name), "ResourceUnavailable", name,
                              "HelpNotFound", "HelpNotFoundException")
        syntax = " ".join([command.name] + [_syntax(p) for p in command.params] + ["[<CommonParameters>]"])
        text = f"\nNAME\n    {command.name}\n\nSYNOPSIS\n    {command.synopsis}\n\n\nSYNTAX\n    {syntax}\n\n"
        return FormattedOutput(text)

    @_builtin(r, "Where-Object", [Param("FilterScript", ANY, position=0, mandatory=True)], "WhereObjectCommand",
              module=_CORE, aliases=("?", "where"), collect_input=True)
    def where_object(inv: Invocation) -> Any:
        block = inv.params["FilterScript"]
        return [rec for rec in inv.input if truthy(_collapse(inv.shell.invoke_block(block, rec)))]

    @_builtin(r, "ForEach-Object", [Param("Process", ANY, position=0, mandatory=True)], "ForEachObjectCommand",
              module=_CORE, aliases=("%", "foreach"), collect_input=True)
    def foreach_object(inv: Invocation) -> Any:
        block = inv.params["Process"]
        return [out for rec in inv.input for out in inv.shell.invoke_block(block, rec)]

    @_builtin(r, "Select-Object", [Param("Property", list, position=0), Param("First", int), Param("Last", int),
                                   Param("Skip", int), Param("ExpandProperty"), Param("Unique", SWITCH)],
              "SelectObjectCommand", aliases=("select",), collect_input=True)
    def select_object(inv: Invocation) -> Any:
        records = list(inv.input)
        p = inv.params
        if p.get("Unique"):
            records = [r for i, r in enumerate(records) if r not in records[:i]]
        records = records[p.get("Skip") or 0:]
        if p.get("First") is not None:
            records = records[: p["First"]]
        if p.get("Last") is not None:
            records = records[-p["Last"]:] if p["Last"] else []
        if p.get("ExpandProperty"):
            out = []
            for rec in records:
                value = value_of(rec, p["ExpandProperty"])
                out += value if isinstance(value, list) else [value]
            return out
        if not p.get("Property"):
            return records
        names = [to_string(n) for n in p["Property"]]
        return [PSObject([(n, value_of(rec, n)) for n in expand_properties(rec, names)]) for rec in records]

    @_builtin(r, "Sort-Object", [Param("Property", list, position=0), Param("Descending", SWITCH),
                                 Param("Unique", SWITCH)], "SortObjectCommand", aliases=("sort",),
              collect_input=True)
    def sort_object(inv: Invocation) -> Any:
        import functools

        names = [to_string(n) for n in inv.params.get("Property") or []]

        def key_of(rec: Any) -> list[Any]:
            return [value_of(rec, n) for n in names] if names else [rec]

        def cmp(a: Any, b: Any) -> int:
            for x, y in zip(key_of(a), key_of(b)):
                order = _order(x, y, False)
                if order:
                    return order
            return 0

        ordered = sorted(inv.input, key=functools.cmp_to_key(cmp), reverse=bool(inv.params.get("Descending")))
        return ordered

    @_builtin(r, "Measure-Object", [Param("Property", position=0), Param("Sum", SWITCH), Param("Average", SWITCH),
                                    Param("Maximum", SWITCH), Param("Minimum", SWITCH)], "MeasureObjectCommand",
              aliases=("measure",), collect_input=True)
    def measure_object(inv: Invocation) -> Any:
        p = inv.params
        values = [value_of(r, p["Property"]) for r in inv.input] if p.get("Property") else list(inv.input)
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        stat = {
            "Average": sum(numbers) / len(numbers) if p.get("Average") and numbers else None,
            "Sum": sum(numbers) if p.get("Sum") else None,
            "Maximum": max(numbers) if p.get("Maximum") and numbers else None,
            "Minimum": min(numbers) if p.get("Minimum") and numbers else None,
        }
        return PSObject([("Count", len(values))] + list(stat.items()) + [("Property", p.get("Property"))],
                        "Microsoft.PowerShell.Commands.GenericMeasureInfo")

    @_builtin(r, "Format-List", [Param("Property", list, position=0)], "FormatListCommand", aliases=("fl",),
              collect_input=True)
    def format_list_cmd(inv: Invocation) -> Any:
        names = [to_string(n) for n in inv.params.get("Property") or []] or None
        return FormattedOutput(format_list(inv.input, names), list(inv.input))

    @_builtin(r, "Format-Table", [Param("Property", list, position=0), Param("AutoSize", SWITCH),
                                  Param("Wrap", SWITCH), Param("HideTableHeaders", SWITCH)], "FormatTableCommand",
              aliases=("ft",), collect_input=True)
    def format_table_cmd(inv: Invocation) -> Any:
        names = [to_string(n) for n in inv.params.get("Property") or []] or None
        text = format_table(inv.input, names, bool(inv.params.get("AutoSize")))
        return FormattedOutput(text, list(inv.input))

    @_builtin(r, "Out-Null", [Param("InputObject", ANY, pipeline=True)], "OutNullCommand", module=_CORE,
              collect_input=True)
    def out_null(inv: Invocation) -> None:
        return None

    return r


def _syntax(param: Param) -> str:
    kind = param.display_type.rsplit(".", 1)[-1]
    name = f"-{param.name}" if param.position is None else f"[-{param.name}]"
    text = name if param.is_switch else f"{name} <{kind}>"
    return text if param.mandatory else f"[{text}]"


def _collapse(values: list[Any]) -> Any:
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def call_method(target: Any, name: str, args: list[Any]) -> Any:
    """The .NET methods the console supports on strings, dates, credentials and arrays."""
    lowered = name.lower()
    if target is None:
        raise PSRuntimeError(msg.INVOKE_METHOD_ON_NULL, "InvokeMethodOnNull")
    if lowered == "tostring":
        if isinstance(target, dt.datetime) and args:
            return format_date(target, to_string(args[0]))
        return to_string(target)
    if isinstance(target, str):
        text = [to_string(a) for a in args]
        methods = {
            "toupper": lambda: target.upper(), "tolower": lambda: target.lower(),
            "trim": lambda: target.strip(text[0] if text else None),
            "trimstart": lambda: target.lstrip(text[0] if text else None),
            "trimend": lambda: target.rstrip(text[0] if text else None),
            "split": lambda: _split(target, text), "replace": lambda: target.replace(text[0], text[1]),
            "contains": lambda: text[0] in target, "startswith": lambda: target.startswith(text[0]),
            "endswith": lambda: target.endswith(text[0]), "indexof": lambda: target.find(text[0]),
            "substring": lambda: target[int(args[0]):] if len(args) == 1 else target[int(args[0]):int(args[0]) + int(args[1])],
        }
        if lowered in methods:
            return methods[lowered]()
    if isinstance(target, dt.datetime) and lowered.startswith("add"):
        unit = {"adddays": "days", "addhours": "hours", "addminutes": "minutes", "addseconds": "seconds"}.get(lowered)
        if unit:
            return target + dt.timedelta(**{unit: float(args[0])})
    if isinstance(target, PSCredential) and lowered == "getnetworkcredential":
        return PSObject([("UserName", target.user_name), ("Password", target.password.reveal()), ("Domain", "")])
    if isinstance(target, list) and lowered == "contains":
        return args[0] in target
    raise PSRuntimeError(msg.METHOD_NOT_FOUND, "MethodNotFound", type_name=type_name(target), name=name)


def _split(text: str, separators: list[str]) -> list[str]:
    if not separators:
        return text.split()
    chars = separators[0]
    out, current = [], []
    for ch in text:
        if ch in chars:
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    return out + ["".join(current)]
