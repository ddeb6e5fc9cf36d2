"""PowerShell parameter binding: a command line's evaluated arguments -> a cmdlet's parameters.

:func:`bind` reads what it needs of a command's declaration from its
:class:`~lab.console.registry.Signature` (worked out once per declaration); :func:`convert` turns
one value into a parameter's type with PowerShell's transformation errors. Pure functions.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from lab.console.ps_values import to_string, type_name
from lab.console.registry import _COMMON_NAMES, SWITCH, UNKNOWN, BindingError, Cmdlet, Param, Span
from lab.core.catalogue import console as msg


class Arg(NamedTuple):
    """One evaluated command-line element: positional when ``name`` is None.

    A named tuple (immutable, read by field name, cheap to make: the pre-flight makes one for every
    argument of every command it binds)."""

    value: Any
    span: Span | None = None
    name: str | None = None
    has_value: bool = True
    name_span: Span | None = None


_ABSENT = object()  # (bind: a parameter not bound)


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
    signature = command.signature
    exact = signature.exact
    bound: dict[str, Any] = {}
    positional: list[Arg] = []
    following = iter(args)  # (a parameter without its value takes the next argument from here)
    for arg in following:
        name = arg.name
        if name is None:
            positional.append(arg)
            continue
        param = exact.get(name.lower())  # (resolve_parameter's exact match, inline)
        if param is None:
            param = resolve_parameter(command, name, arg.name_span)
        key = param.name
        if key in bound:
            raise BindingError(msg.PARAMETER_ALREADY_BOUND, "ParameterAlreadyBound", arg.name_span, name=key)
        if arg.has_value:
            source = arg
        elif param.type == SWITCH:  # (param.is_switch)
            bound[key] = True
            continue
        else:
            source = next(following, None)
            if source is None or source.name is not None:
                raise BindingError(msg.MISSING_ARGUMENT_FOR_PARAMETER, "MissingArgument", arg.name_span,
                                   name=key, type_name=param.display_type)
        value = source.value
        plain = param.plain  # (convert's first answer, inline: the value as it is)
        bound[key] = (value if plain is not None and (plain is object or value.__class__ is str)
                      else convert(param, value, source.span))
    if positional:  # (the remaining-arguments parameter matters only to positional arguments)
        rest = None
        for p in signature.remaining:
            if p.name not in bound:
                rest = p
                break
        if bound or rest is not None:
            slots = [p for p in signature.by_position if p.name not in bound and p is not rest]
        else:  # (nothing bound by name, no leftovers parameter: the comprehension above keeps every one)
            slots = list(signature.by_position)
        leftovers: list[Any] = []
        for arg in positional:
            if slots:
                param = slots.pop(0)
                value = arg.value
                plain = param.plain  # (convert's first answer, inline: the value as it is)
                bound[param.name] = (value if plain is not None and (plain is object or value.__class__ is str)
                                     else convert(param, value, arg.span))
            elif rest is not None:
                leftovers.append(arg.value)
            elif not partial:
                shown = "System.Object[]" if isinstance(arg.value, list) else to_string(arg.value)
                raise BindingError(msg.POSITIONAL_PARAMETER_NOT_FOUND, "PositionalParameterNotFound", None,
                                   argument=shown)
        if rest is not None and leftovers:
            bound[rest.name] = convert(rest, leftovers if len(leftovers) > 1 or rest.is_list else leftovers[0],
                                       None)
    mandatory = signature.mandatory
    if mandatory:
        empty = False  # (a value _check_not_empty may refuse: checked once none is missing)
        for p in mandatory:
            value = bound.get(p.name, _ABSENT)
            if value is _ABSENT:
                if not partial and not (expects_input and p.pipeline):  # (the list below only when one is)
                    missing = [q.name for q in mandatory if q.name not in bound and not (expects_input and q.pipeline)]
                    raise BindingError(msg.MISSING_MANDATORY_PARAMETER, "MissingMandatoryParameter", None,
                                       names="".join(" " + n for n in missing))
            elif value is None or value == "":  # (UNKNOWN, a value not known yet, is neither)
                empty = True
        if empty:
            for p in mandatory:
                value = bound.get(p.name, UNKNOWN)  # (unbound, or not known yet: nothing to check)
                if value is not UNKNOWN and (value is None or value == ""):  # (what _check_not_empty may refuse)
                    _check_not_empty(p, value)
    if _COMMON_NAMES.isdisjoint(bound):  # (no common parameter given: the split below keeps every one)
        return bound, {}
    common = {k: v for k, v in bound.items() if k in _COMMON_NAMES}
    return {k: v for k, v in bound.items() if k not in _COMMON_NAMES}, common


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
    plain = param.plain
    if plain is not None and (plain is object or value.__class__ is str):
        return value  # (what the steps below give: an object parameter takes it as it is, a text one its str)
    if value is UNKNOWN:
        return UNKNOWN
    if param.is_list:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        element = param.element
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
    if param.type is str:  # (_convert_scalar's answer for text parameters, inline)
        return value if value is None or value.__class__ is str else to_string(value)
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
