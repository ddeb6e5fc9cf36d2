"""Parser of the lab's PowerShell subset: text in, :class:`~lab.console.ps_ast.Script` out.

Pure (stdlib only). The only exception it raises is :class:`ParseError`, whose ``text`` is the
Windows PowerShell 5.1 parser message and whose ``start``/``end`` locate the marker drawn
under the line (``At line:1 char:12`` / ``+ ~~~``).

Grammar (PowerShell's, cut down)::

    script      := statements EOF            statements are separated by ';' or newlines
    statement   := assignment | pipeline
    assignment  := (variable | member) ('=' | '+=' | '-=') statement
    pipeline    := (command | expression) ('|' command)*
    command     := name (argument | -param | -param:argument | @splat)*
    argument    := primary (',' primary)*    in command mode: bare words are strings
    expression  := logical; comparison; additive; multiplicative; comma; unary; postfix; primary
"""
from __future__ import annotations

import functools
import re

from lab.console import ps_ast as ast
from lab.console.ps_lexer import Lexer, ParseError, Token
from lab.core.catalogue import console as msg

__all__ = ["ParseError", "parse", "Parser"]

_LOGICAL = {"-and", "-or", "-xor"}
_ADDITIVE = {"+", "-"}
_MULTIPLICATIVE = {"*", "/", "%"}
_ASSIGN = {"=", "+=", "-=", "*=", "/="}
_COMMAND_END = {"newline", ";", "|", ")", "}", "eof"}
_EXPR_START = {"number", "var", "string", "xstring", "(", "$(", "@(", "@{", "{", "op", "splat"}
_IDENT_AT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VAR_AT = re.compile(r"[A-Za-z0-9_?^$]")


def parse(source: str) -> ast.Script:
    """Parse a whole console input (one or more lines) into a :class:`Script`.

    The tree is frozen (tuples of frozen dataclasses) and depends on the text alone, so a text
    parsed before gives the same :class:`Script` object again (scenarios and transcripts run
    the same lines over and over). A text that fails to parse is parsed again each time, so
    each caller gets its own :class:`ParseError`.

    Raises:
        ParseError: with PowerShell's message, error id and the offending extent.
    """
    return _parse_cached(source)


@functools.lru_cache(maxsize=2048)
def _parse_cached(source: str) -> ast.Script:
    try:
        return Parser(source).script()
    except RecursionError:
        raise ParseError(msg.SCRIPT_TOO_COMPLICATED, "ScriptTooComplicated", 0, len(source)) from None


#: Parse errors that mean "the statement goes on on the next line" (PowerShell's console shows
#: its ``>>`` prompt for them instead of an error).
_UNFINISHED = frozenset({
    "IncompleteHashLiteral", "MissingEndCurlyBrace", "MissingEndParenthesisInExpression",
    "MissingEndParenthesisInSubexpression", "MissingEndParenthesisInMethodCall", "MissingEndSquareBracket",
    "TerminatorExpectedAtEndOfString", "MissingEndMultiLineComment",
})


def needs_more_input(source: str) -> bool:
    """True when ``source`` is an unfinished statement: an open ``@{``, ``(``, ``{``, string or
    ``<#`` comment, or a trailing backtick. A script runner or the console then reads the next line
    into the same statement, as PowerShell does."""
    if source.rstrip("\r\n").endswith("`"):
        return True
    try:
        parse(source)
    except ParseError as error:
        return error.error_id in _UNFINISHED
    return False


