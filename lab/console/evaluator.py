"""The lab console's PowerShell evaluator: runs a parsed line against a cmdlet registry.

Pure: no I/O, no clock. The host passes its callbacks in :class:`HostCallbacks` (the lab
clock for ``Get-Date``, a credential prompt for ``Get-Credential``, the server name shown
as ``PSComputerName`` in errors of remote Exchange cmdlets).

Theory of operation for :meth:`Shell.run`:

1. parse the whole input; a parse error runs nothing;
2. pre-flight: resolve every command and bind every argument whose value is known before
   running (literals); an unknown command or a binding error runs nothing of the line;
3. run the statements in order. A cmdlet error is reported and the next record or statement
   goes on (as in PowerShell); a binding error found only at run time (a variable's value
   of the wrong type) stops its statement.

Variables persist across :meth:`Shell.run` calls.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from lab.console import ps_ast as ast
from lab.console import ps_errors
from lab.console.format import FormattedOutput, render_default
from lab.console.parser import ParseError, parse
from lab.console.ps_values import (PSRuntimeError, arithmetic, compare, get_member, index_value, to_string, truthy,
                                   type_name)
from lab.console.ps_builtins import shared_builtins
from lab.console.ps_static import commands, constant_arguments, static_arguments
from lab.console.binding import Arg, bind, convert
from lab.console.registry import BindingError, Cmdlet, CmdletError, Invocation, Registry, invocation
from lab.core.catalogue import console as msg
from lab.core.fastpath import frozen_init

__all__ = ["HostCallbacks", "RunResult", "Shell", "ScriptBlockValue"]


@frozen_init
@dataclass(frozen=True)
class HostCallbacks:
    """What the host provides to the pure shell.

    Attributes:
        now: the lab clock (local time of the lab) for ``Get-Date``.
        read_credential: ``(user_name, message) -> (user_name, password)``; None means the
            console cannot prompt (``Get-Credential`` then fails like a non-interactive shell).
        computer_name: the Exchange server of the remote session (``+ PSComputerName``).
    """

    now: Callable[[], dt.datetime]
    read_credential: Callable[[str | None, str | None], tuple[str, str]] | None = None
    computer_name: str | None = None


@frozen_init
@dataclass(frozen=True)
class RunResult:
    """The outcome of one :meth:`Shell.run`.

    Attributes:
        output_text: everything the console prints, errors included, in order.
        objects: the records that reached the end of the pipelines.
        errors: each error record's text (also part of ``output_text``).
        changed: a cmdlet reported that it changed the lab.
    """

    output_text: str
    objects: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    changed: bool = False


@dataclass(frozen=True)
class ScriptBlockValue:
    """A ``{ ... }`` value; Where-Object / ForEach-Object run it with ``$_`` set."""

    node: ast.ScriptBlock

    def __str__(self) -> str:
        return self.node.text


class _StatementAborted(Exception):
    """The current statement stopped after its error was reported."""


class _Output:
    """What one :meth:`Shell.run` has printed (chunks of text, errors included), the records that reached
    the end of its pipelines, its errors' texts, and whether a cmdlet changed the lab."""

    __slots__ = ("chunks", "objects", "errors", "changed")

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.objects: list[Any] = []
        self.errors: list[str] = []
        self.changed = False

    def error(self, text: str) -> None:
        self.errors.append(text)
        self.chunks.append(text + "\n")


