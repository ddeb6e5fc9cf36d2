"""Tokenizer of the PowerShell subset, driven by the parser one token at a time.

PowerShell tokenizes differently in *command mode* (arguments: ``out*``, ``-Port``,
``mail.ixmsoft.com`` are words and parameters) and in *expression mode* (``-eq`` is an
operator, ``25`` a number). The parser therefore asks for the next token at a position in a
mode: :meth:`Lexer.token` is a pure function of ``(position, mode)``, so peeking is free.

Typographic quotes (“ ” „ and ‘ ’ ‚ ‛) and dashes (– — ―) count as their ASCII forms, as in
PowerShell itself; articles paste them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lab.core.catalogue import Message
from lab.core.catalogue import console as msg

DQ = frozenset('"\u201c\u201d\u201e')
SQ = frozenset("'\u2018\u2019\u201a\u201b")
DASHES = frozenset("-\u2013\u2014\u2015")
_DELIMS = frozenset(";|(){},&\n\r")
_SPACE = frozenset(" \t\f\v\u00a0")
_NUMBER = re.compile(
    r"(?:0x[0-9a-f]+|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(?:kb|mb|gb|tb|pb)?(?![\w.])", re.IGNORECASE
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VAR = re.compile(r"[A-Za-z0-9_?]+(?::[A-Za-z0-9_]+)?|\^|\$")
_MULTIPLIERS = {"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}
OPERATORS = frozenset(
    {"and", "or", "xor", "not", "join", "replace", "ireplace", "creplace", "f"}
    | {p + op for p in ("", "i", "c") for op in (
        "eq", "ne", "gt", "ge", "lt", "le", "like", "notlike", "match", "notmatch",
        "contains", "notcontains", "in", "notin")}
)


class ParseError(Exception):
    """A PowerShell parser error: catalogue text, error id and the offending extent."""

    def __init__(self, message: Message, error_id: str, start: int, end: int, **values: object):
        self.text = message.format(**values) if values else message.text
        self.error_id = error_id
        self.start = start
        self.end = end
        super().__init__(self.text)


@dataclass(frozen=True)
class Token:
    """One token: ``kind``, source ``text``, extent and a decoded ``value``."""

    kind: str
    text: str
    start: int
    end: int
    value: object = None


def number_value(text: str) -> int | float:
    """The value of a PowerShell numeric literal (``25``, ``1.5``, ``0x1F``, ``35MB``)."""
    lowered = text.lower()
    factor = 1
    if lowered[-2:] in _MULTIPLIERS:
        factor, lowered = _MULTIPLIERS[lowered[-2:]], lowered[:-2]
    if lowered.startswith("0x"):
        return int(lowered, 16) * factor
    if re.fullmatch(r"\d+", lowered):
        return int(lowered) * factor
    value = float(lowered) * factor
    return int(value) if factor != 1 and value.is_integer() else value


class Lexer:
    """Reads tokens from ``source``; every call is independent of the previous one."""

    def __init__(self, source: str):
        self.source = source
        self.length = len(source)

    # -- trivia ---------------------------------------------------------------------------
    def skip(self, pos: int, newlines: bool = False) -> int:
        """Skip blanks, comments and line continuations (and newlines when asked)."""
        s = self.source
        while pos < self.length:
            ch = s[pos]
            if ch in _SPACE or (newlines and ch in "\r\n"):
                pos += 1
            elif ch == "`" and pos + 1 < self.length and s[pos + 1] in "\r\n":
                pos += 2 if s[pos + 1 : pos + 3] != "\r\n" else 3
            elif s.startswith("<#", pos):
                end = s.find("#>", pos + 2)
                if end < 0:
                    raise ParseError(msg.MISSING_END_MULTILINE_COMMENT, "MissingEndMultiLineComment",
                                     self.length, self.length, terminator="#>")
                pos = end + 2
            elif ch == "#":
                while pos < self.length and s[pos] not in "\r\n":
                    pos += 1
            else:
                return pos
        return pos

    # -- strings --------------------------------------------------------------------------
    def string_end(self, start: int) -> int:
        """The offset just past the string that opens at ``start``."""
        s = self.source
        quotes = DQ if s[start] in DQ else SQ
        pos = start + 1
        while pos < self.length:
            ch = s[pos]
            if ch in quotes:
                if pos + 1 < self.length and s[pos + 1] in quotes:
                    pos += 2
                    continue
                return pos + 1
            if quotes is DQ and ch == "`":
                pos += 2
                continue
            if quotes is DQ and s.startswith("$(", pos):
                pos = self.balanced_end(pos + 1)
                continue
            pos += 1
        raise ParseError(msg.STRING_MISSING_TERMINATOR, "TerminatorExpectedAtEndOfString", start,
                         self.length, quote='"' if quotes is DQ else "'")

    def balanced_end(self, open_pos: int) -> int:
        """The offset past the ``)`` closing the ``(`` at ``open_pos`` (strings skipped)."""
        s = self.source
        depth, pos = 0, open_pos
        while pos < self.length:
            ch = s[pos]
            if ch in DQ or ch in SQ:
                pos = self.string_end(pos)
                continue
            if ch == "`":
                pos += 2
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    return pos + 1
            pos += 1
        raise ParseError(msg.MISSING_END_PARENTHESIS_IN_SUBEXPRESSION, "MissingEndParenthesisInSubexpression",
                         self.length, self.length)

    # -- tokens ---------------------------------------------------------------------------
    def token(self, pos: int, mode: str) -> Token:
        """The token at or after ``pos``: ``mode`` is ``"cmd"`` (arguments) or ``"expr"``."""
        s = self.source
        pos = self.skip(pos)
        if pos >= self.length:
            return Token("eof", "", self.length, self.length)
        ch = s[pos]
        two = s[pos : pos + 2]
        if ch in "\r\n":
            end = pos + (2 if two == "\r\n" else 1)
            return Token("newline", s[pos:end], pos, end)
        if two in ("$(", "@(", "@{"):
            return Token(two, two, pos, pos + 2)
        if ch in DQ or ch in SQ:
            end = self.string_end(pos)
            kind = "xstring" if ch in DQ else "string"
            body = s[pos + 1 : end - 1]
            value = body if kind == "xstring" else re.sub("[" + "".join(SQ) + "]{2}", lambda m: m.group()[0], body)
            return Token(kind, s[pos:end], pos, end, value)
        if ch == "$":
            if two == "${":
                end = s.find("}", pos + 2)
                if end < 0 or end == pos + 2:
                    raise ParseError(msg.INVALID_VARIABLE_REFERENCE, "InvalidVariableReference", pos, pos + 1)
                return Token("var", s[pos : end + 1], pos, end + 1, s[pos + 2 : end])
            m = _VAR.match(s, pos + 1)
            if not m:
                if mode == "cmd":
                    return self._generic(pos)
                raise ParseError(msg.INVALID_VARIABLE_REFERENCE, "InvalidVariableReference", pos, pos + 1)
            return Token("var", s[pos : m.end()], pos, m.end(), m.group())
        if ch == "@":
            m = _VAR.match(s, pos + 1)
            if m and m.group() not in ("^", "$"):
                return Token("splat", s[pos : m.end()], pos, m.end(), m.group())
            if mode == "cmd":
                return self._generic(pos)
            raise ParseError(msg.UNEXPECTED_TOKEN, "UnexpectedToken", pos, pos + 1, token="@")
        if ch in "(){}[],;|.&":
            if ch == "." and mode == "cmd" and pos + 1 < self.length and s[pos + 1] not in _SPACE | _DELIMS:
                return self._generic(pos)
            if ch == "&" and two != "&&":
                return Token("&", "&", pos, pos + 1)
            return Token(ch, ch, pos, pos + 1)
        if mode == "cmd":
            return self._command_token(pos)
        return self._expression_token(pos)

    def _command_token(self, pos: int) -> Token:
        s = self.source
        ch = s[pos]
        if ch in DASHES and pos + 1 < self.length:
            nxt = s[pos + 1]
            if nxt.isalpha() or nxt in "_?":
                end = pos + 1
                while end < self.length and s[end] not in _SPACE and s[end] not in _DELIMS and s[end] != ":":
                    end += 1
                name = s[pos + 1 : end]
                colon = end < self.length and s[end] == ":"
                if colon:
                    end += 1
                return Token("param", s[pos:end], pos, end, (name, colon))
        token = self._generic(pos)
        if _NUMBER.fullmatch(token.text) or (token.text[0] in DASHES and _NUMBER.fullmatch(token.text[1:])):
            sign = -1 if token.text[0] in DASHES else 1
            digits = token.text[1:] if sign < 0 else token.text
            return Token("number", token.text, token.start, token.end, sign * number_value(digits))
        return token

    def _generic(self, pos: int) -> Token:
        """A bare word in command mode (quotes inside it are kept as typed)."""
        s = self.source
        end = pos
        while end < self.length:
            ch = s[end]
            if ch in _SPACE or ch in _DELIMS:
                break
            if ch == "`" and end + 1 < self.length:
                if s[end + 1] in "\r\n":
                    break
                end += 2
                continue
            if (ch in DQ or ch in SQ) and end > pos:
                end = self.string_end(end)
                continue
            end += 1
        text = s[pos:end]
        kind = "xgeneric" if "$" in text else "generic"
        return Token(kind, text, pos, end, re.sub("`(.)", r"\1", text))

    def _expression_token(self, pos: int) -> Token:
        s = self.source
        ch = s[pos]
        m = _NUMBER.match(s, pos)
        if m and (ch.isdigit() or (ch == "." and pos + 1 < self.length and s[pos + 1].isdigit())):
            return Token("number", m.group(), pos, m.end(), number_value(m.group()))
        if ch in DASHES:
            m = re.compile(r"[A-Za-z]+").match(s, pos + 1)
            if m and m.group().lower() in OPERATORS:
                return Token("op", s[pos : m.end()], pos, m.end(), "-" + m.group().lower())
            if s.startswith("=", pos + 1):
                return Token("op", s[pos : pos + 2], pos, pos + 2, "-=")
            return Token("op", ch, pos, pos + 1, "-")
        if ch in "+*/%" and s.startswith("=", pos + 1):
            return Token("op", s[pos : pos + 2], pos, pos + 2, ch + "=")
        if ch in "+*/%!":
            return Token("op", ch, pos, pos + 1, ch)
        if ch == "=":
            return Token("=", "=", pos, pos + 1)
        if ch == ":" and s.startswith("::", pos):
            return Token("::", "::", pos, pos + 2)
        m = _IDENT.match(s, pos)
        if m:
            end = m.end()
            while end < self.length and (s[end].isalnum() or s[end] in "_-"):
                end += 1
            return Token("ident", s[pos:end], pos, end, s[pos:end])
        return Token("other", ch, pos, pos + 1, ch)