class Parser:
    """Recursive-descent parser; ``pos`` is the offset of the next unread character."""

    def __init__(self, source: str):
        self.source = source
        self.lexer = Lexer(source)
        self.pos = 0

    # -- token helpers ----------------------------------------------------------------------
    def peek(self, mode: str = "expr") -> Token:
        return self.lexer.token(self.pos, mode)

    def take(self, mode: str = "expr") -> Token:
        token = self.peek(mode)
        self.pos = token.end
        return token

    def skip_newlines(self) -> None:
        self.pos = self.lexer.skip(self.pos, newlines=True)

    def unexpected(self, token: Token) -> ParseError:
        if token.kind == "eof":
            previous = self.source[: token.start].rstrip()[-1:] or " "
            return ParseError(msg.MISSING_EXPRESSION_AFTER_TOKEN, "MissingExpressionAfterToken", token.start,
                              token.end, token=previous)
        return ParseError(msg.UNEXPECTED_TOKEN, "UnexpectedToken", token.start, token.end, token=token.text)

    # -- statements ---------------------------------------------------------------------------
    def script(self) -> ast.Script:
        statements = self.statements("eof")
        return ast.Script(statements, self.source)

    def statements(self, closer: str) -> tuple[ast.Statement, ...]:
        """Statements up to (not including) a ``closer`` token kind."""
        found: list[ast.Statement] = []
        while True:
            token = self.peek("cmd")
            while token.kind in ("newline", ";"):
                self.pos = token.end
                token = self.peek("cmd")
            if token.kind == closer or token.kind == "eof":
                return tuple(found)
            found.append(self.statement())
            after = self.peek("cmd")
            if after.kind not in ("newline", ";", closer, "eof"):
                raise self.unexpected(after)

    def statement(self) -> ast.Statement:
        start = self.peek("cmd")
        if start.kind in ("generic", "xgeneric"):
            return self.pipeline(None)
        if start.kind == "|":
            raise ParseError(msg.EMPTY_PIPE_ELEMENT, "EmptyPipeElement", start.start, start.end)
        if start.kind not in _EXPR_START | {"param", "op"}:
            raise self.unexpected(start)
        first = self.expression()
        token = self.peek()
        if token.kind == "=" or (token.kind == "op" and token.value in _ASSIGN):
            if not isinstance(first, (ast.Variable, ast.MemberAccess)):
                raise ParseError(msg.INVALID_LEFT_HAND_SIDE, "InvalidLeftHandSide", first.span[0], first.span[1])
            self.pos = token.end
            self.skip_newlines()
            if self.peek("cmd").kind in _COMMAND_END:
                raise ParseError(msg.EXPECTED_VALUE_EXPRESSION, "ExpectedValueExpression", token.start,
                                 token.end, operator=token.text)
            value = self.statement()
            op = "=" if token.kind == "=" else str(token.value)
            if op != "=":
                value = ast.Pipeline((ast.BinaryOp(op[0], first, _as_expr(value), value.span),), value.span)
            return ast.Assignment(first, value, (first.span[0], value.span[1]))
        return self.pipeline(first)

    def pipeline(self, first: ast.Expr | None) -> ast.Pipeline:
        elements: list[ast.Command | ast.Expr] = [first if first is not None else self.command()]
        while self.peek("cmd").kind == "|":
            bar = self.take("cmd")
            self.skip_newlines()
            token = self.peek("cmd")
            if token.kind in _COMMAND_END:
                raise ParseError(msg.EMPTY_PIPE_ELEMENT, "EmptyPipeElement", bar.start, bar.end)
            if token.kind not in ("generic", "xgeneric"):
                raise ParseError(msg.EXPRESSIONS_MUST_BE_FIRST_IN_PIPELINE, "ExpressionsMustBeFirstInPipeline",
                                 token.start, token.end)
            elements.append(self.command())
        return ast.Pipeline(tuple(elements), (elements[0].span[0], elements[-1].span[1]))

    def command(self) -> ast.Command:
        name = self.take("cmd")
        elements: list[ast.CommandElement] = []
        raw: list[str] = []
        while True:
            token = self.peek("cmd")
            if token.kind in _COMMAND_END or token.kind == "&":
                break
            if token.kind == "param":
                self.pos = token.end
                pname, colon = token.value  # type: ignore[misc]
                argument = None
                if colon:
                    following = self.peek("cmd")
                    if following.kind in _COMMAND_END:
                        raise ParseError(msg.MISSING_ARGUMENT, "MissingArgument", token.start, token.end)
                    argument = self.argument()
                end = argument.span[1] if argument is not None else token.end
                elements.append(ast.CommandParameter(pname, argument, token.text, (token.start, end)))
            elif token.kind == "splat":
                self.pos = token.end
                elements.append(ast.Splat(str(token.value), (token.start, token.end)))
            else:
                elements.append(self.argument())
            span = elements[-1].span
            raw.append(self.source[span[0] : span[1]])
        end = elements[-1].span[1] if elements else name.end
        return ast.Command(str(name.value), (name.start, name.end), tuple(elements), tuple(raw), (name.start, end))

    def argument(self) -> ast.Expr:
        """A command argument: a primary in command mode, or a comma list of them."""
        first = self.postfix(self.primary("cmd"))
        if self.peek("cmd").kind != ",":
            return first
        items = [first]
        while self.peek("cmd").kind == ",":
            comma = self.take("cmd")
            self.skip_newlines()
            if self.peek("cmd").kind in _COMMAND_END | {"param"}:
                raise ParseError(msg.MISSING_ARGUMENT, "MissingArgument", comma.end, comma.end)
            items.append(self.postfix(self.primary("cmd")))
        return ast.ArrayLiteral(tuple(items), (first.span[0], items[-1].span[1]))

    # -- expressions --------------------------------------------------------------------------
    def expression(self) -> ast.Expr:
        return self.binary(0)

    def binary(self, level: int) -> ast.Expr:
        """Binary operators by precedence level: logical < comparison < additive < multiplicative."""
        if level == 4:
            return self.comma()
        left = self.binary(level + 1)
        while True:
            token = self.peek()
            if token.kind != "op" or not _at_level(str(token.value), level):
                return left
            self.pos = token.end
            self.skip_newlines()
            if self.peek().kind in ("eof", ")", "}", ";", "newline", "|"):
                raise ParseError(msg.EXPECTED_VALUE_EXPRESSION, "ExpectedValueExpression", token.start, token.end,
                                 operator=token.text)
            right = self.binary(level + 1)
            left = ast.BinaryOp(str(token.value), left, right, (left.span[0], right.span[1]))

    def comma(self) -> ast.Expr:
        first = self.unary()
        if self.peek().kind != ",":
            return first
        items = [first]
        while self.peek().kind == ",":
            comma = self.take()
            self.skip_newlines()
            if self.peek().kind in ("eof", ")", "}", ";", "newline", "|"):
                raise ParseError(msg.MISSING_EXPRESSION_AFTER_TOKEN, "MissingExpressionAfterToken", comma.start,
                                 comma.end, token=",")
            items.append(self.unary())
        return ast.ArrayLiteral(tuple(items), (first.span[0], items[-1].span[1]))

    def unary(self) -> ast.Expr:
        token = self.peek()
        if token.kind == "op" and token.value in ("-not", "!", "-", "+"):
            self.pos = token.end
            if self.peek().kind in ("eof", ")", "}", ";", "newline", "|", ","):
                raise ParseError(msg.MISSING_EXPRESSION_AFTER_OPERATOR, "MissingExpressionAfterOperator",
                                 token.start, token.end, operator=token.text)
            operand = self.unary()
            return ast.UnaryOp(str(token.value), operand, (token.start, operand.span[1]))
        return self.postfix(self.primary("expr"))

    def postfix(self, node: ast.Expr) -> ast.Expr:
        """Member access, method calls and indexing written right after a value."""
        s = self.source
        while self.pos < len(s):
            if s[self.pos] == "." and not isinstance(node, ast.NumberLiteral):
                m = _IDENT_AT.match(s, self.pos + 1)
                if not m:
                    raise ParseError(msg.MISSING_PROPERTY_NAME, "MissingPropertyName", self.pos + 1, self.pos + 1)
                self.pos = m.end()
                if self.pos < len(s) and s[self.pos] == "(":
                    node = self.method_call(node, m.group())
                else:
                    node = ast.MemberAccess(node, m.group(), (node.span[0], self.pos))
            elif s[self.pos] == "[" and not isinstance(node, ast.StringLiteral):
                open_at = self.pos
                self.pos += 1
                self.skip_newlines()
                index = self.expression()
                self.skip_newlines()
                close = self.peek()
                if close.kind != "]":
                    raise ParseError(msg.MISSING_END_SQUARE_BRACKET, "MissingEndSquareBracket", open_at + 1,
                                     open_at + 1)
                self.pos = close.end
                node = ast.IndexExpression(node, index, (node.span[0], self.pos))
            else:
                return node
        return node

    def method_call(self, target: ast.Expr, name: str) -> ast.Expr:
        open_at = self.pos
        self.pos += 1
        arguments: list[ast.Expr] = []
        self.skip_newlines()
        while self.peek().kind != ")":
            if self.peek().kind == "eof":
                raise ParseError(msg.MISSING_END_PARENTHESIS_IN_METHOD_CALL, "MissingEndParenthesisInMethodCall",
                                 open_at + 1, open_at + 1)
            arguments.append(self.binary(0))
            self.skip_newlines()
            if self.peek().kind == ",":
                self.take()
                self.skip_newlines()
            elif self.peek().kind != ")":
                raise ParseError(msg.MISSING_END_PARENTHESIS_IN_METHOD_CALL, "MissingEndParenthesisInMethodCall",
                                 self.peek().start, self.peek().start)
        self.pos = self.take().end
        return ast.MethodCall(target, name, tuple(_flatten_args(arguments)), (target.span[0], self.pos))

    def primary(self, mode: str) -> ast.Expr:
        token = self.peek(mode)
        kind = token.kind
        span = (token.start, token.end)
        if kind == "number":
            self.pos = token.end
            return ast.NumberLiteral(token.value, span, token.text)  # type: ignore[arg-type]
        if kind == "string":
            self.pos = token.end
            return ast.StringLiteral(str(token.value), span)
        if kind == "xstring":
            self.pos = token.end
            return self.expandable(token.start + 1, token.end - 1, span)
        if kind == "generic":
            self.pos = token.end
            return ast.StringLiteral(str(token.value), span, bare=True)
        if kind == "xgeneric":
            self.pos = token.end
            return self.expandable(token.start, token.end, span)
        if kind == "var":
            self.pos = token.end
            return ast.Variable(str(token.value), span)
        if kind == "splat":
            raise ParseError(msg.SPLATTING_NOT_PERMITTED, "SplattingNotPermitted", token.start, token.end,
                             name=token.value)
        if kind == "(":
            return self.paren(token)
        if kind in ("$(", "@("):
            self.pos = token.end
            body = self.statements(")")
            close = self.peek("cmd")
            if close.kind != ")":
                raise ParseError(msg.MISSING_END_PARENTHESIS_IN_SUBEXPRESSION, "MissingEndParenthesisInSubexpression",
                                 close.start, close.start)
            self.pos = close.end
            node_type = ast.SubExpression if kind == "$(" else ast.ArrayExpression
            return node_type(body, (token.start, close.end))
        if kind == "@{":
            return self.hash_literal(token)
        if kind == "{":
            self.pos = token.end
            body = self.statements("}")
            close = self.peek("cmd")
            if close.kind != "}":
                raise ParseError(msg.MISSING_END_CURLY_BRACE, "MissingEndCurlyBrace", token.end, token.end)
            self.pos = close.end
            return ast.ScriptBlock(body, self.source[token.end : close.start], (token.start, close.end))
        raise self.unexpected(token)

    def paren(self, token: Token) -> ast.Expr:
        self.pos = token.end
        self.skip_newlines()
        if self.peek("cmd").kind == ")":
            raise ParseError(msg.EXPECTED_EXPRESSION, "ExpectedExpression", token.end, token.end)
        inner = self.statement()
        self.skip_newlines()
        close = self.peek("cmd")
        if close.kind != ")":
            if close.kind in ("eof", "}"):
                raise ParseError(msg.MISSING_END_PARENTHESIS_IN_EXPRESSION, "MissingEndParenthesisInExpression",
                                 inner.span[1], inner.span[1])
            raise self.unexpected(close)
        self.pos = close.end
        return ast.ParenExpression(inner, (token.start, close.end))

    def hash_literal(self, token: Token) -> ast.HashLiteral:
        self.pos = token.end
        entries: list[tuple[ast.Expr, ast.Statement]] = []
        while True:
            head = self.peek()
            while head.kind in ("newline", ";"):
                self.pos = head.end
                head = self.peek()
            if head.kind == "}":
                self.pos = head.end
                return ast.HashLiteral(tuple(entries), (token.start, head.end))
            if head.kind == "eof":
                raise ParseError(msg.INCOMPLETE_HASH_LITERAL, "IncompleteHashLiteral", token.end, token.end)
            if head.kind == "=":
                raise ParseError(msg.MISSING_KEY_IN_HASH_LITERAL, "MissingKeyInHashLiteral", head.start, head.end)
            key: ast.Expr
            if head.kind == "ident":
                self.pos = head.end
                key = ast.StringLiteral(str(head.value), (head.start, head.end), bare=True)
            else:
                key = self.unary()
            equals = self.peek()
            if equals.kind != "=":
                raise ParseError(msg.MISSING_EQUALS_IN_HASH_LITERAL, "MissingEqualsInHashLiteral", key.span[1],
                                 key.span[1])
            self.pos = equals.end
            self.skip_newlines()
            if self.peek("cmd").kind in _COMMAND_END:
                raise ParseError(msg.MISSING_STATEMENT_IN_HASH_LITERAL, "MissingStatementInHashLiteral",
                                 equals.end, equals.end)
            value = self.statement()
            entries.append((key, value))
            after = self.peek("cmd")
            if after.kind not in ("newline", ";", "}"):
                if after.kind == "eof":
                    raise ParseError(msg.INCOMPLETE_HASH_LITERAL, "IncompleteHashLiteral", token.end, token.end)
                raise self.unexpected(after)

    def expandable(self, start: int, end: int, span: ast.Span) -> ast.ExpandableString:
        """Split double-quoted text into literal parts, ``$name`` and ``$( ... )``."""
        s = self.source
        parts: list[str | ast.Expr] = []
        text: list[str] = []
        escapes = {"0": "\0", "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
        pos = start
        quoted = span[0] != start
        while pos < end:
            ch = s[pos]
            if ch == "`" and pos + 1 < end:
                text.append(escapes.get(s[pos + 1], s[pos + 1]))
                pos += 2
            elif quoted and ch in '"\u201c\u201d\u201e' and pos + 1 < end and s[pos + 1] in '"\u201c\u201d\u201e':
                text.append(ch)
                pos += 2
            elif ch == "$" and s.startswith("$(", pos):
                close = self.lexer.balanced_end(pos + 1)
                inner = Parser(s)
                inner.pos = pos + 2
                body = inner.statements(")")
                if inner.peek("cmd").start != close - 1:
                    raise inner.unexpected(inner.peek("cmd"))
                parts.extend(_flush(text))
                parts.append(ast.SubExpression(body, (pos, close)))
                pos = close
            elif ch == "$" and pos + 1 < end and (s[pos + 1] == "{" or _VAR_AT.match(s, pos + 1)):
                token = self.lexer.token(pos, "expr")
                if token.kind == "var" and token.end <= end:
                    parts.extend(_flush(text))
                    parts.append(ast.Variable(str(token.value), (token.start, token.end)))
                    pos = token.end
                else:
                    text.append(ch)
                    pos += 1
            else:
                text.append(ch)
                pos += 1
        parts.extend(_flush(text))
        return ast.ExpandableString(tuple(parts), span)


def _flush(text: list[str]) -> list[str]:
    joined = "".join(text)
    text.clear()
    return [joined] if joined else []


def _flatten_args(arguments: list[ast.Expr]) -> list[ast.Expr]:
    if len(arguments) == 1 and isinstance(arguments[0], ast.ArrayLiteral):
        return list(arguments[0].items)
    return arguments


def _at_level(op: str, level: int) -> bool:
    if level == 0:
        return op in _LOGICAL
    if level == 1:
        return op.startswith("-") and op not in _LOGICAL and op not in ("-", "-not", "-=")
    if level == 2:
        return op in _ADDITIVE
    return op in _MULTIPLICATIVE


def _as_expr(statement: ast.Statement) -> ast.Expr:
    if isinstance(statement, ast.Pipeline) and len(statement.elements) == 1 and not isinstance(
        statement.elements[0], ast.Command
    ):
        return statement.elements[0]
    return ast.ParenExpression(statement, statement.span)