class Shell:
    """A console session: a registry, host callbacks and the session's variables."""

    def __init__(self, registry: Registry, host_callbacks: HostCallbacks):
        self.registry = registry
        self.builtins = shared_builtins()
        self.host = host_callbacks
        self.variables: dict[str, Any] = {}
        self._source = ""
        self._out = _Output()
        self._dollar_under: list[Any] = []
        # command node id -> (node, command, its binding or None): resolved by the pre-flight, and
        # bound there when its arguments are all literals, so resolving and binding it again when it
        # runs would give the same (see _preflight)
        self._prebound: dict[int, tuple[ast.Command, Cmdlet, tuple[dict[str, Any], dict[str, Any]] | None]] = {}

    # -- public -----------------------------------------------------------------------------
    def run(self, text: str, result: Callable[[str, list[Any], list[str], bool], Any] = RunResult) -> Any:
        """Run one console input (one or more lines) and report what the console shows: ``result(output_text,
        objects, errors, changed)`` (a :class:`RunResult` by default; a caller that wants another record of
        these values passes its builder, so that no RunResult is built only to be copied)."""
        self._source = text
        self._out = out = _Output()
        try:
            script = parse(text)
        except ParseError as error:
            out.error(ps_errors.parse_error(text, error.text, error.error_id, error.start, error.end))
            return self._result(result)
        self._prebound = {}
        try:
            self._preflight(script.statements)
        except _StatementAborted:
            return self._result(result)
        try:
            for statement in script.statements:
                try:
                    objects = self._run_statement(statement)
                except _StatementAborted:
                    continue
                self._emit(objects)
        finally:
            self._prebound = {}
        return self._result(result)

    def resolve(self, name: str) -> Cmdlet | None:
        """The command ``name`` names: the registry's first, then the built-ins."""
        return self.registry.resolve(name) or self.builtins.resolve(name)

    def invoke_block(self, block: ScriptBlockValue, current: Any) -> list[Any]:
        """Run a script block with ``$_`` bound to ``current``; return its output."""
        self._dollar_under.append(current)
        try:
            return self._run_statements(block.node.statements)
        finally:
            self._dollar_under.pop()

    # -- plumbing ---------------------------------------------------------------------------
    def _result(self, result: Callable[[str, list[Any], list[str], bool], Any]) -> Any:
        out = self._out
        return result("".join(out.chunks), out.objects, out.errors, out.changed)

    def _emit(self, objects: list[Any]) -> None:
        if not objects:
            return  # (nothing to keep, nothing printed)
        kept = self._out.objects
        for obj in objects:
            if isinstance(obj, FormattedOutput):
                kept.extend(obj.records)
            else:
                kept.append(obj)
        text = render_default(objects)
        if text:
            self._out.chunks.append(text)

    def _fail_runtime(self, error: PSRuntimeError, span: ast.Span) -> None:
        self._out.error(ps_errors.local_error(self._source, span, error.text, category=error.category,
                                              reason=error.reason, error_id=error.error_id))
        raise _StatementAborted

    def _fail_binding(self, error: BindingError, command: Cmdlet | None, node: ast.Command) -> None:
        activity = command.name if command else node.name
        error_id = command.qualified_error_id(error.error_id) if command else error.error_id
        self._out.error(ps_errors.local_error(
            self._source, error.span or node.span, error.text, command=node.name, category=error.category,
            activity=activity, reason=error.reason, error_id=error_id))
        raise _StatementAborted

    def _not_found(self, node: ast.Command) -> None:
        self._out.error(ps_errors.local_error(
            self._source, node.name_span, msg.COMMAND_NOT_FOUND.format(name=node.name), command=node.name,
            category="ObjectNotFound", reason="CommandNotFoundException", error_id="CommandNotFoundException",
            target=node.name))
        raise _StatementAborted

    # -- pre-flight -------------------------------------------------------------------------
    def _preflight(self, statements: tuple[ast.Statement, ...]) -> None:
        prebound = self._prebound
        registry, builtins = self.registry, self.builtins
        for node, piped in commands(statements):
            command = registry.resolve(node.name) or builtins.resolve(node.name)  # (self.resolve, inline)
            if command is None:
                self._not_found(node)
            assert command is not None
            if command.native:
                continue
            args, partial, literal = static_arguments(node)
            try:
                bound = bind(command, args, partial=partial, expects_input=piped)
            except BindingError as error:
                self._fail_binding(error, command, node)
            # A name resolves to the same command until the line ends (a registry only grows by
            # loading the module that declares the name). Every argument a literal: evaluating them
            # when the command runs gives these same values (and runs nothing), and binding is a
            # pure function of the command and its arguments, so the command runs with this
            # binding (once). So with $true, $false and $null, which evaluate to the constants the pre-flight
            # read whatever the session's variables hold.
            prebound[id(node)] = (node, command, bound if literal or (not partial and constant_arguments(node))
                                  else None)

    def _arguments(self, node: ast.Command) -> list[Arg]:
        """Evaluate a command's elements into binder arguments (splats expanded)."""
        value = self._eval
        args: list[Arg] = []
        for element in node.elements:
            if isinstance(element, ast.CommandParameter):
                has_value = element.argument is not None
                argument = value(element.argument) if element.argument is not None else None
                span = element.argument.span if element.argument is not None else None
                name_span = (element.span[0], element.span[0] + len(element.text.rstrip(":")))
                args.append(Arg(argument, span, element.name, has_value, name_span))
            elif isinstance(element, ast.Splat):
                args.extend(self._splat(element))
            else:
                args.append(Arg(value(element), element.span))
        return args

    def _splat(self, element: ast.Splat) -> list[Arg]:
        splatted = self.variables.get(element.name.lower())
        if isinstance(splatted, dict):
            return [Arg(v, element.span, to_string(k), True, element.span) for k, v in splatted.items()]
        if isinstance(splatted, list):
            return [Arg(v, element.span) for v in splatted]
        return [] if splatted is None else [Arg(splatted, element.span)]

    # -- statements ---------------------------------------------------------------------------
    def _run_statements(self, statements: tuple[ast.Statement, ...]) -> list[Any]:
        found: list[Any] = []
        for statement in statements:
            found.extend(self._run_statement(statement))
        return found

    def _run_statement(self, statement: ast.Statement) -> list[Any]:
        """What the statement sends down (a list of its own: nothing else holds it)."""
        if isinstance(statement, ast.Assignment):
            self._assign(statement)
            return []
        piped: list[Any] | None = None  # (the first element gets no input, each next one what the one before sent)
        for element in statement.elements:
            if isinstance(element, ast.Command):
                piped = self._invoke(element, piped)
            else:
                piped = _enumerate(self._eval(element))
        return piped if piped is not None else []

    def _assign(self, statement: ast.Assignment) -> None:
        values = self._run_statements((statement.value,))
        value = _collapse(values)
        target = statement.target
        if isinstance(target, ast.Variable):
            self.variables[target.name.lower()] = value
            return
        holder = self._eval(target.target)
        if isinstance(holder, dict):
            key = next((k for k in holder if to_string(k).lower() == target.name.lower()), target.name)
            holder[key] = value
        else:
            self._fail_runtime(PSRuntimeError(msg.INVALID_LEFT_HAND_SIDE, "InvalidLeftHandSide"), target.span)

    def _invoke(self, node: ast.Command, piped: list[Any] | None) -> list[Any]:
        planned = self._prebound.pop(id(node), None)
        if planned is not None and planned[0] is node:
            _, command, prebound = planned
        else:
            found = self.resolve(node.name)
            if found is None:
                self._not_found(node)
            assert found is not None
            command, prebound = found, None
            if command.native:
                raw = [self._native_arg(e) for e in node.elements]
                return self._call(command, node, Invocation(command.name, args=raw, input=piped or [], host=self.host,
                                                            shell=self, console_host=self.registry.host))
        if prebound is not None:
            params, common = prebound
        else:
            args = self._arguments(node)
            try:
                params, common = bind(command, args, expects_input=piped is not None)
            except BindingError as error:
                self._fail_binding(error, command, node)
        if piped is None or command.collect_input:
            return self._call(command, node, invocation(command.name, params, common, piped or [], self.host, self,
                                                        self.registry.host))
        output: list[Any] = []
        target = next((p for p in command.signature.pipeline if p.name not in params), None)
        for record in piped:
            if target is None:
                error = BindingError(msg.INPUT_OBJECT_NOT_BOUND, "InputObjectNotBound", node.span)
                self._report(command, node, CmdletError(error.text, "InvalidArgument", to_string(record),
                                                        "InputObjectNotBound", "ParameterBindingException",
                                                        type_name(record).split(".")[-1]), common, local=True)
                continue
            try:
                value = convert(target, record, None)
            except BindingError as error:
                self._fail_binding(error, command, node)
            inv = invocation(command.name, {**params, target.name: value}, common, [record], self.host, self,
                             self.registry.host)
            output.extend(self._call(command, node, inv))
        return output

    def _native_arg(self, element: ast.CommandElement) -> str:
        if isinstance(element, ast.CommandParameter):
            suffix = to_string(self._eval(element.argument)) if element.argument is not None else ""
            return element.text + suffix
        if isinstance(element, ast.Splat):
            return " ".join(a.value if isinstance(a.value, str) else to_string(a.value) for a in self._splat(element))
        value = self._eval(element)
        return ",".join(to_string(v) for v in value) if isinstance(value, list) else to_string(value)

    def _call(self, command: Cmdlet, node: ast.Command, inv: Invocation) -> list[Any]:
        """Run ``command`` with ``inv`` (made with this shell's host callbacks, the shell, and the console
        host of its registry)."""
        try:
            result = command.fn(inv)
            output = list(result) if result.__class__ is list else _enumerate_result(result)
        except CmdletError as error:
            self._flush_messages(inv)
            self._report(command, node, error, inv.common)
            if inv.common.get("ErrorAction") == "Stop":
                raise _StatementAborted from None
            return []
        except PSRuntimeError as error:
            self._flush_messages(inv)
            self._fail_runtime(error, node.span)
        if inv.messages:  # (nothing written: nothing to flush)
            self._flush_messages(inv)
        out = self._out
        if not out.changed:  # (out.changed = out.changed or inv.changed)
            out.changed = inv.changed
        return output

    def _flush_messages(self, inv: Invocation) -> None:
        self._out.chunks.extend(m + "\n" for m in inv.messages)
        self._out.changed = self._out.changed or inv.changed
        inv.messages.clear()

    def _report(self, command: Cmdlet, node: ast.Command, error: CmdletError, common: dict[str, Any],
                local: bool = False) -> None:
        if common.get("ErrorAction") in ("SilentlyContinue", "Ignore"):
            return
        error_id = command.qualified_error_id(error.error_id)
        if command.remote and not local:
            text = ps_errors.remote_error(error.message, category=error.category, activity=command.name,
                                          reason=error.reason, error_id=error_id, target=error.target,
                                          target_type=error.target_type, computer=self.host.computer_name)
        else:
            text = ps_errors.local_error(self._source, node.span, error.message, command=node.name,
                                         category=error.category, activity=command.name, reason=error.reason,
                                         error_id=error_id, target=error.target, target_type=error.target_type)
        self._out.error(text)

    # -- expressions --------------------------------------------------------------------------
    def _eval(self, node: Any) -> Any:
        cls = node.__class__
        if cls is _STRING or cls is _NUMBER:  # (a literal: its value, nothing to run or fail)
            return node.value
        try:
            return (_HANDLERS.get(cls) or _handler(node))(self, node)
        except PSRuntimeError as error:
            self._fail_runtime(error, node.span)

    def _expandable(self, node: ast.ExpandableString) -> str:
        return "".join([p if isinstance(p, str) else to_string(self._eval(p)) for p in node.parts])

    def _paren(self, node: ast.ParenExpression) -> Any:
        inner = node.pipeline
        if isinstance(inner, ast.Assignment):
            self._assign(inner)
            return self._eval(inner.target)
        return _collapse(self._run_statement(inner))

    def _unary(self, node: ast.UnaryOp) -> Any:
        value = self._eval(node.operand)
        if node.op in ("-not", "!"):
            return not truthy(value)
        return arithmetic("-", 0, value) if node.op == "-" else arithmetic("+", 0, value)

    def _method(self, node: ast.MethodCall) -> Any:
        from lab.console.ps_builtins import call_method

        return call_method(self._eval(node.target), node.name, [self._eval(a) for a in node.arguments])

    def _variable(self, name: str) -> Any:
        lowered = name.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        if lowered == "null":
            return None
        if lowered in ("_", "psitem"):
            return self._dollar_under[-1] if self._dollar_under else None
        return self.variables.get(lowered)

    def _binary(self, node: ast.BinaryOp) -> Any:
        op = node.op
        left = self._eval(node.left)
        if op == "-and":
            return truthy(left) and truthy(self._eval(node.right))
        if op == "-or":
            return truthy(left) or truthy(self._eval(node.right))
        right = self._eval(node.right)
        if op == "-xor":
            return truthy(left) != truthy(right)
        if op in ("+", "-", "*", "/", "%"):
            return arithmetic(op, left, right)
        if op == "-join":
            return to_string(right).join(to_string(v) for v in _enumerate(left))
        if op == "-f":
            values = right if isinstance(right, list) else [right]
            return re.sub(r"\{(\d+)\}", lambda m: to_string(values[int(m.group(1))])
                          if int(m.group(1)) < len(values) else m.group(), to_string(left))
        if op in ("-replace", "-ireplace", "-creplace"):
            pattern, replacement = (right + [""])[:2] if isinstance(right, list) else (right, "")
            flags = 0 if op == "-creplace" else re.IGNORECASE
            return re.sub(to_string(pattern), re.sub(r"\$(\d)", r"\\\1", to_string(replacement)),
                          to_string(left), flags=flags)
        return compare(op, left, right)


