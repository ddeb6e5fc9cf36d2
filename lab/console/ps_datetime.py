""".NET date formatting for ``Get-Date -Format`` (en-US culture, as the lab's servers use).

Standard one-letter formats (``g`` -> ``11/23/2026 1:05 PM``) expand to custom patterns;
custom patterns use .NET's specifiers (``yyyy``, ``MM``, ``dd``, ``HH``, ``hh``, ``mm``,
``ss``, ``tt``, ``fff`` ...), with quoted text and ``\\`` escapes kept literally.
"""
from __future__ import annotations

import datetime as dt
import re

STANDARD = {
    "d": "M/d/yyyy", "D": "dddd, MMMM d, yyyy", "f": "dddd, MMMM d, yyyy h:mm tt",
    "F": "dddd, MMMM d, yyyy h:mm:ss tt", "g": "M/d/yyyy h:mm tt", "G": "M/d/yyyy h:mm:ss tt",
    "t": "h:mm tt", "T": "h:mm:ss tt", "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'", "m": "MMMM d", "M": "MMMM d", "y": "MMMM yyyy", "Y": "MMMM yyyy",
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff", "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff",
}
_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|\\.|yyyy|yy|y|MMMM|MMM|MM|M|dddd|ddd|dd|d|HH|H|hh|h|mm|m|ss|s|tt|t"
                    r"|f{1,7}|.", re.DOTALL)


def format_date(value: dt.datetime, pattern: str) -> str:
    """``value`` formatted with a .NET standard or custom date format string."""
    if len(pattern) == 1:
        pattern = STANDARD.get(pattern, pattern)
    hour12 = value.hour % 12 or 12
    parts = {
        "yyyy": f"{value.year:04d}", "yy": f"{value.year % 100:02d}", "y": str(value.year % 100),
        "MMMM": value.strftime("%B"), "MMM": value.strftime("%b"), "MM": f"{value.month:02d}",
        "M": str(value.month), "dddd": value.strftime("%A"), "ddd": value.strftime("%a"),
        "dd": f"{value.day:02d}", "d": str(value.day), "HH": f"{value.hour:02d}", "H": str(value.hour),
        "hh": f"{hour12:02d}", "h": str(hour12), "mm": f"{value.minute:02d}", "m": str(value.minute),
        "ss": f"{value.second:02d}", "s": str(value.second), "tt": "AM" if value.hour < 12 else "PM",
        "t": "A" if value.hour < 12 else "P",
    }
    out: list[str] = []
    for token in _TOKEN.findall(pattern):
        if token[0] in "'\"" and len(token) >= 2:
            out.append(token[1:-1])
        elif token.startswith("\\"):
            out.append(token[1:])
        elif token[0] == "f" and set(token) == {"f"}:
            out.append(f"{value.microsecond:06d}0"[: len(token)])
        else:
            out.append(parts.get(token, token))
    return "".join(out)
