"""PowerShell value semantics: strings, truth, properties, operators and conversions.

Records coming from cmdlets are any Python objects. Their properties are read through one
protocol (:func:`properties`): ``ps_properties() -> list[(name, value)]`` when defined, else
a dict's items, else a dataclass's fields, else public attributes. Member access is
case-insensitive, as in PowerShell, and enumerates over arrays (``$list.Name``).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from typing import Any, Iterable

from lab.core.catalogue import Message
from lab.core.catalogue import console as msg

ENUMERATION_LIMIT = 16  # the Exchange Management Shell sets $FormatEnumerationLimit = 16


class PSRuntimeError(Exception):
    """A runtime error of an expression (bad conversion, bad operator, unknown method)."""

    def __init__(self, message: Message, error_id: str, category: str = "InvalidOperation",
                 reason: str = "RuntimeException", **values: object):
        self.text = message.format(**values) if values else message.text
        self.error_id = error_id
        self.category = category
        self.reason = reason
        super().__init__(self.text)


class PSObject:
    """An ordered property bag (what ``Select-Object`` and ``[pscustomobject]`` produce)."""

    def __init__(self, props: Iterable[tuple[str, Any]], type_name: str = "System.Management.Automation.PSCustomObject"):
        self._props = list(props)
        self.ps_type_name = type_name

    def ps_properties(self) -> list[tuple[str, Any]]:
        return list(self._props)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PSObject) and self._props == other._props

    def __repr__(self) -> str:
        return f"PSObject({self._props!r})"

    def __str__(self) -> str:
        return "@{" + "; ".join(f"{k}={to_string(v)}" for k, v in self._props) + "}"


def type_name(value: Any) -> str:
    """The .NET type name PowerShell would report for ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, int):
        return "System.Int32" if -(2**31) <= value < 2**31 else "System.Int64"
    if isinstance(value, float):
        return "System.Double"
    if isinstance(value, str):
        return "System.String"
    if isinstance(value, (list, tuple)):
        return "System.Object[]"
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    if isinstance(value, dt.datetime):
        return "System.DateTime"
    return getattr(value, "ps_type_name", type(value).__name__)


def format_number(value: float) -> str:
    """A double as PowerShell prints it (``2.5``, ``4``, ``1E+20``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa.rstrip('0').rstrip('.')}E{sign}{exponent.lstrip('+-').zfill(2)}"
    return text


def to_string(value: Any) -> str:
    """PowerShell's string conversion (invariant culture, arrays joined with a space)."""
    if value.__class__ is str:
        return value  # (str() of a str is itself: most values are)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, (list, tuple)):
        return " ".join(to_string(v) for v in value)
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    if isinstance(value, dt.datetime):
        return value.strftime("%m/%d/%Y %H:%M:%S")
    return str(value)


def display(value: Any, limit: int = ENUMERATION_LIMIT) -> str:
    """A property value as Format-List / Format-Table show it (``{a, b}``, ``True``, blank)."""
    if value.__class__ is str:
        return value  # (what to_string gives a str)
    if isinstance(value, (list, tuple)):
        shown = [display(v, limit) for v in value[:limit]]
        more = "..." if len(value) > limit else ""
        return "{" + ", ".join(shown) + more + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(to_string(k) for k in value) + "}"
    if isinstance(value, dt.datetime):
        hour = value.hour % 12 or 12
        return f"{value.month}/{value.day}/{value.year} {hour}:{value:%M:%S} {'AM' if value.hour < 12 else 'PM'}"
    return to_string(value)