_STRING, _NUMBER = ast.StringLiteral, ast.NumberLiteral
_literal: Callable[[Any, Any], Any] = lambda shell, node: node.value  # noqa: E731 (a literal's subclass)

#: expression node class -> how Shell._eval evaluates it (``(shell, node) -> value``)
_HANDLERS: dict[type, Callable[[Shell, Any], Any]] = {
    ast.StringLiteral: _literal, ast.NumberLiteral: _literal, ast.ExpandableString: Shell._expandable,
    ast.Variable: lambda shell, node: shell._variable(node.name),
    ast.SubExpression: lambda shell, node: _collapse(shell._run_statements(node.statements)),
    ast.ArrayExpression: lambda shell, node: list(shell._run_statements(node.statements)),
    ast.ParenExpression: Shell._paren,
    ast.HashLiteral: lambda shell, node: {to_string(shell._eval(k)): _collapse(shell._run_statements((v,)))
                                          for k, v in node.entries},
    ast.ArrayLiteral: lambda shell, node: [shell._eval(item) for item in node.items],
    ast.BinaryOp: Shell._binary, ast.UnaryOp: Shell._unary,
    ast.MemberAccess: lambda shell, node: get_member(shell._eval(node.target), node.name),
    ast.MethodCall: Shell._method,
    ast.IndexExpression: lambda shell, node: index_value(shell._eval(node.target), shell._eval(node.index)),
    ast.ScriptBlock: lambda shell, node: ScriptBlockValue(node),
}


def _handler(node: Any) -> Callable[[Shell, Any], Any]:
    """The handler of the nearest node class of ``node`` (a subclass evaluates as its node class)."""
    for base in node.__class__.__mro__:
        if base in _HANDLERS:
            return _HANDLERS[base]
    raise TypeError(f"not an expression: {node!r}")


def _enumerate(value: Any) -> list[Any]:
    """What a value sends down the pipeline: arrays are unrolled, ``$null`` is one null."""
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _enumerate_result(result: Any) -> list[Any]:
    if result is None:
        return []
    if isinstance(result, (list, tuple)) or (hasattr(result, "__iter__") and hasattr(result, "__next__")):
        return list(result)
    return [result]


def _collapse(values: list[Any]) -> Any:
    """Pipeline output as a value: nothing -> None, one -> itself, more -> an array."""
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)
