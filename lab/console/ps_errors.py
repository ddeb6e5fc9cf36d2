"""Rendering of PowerShell error records as the Windows PowerShell 5.1 console prints them.

A local error (parser, binding, command lookup, a built-in cmdlet) reads::

    Get-SendConnector : A parameter cannot be found that matches parameter name 'Foo'.
    At line:1 char:19
    + Get-SendConnector -Foo
    +                   ~~~~
        + CategoryInfo          : InvalidArgument: (:) [Get-SendConnector], ParameterBindingException
        + FullyQualifiedErrorId : NamedParameterNotFound,Get-SendConnector

An error raised by an Exchange cmdlet in the remote session of the Exchange Management Shell
carries no position and ends with ``+ PSComputerName``.
"""
from __future__ import annotations

from lab.core.catalogue import console as msg


def position(source: str, start: int, end: int) -> list[str]:
    """``At line:N char:M``, the line, and the ``~~~`` marker under ``[start, end)``."""
    start = max(0, min(start, len(source)))
    line_no = source.count("\n", 0, start) + 1
    line_start = source.rfind("\n", 0, start) + 1
    line_end = source.find("\n", start)
    if line_end < 0:
        line_end = len(source)
    text = source[line_start:line_end].rstrip("\r")
    column = start - line_start + 1
    width = max(1, min(end, line_start + len(text)) - start)
    return [
        msg.POSITION.format(line=line_no, column=column),
        "+ " + text,
        "+ " + " " * (column - 1) + "~" * width,
    ]


def category_line(category: str, activity: str, reason: str, target: str = "", target_type: str = "String") -> str:
    """The ``+ CategoryInfo`` line."""
    if target:
        return msg.CATEGORY_INFO.format(category=category, target=target, target_type=target_type,
                                        activity=activity, reason=reason)
    return msg.CATEGORY_INFO_NO_TARGET.format(category=category, activity=activity, reason=reason)


def parse_error(source: str, text: str, error_id: str, start: int, end: int) -> str:
    """A ParserError record (the whole line was refused)."""
    lines = position(source, start, end) + [
        text,
        category_line("ParserError", "", msg.PARSER_REASON.text),
        msg.FULLY_QUALIFIED_ERROR_ID.format(error_id=error_id),
    ]
    return "\n".join(lines) + "\n"


def local_error(source: str, span: tuple[int, int] | None, text: str, *, command: str = "",
                category: str = "NotSpecified", activity: str = "", reason: str = "RuntimeException",
                error_id: str = "RuntimeException", target: str = "", target_type: str = "String") -> str:
    """An error record of a command or expression that ran in this console."""
    lines = [f"{command} : {text}" if command else text]
    if span is not None:
        lines += position(source, span[0], span[1])
    lines += [category_line(category, activity, reason, target, target_type),
              msg.FULLY_QUALIFIED_ERROR_ID.format(error_id=error_id)]
    return "\n".join(lines) + "\n"


def remote_error(text: str, *, category: str, activity: str, reason: str, error_id: str, target: str = "",
                 target_type: str = "String", computer: str | None = None) -> str:
    """An error record returned by the Exchange server's remote session (no position)."""
    lines = [text, category_line(category, activity, reason, target, target_type),
             msg.FULLY_QUALIFIED_ERROR_ID.format(error_id=error_id)]
    if computer:
        lines.append(msg.PS_COMPUTER_NAME.format(computer=computer))
    return "\n".join(lines) + "\n"