def truthy(value: Any) -> bool:
    """PowerShell's conversion to Boolean."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return truthy(value[0])
        return len(value) > 0
    if isinstance(value, str):
        return value != ""
    if value is None:
        return False
    if isinstance(value, (bool, int, float)):
        return bool(value)
    return True


def properties(obj: Any) -> list[tuple[str, Any]]:
    """The (name, value) pairs of a record, in display order."""
    if hasattr(obj, "ps_properties"):
        return list(obj.ps_properties())
    if isinstance(obj, dict):
        return [(to_string(k), v) for k, v in obj.items()]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
    if isinstance(obj, str):
        return [("Length", len(obj))]
    if isinstance(obj, (int, float, bool)) or obj is None:
        return []
    return [(k, v) for k, v in vars(obj).items() if not k.startswith("_")] if hasattr(obj, "__dict__") else []


def is_scalar(obj: Any) -> bool:
    """True for values printed as themselves (strings, numbers, booleans)."""
    return obj is None or isinstance(obj, (str, int, float, bool, dt.datetime))


def get_member(obj: Any, name: str) -> Any:
    """``obj.name`` with PowerShell's rules (case-insensitive, array enumeration, Count)."""
    lowered = name.lower()
    if isinstance(obj, (list, tuple)):
        if lowered in ("count", "length"):
            return len(obj)
        found = [get_member(item, name) for item in obj]
        flat = [v for f in found for v in (f if isinstance(f, list) else [f]) if v is not None]
        return flat[0] if len(flat) == 1 else (flat or None)
    if obj is None:
        return 0 if lowered == "count" else None
    if isinstance(obj, dict):
        for key, value in obj.items():
            if to_string(key).lower() == lowered:
                return value
        return len(obj) if lowered == "count" else None
    for key, value in properties(obj):
        if key.lower() == lowered:
            return value
    if lowered == "count":
        return 1
    if isinstance(obj, dt.datetime):
        parts = {"year": obj.year, "month": obj.month, "day": obj.day, "hour": obj.hour, "minute": obj.minute,
                 "second": obj.second, "dayofweek": obj.strftime("%A")}
        return parts.get(lowered)
    return None


_WILDCARD_FLAGS = re.IGNORECASE | re.DOTALL  # (combined once: RegexFlag's "|" runs Python code each time)


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """A compiled regex for a PowerShell wildcard (``*``, ``?``, ``[a-z]``), case-insensitive."""
    if "`" not in pattern and "[" not in pattern:
        # Each character on its own, as the walk below: re.escape escapes each character alone, so
        # its ``\*`` and ``\?`` are exactly the pattern's ``*`` and ``?`` (an escaped backslash is
        # ``\\``, which these never start inside: they are read left to right).
        text = re.escape(pattern).replace("\\*", ".*").replace("\\?", ".")
        return re.compile(text + r"\Z", _WILDCARD_FLAGS)
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "`" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            out.append("[" + pattern[i + 1 : end].replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z", _WILDCARD_FLAGS)


def like(text: str, pattern: str, case_sensitive: bool = False) -> bool:
    """``text -like pattern``."""
    regex = wildcard_regex(pattern)
    if case_sensitive:
        regex = re.compile(regex.pattern, re.DOTALL)
    return regex.match(text) is not None


def to_number(value: Any) -> int | float:
    """Convert for arithmetic; strings must parse or raise PowerShell's conversion error."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if value is None:
        return 0
    text = to_string(value).strip()
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise PSRuntimeError(msg.CANNOT_CONVERT_STRING, "InvalidCastFromStringToInteger", "InvalidArgument",
                                 value=to_string(value), type_name="System.Int32",
                                 error=msg.INPUT_STRING_FORMAT.text) from None


def _coerce(left: Any, right: Any) -> Any:
    """Convert ``right`` to the type of ``left`` for comparison (PowerShell's rule)."""
    if isinstance(left, bool):
        return truthy(right)
    if isinstance(left, (int, float)) and not isinstance(right, (int, float)):
        try:
            return to_number(right)
        except PSRuntimeError:
            return right
    if isinstance(left, str) and not isinstance(right, str):
        return to_string(right)
    return right


def equals(left: Any, right: Any, case_sensitive: bool = False) -> bool:
    """``left -eq right`` for scalars."""
    right = _coerce(left, right)
    if isinstance(left, str) and isinstance(right, str):
        return left == right if case_sensitive else left.lower() == right.lower()
    if isinstance(left, (int, float)) and isinstance(right, str):
        return False
    if left is None or right is None:
        return left is right
    if not is_scalar(left):
        return left is right or left == right or (isinstance(right, str) and to_string(left).lower() == right.lower())
    return left == right


def _order(left: Any, right: Any, case_sensitive: bool) -> int:
    right = _coerce(left, right)
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return (left > right) - (left < right)
    a, b = to_string(left), to_string(right)
    if not case_sensitive:
        a, b = a.lower(), b.lower()
    return (a > b) - (a < b)


def compare(op: str, left: Any, right: Any) -> Any:
    """A comparison operator (``-eq``, ``-like``, ``-match`` ...), case-insensitive unless ``-c...``."""
    case_sensitive = op.startswith("-c") and op not in ("-contains",)
    base = "-" + (op[2:] if op[1] in "ci" and op[2:] in _BASES else op[1:])
    if base in ("-contains", "-notcontains", "-in", "-notin"):
        collection, item = (left, right) if base in ("-contains", "-notcontains") else (right, left)
        items = collection if isinstance(collection, (list, tuple)) else [collection]
        found = any(equals(x, item, case_sensitive) for x in items)
        return found if base in ("-contains", "-in") else not found
    if isinstance(left, (list, tuple)):
        return [x for x in left if truthy_compare(base, x, right, case_sensitive)]
    return truthy_compare(base, left, right, case_sensitive)


_BASES = {"eq", "ne", "gt", "ge", "lt", "le", "like", "notlike", "match", "notmatch", "contains", "notcontains",
          "in", "notin", "replace"}


def truthy_compare(base: str, left: Any, right: Any, case_sensitive: bool) -> bool:
    """One scalar comparison."""
    if base == "-eq":
        return equals(left, right, case_sensitive)
    if base == "-ne":
        return not equals(left, right, case_sensitive)
    if base in ("-like", "-notlike"):
        hit = like(to_string(left), to_string(right), case_sensitive)
        return hit if base == "-like" else not hit
    if base in ("-match", "-notmatch"):
        try:
            flags = 0 if case_sensitive else re.IGNORECASE
            hit = re.search(to_string(right), to_string(left), flags) is not None
        except re.error:
            raise PSRuntimeError(msg.BAD_REGULAR_EXPRESSION, "InvalidRegularExpression", "InvalidOperation",
                                 pattern=to_string(right)) from None
        return hit if base == "-match" else not hit
    order = _order(left, right, case_sensitive)
    return {"-gt": order > 0, "-ge": order >= 0, "-lt": order < 0, "-le": order <= 0}[base]


def arithmetic(op: str, left: Any, right: Any) -> Any:
    """``+ - * / %`` with PowerShell's left-operand typing."""
    if op == "+":
        if isinstance(left, str):
            return left + to_string(right)
        if isinstance(left, (list, tuple)):
            return list(left) + (list(right) if isinstance(right, (list, tuple)) else [right])
        if isinstance(left, dict) and isinstance(right, dict):
            return {**left, **right}
        if left is None:
            return right
    if op == "*" and isinstance(left, str):
        return left * int(to_number(right))
    if op == "*" and isinstance(left, (list, tuple)):
        return list(left) * int(to_number(right))
    if isinstance(left, (list, tuple, dict)) or (not is_scalar(left)):
        raise PSRuntimeError(msg.OPERATION_NOT_DEFINED, "OperatorFailed", "InvalidOperation",
                             left=type_name(left), operator=op, right=type_name(right))
    a, b = to_number(left), to_number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise PSRuntimeError(msg.DIVIDE_BY_ZERO, "RuntimeException", "NotSpecified")
    if op == "%":
        return math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else int(math.fmod(a, b))
    quotient = a / b
    return int(quotient) if isinstance(a, int) and isinstance(b, int) and a % b == 0 else quotient


def index_value(target: Any, index: Any) -> Any:
    """``target[index]`` as PowerShell reads it (a hashtable by key, case-insensitive; an array by position,
    None outside it; an array of indexes gives an array)."""
    if target is None:
        raise PSRuntimeError(msg.NULL_ARRAY, "NullArray")
    if isinstance(target, dict):
        key = to_string(index).lower()
        return next((v for k, v in target.items() if to_string(k).lower() == key), None)
    if isinstance(target, (list, tuple, str)):
        if isinstance(index, list):
            return [index_value(target, i) for i in index]
        try:
            position = int(index)
        except (TypeError, ValueError):
            return None
        return target[position] if -len(target) <= position < len(target) else None
    if isinstance(index, int) and index in (0, -1):
        return target
    raise PSRuntimeError(msg.CANNOT_INDEX, "CannotIndex", type_name=type_name(target))
