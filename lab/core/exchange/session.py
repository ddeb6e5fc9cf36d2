"""The SMTP server session as a sans-I/O state machine (like h11 / smtpproto).

Theory of operation: one :class:`ReceiveSession` per TCP connection. The driver (the live
aiosmtpd adapter or an in-memory driver) feeds it events -- :meth:`connect`,
:meth:`receive_line`, :meth:`tls_established`, :meth:`data_received`, :meth:`chunk_received`,
:meth:`timed_out` -- and executes the :class:`Output` it gets back: send these lines, start
TLS, read a DATA body or ``n`` BDAT octets, close. The session owns the SMTP grammar and the
fixed protocol texts (Exchange's, which EOP shares); every policy question (banner, EHLO,
AUTH, MAIL, RCPT, end of DATA, the message handed on) goes to a :class:`Policy`, so the EOP
front door can reuse the machine with its own policy. Accepted mail goes to a
:class:`MessageSink`.

States::

    command --STARTTLS--> tls --tls_established--> command (HELO/AUTH forgotten, RFC 3207)
    command --AUTH--> auth_username --> auth_password --> command
    command --DATA--> data --data_received--> command
    command --BDAT n--> chunk --chunk_received--> command
    any --QUIT / fatal reply / too many errors / timeout--> closed
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol

from lab.core.catalogue import Reply
from lab.core.catalogue import exchange as cat
from lab.core.exchange.headers import TlsFacts
from lab.core.exchange.receive import ANONYMOUS, Decision, Principal, once_reply_lines, reply_lines
from lab.core.fastpath import frozen_init
from lab.core.memo import Remembered

_DOMAIN_RE = re.compile(r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?\.?)+$|^\[(?:IPv6:[0-9A-Fa-f:.]+|[0-9.]+)\]$")
_ADDRESS_RE = re.compile(r"^[^\s<>@]+@[^\s<>@]+$")
_MAIL_PARAMS = ("SIZE", "BODY", "RET", "ENVID", "AUTH", "SMTPUTF8")
_RCPT_PARAMS = ("NOTIFY", "ORCPT")
_PROTOCOL_ERROR_CODES = (500, 501, 503, 504)
_OUTPUT = "_output"  # where ReceiveSession._decided keeps a decision's Output


@dataclass(slots=True)
class SessionContext:
    """What a policy may know about the session when it decides.

    One record per session, owned by the :class:`ReceiveSession`, which changes it in place as
    commands change the facts (HELO, TLS, AUTH, MAIL, RCPT, a reset, the lab time): a policy
    reads it while it answers and copies what it keeps (as ``build_message`` does), never the
    record itself.
    """

    client_ip: str
    local_ip: str
    local_port: int
    now: datetime
    helo: str | None = None
    tls: TlsFacts | None = None
    principal: Principal = ANONYMOUS
    mail_from: str | None = None
    recipients: tuple[str, ...] = ()
    peer_name: str | None = None
    mail_options: tuple[str, ...] = ()  # the option words of the accepted MAIL (a message keeps them)


@frozen_init
@dataclass(frozen=True)
class AcceptedMessage:
    """A message accepted at end of DATA, handed to the sink (transport)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    message_id: str
    client_ip: str
    client_helo: str
    local_ip: str
    local_port: int
    receiver: str
    connector: str
    principal: Principal
    tls: TlsFacts | None
    received_at: datetime
    mail_options: tuple[str, ...] = ()
    decisions: tuple[Decision, ...] = ()

    # the names the transport reads (lab.core.exchange.queue_records.AcceptedMessageLike)
    @property
    def data(self) -> bytes:
        return self.content

    @property
    def source_ip(self) -> str:
        return self.client_ip


@frozen_init
@dataclass(frozen=True)
class SubmitResult:
    """The sink's receipt: the Internet message id and the queue's internal id."""

    message_id: str
    internal_id: int


class MessageSink(Protocol):
    """Where accepted mail goes (the transport's submission queue)."""

    def submit(self, message: AcceptedMessage) -> SubmitResult | Reply:
        """Takes the message, or refuses it with a reply."""


class Policy(Protocol):
    """The product-specific decisions the session asks for (ExchangePolicy, later EOP's)."""

    max_protocol_errors: int

    def banner(self, ctx: SessionContext) -> str:
        """The 220 greeting line."""

    def hello(self, ctx: SessionContext, extended: bool) -> tuple[str, ...]:
        """The HELO (one line) or EHLO (multi-line) reply."""

    def starttls_offered(self, ctx: SessionContext) -> bool:
        """Whether STARTTLS is available now."""

    def basic_auth_offered(self, ctx: SessionContext) -> bool:
        """Whether LOGIN / PLAIN may be used now."""

    def authenticate(self, ctx: SessionContext, username: str, password: str) -> Principal | None:
        """The principal for these credentials, or None."""

    def principal_from_tls(self, ctx: SessionContext, tls: TlsFacts) -> Principal:
        """The principal after TLS (an Exchange server by certificate, or still anonymous)."""

    def mail_from(self, ctx: SessionContext, sender: str, params: dict[str, str]) -> Decision:
        """MAIL FROM."""

    def rcpt_to(self, ctx: SessionContext, recipient: str, params: dict[str, str]) -> Decision:
        """RCPT TO."""

    def end_of_data(self, ctx: SessionContext, content: bytes, octets: int) -> Decision:
        """The checks at end of DATA (size, send-as)."""

    def build_message(self, ctx: SessionContext, content: bytes, guid: str,
                      decisions: tuple[Decision, ...]) -> AcceptedMessage:
        """The message as handed on (headers added; ``guid`` names a Message-ID if it has none)."""

    def queued_reply(self, result: SubmitResult) -> Reply:
        """The 250 reply for a submitted message."""

    def queued_lines(self, result: SubmitResult) -> tuple[str, ...]:
        """:meth:`queued_reply` as wire lines (``receive.once_reply_lines`` of it)."""


@frozen_init
@dataclass(frozen=True)
class Output:
    """What the driver must do now.

    Attributes:
        lines: reply lines to send, in order (no CRLF).
        start_tls: after sending, negotiate TLS and call :meth:`ReceiveSession.tls_established`.
        read_data: after sending, read a DATA body up to ``<CRLF>.<CRLF>`` (dot-unstuffed).
        read_octets: read exactly this many octets (BDAT) and call ``chunk_received``.
        close: after sending, close the connection.
        message: the message accepted by this step, if any.
        decision: the policy decision behind the reply, if any.
    """

    lines: tuple[str, ...] = ()
    start_tls: bool = False
    read_data: bool = False
    read_octets: int | None = None
    close: bool = False
    message: AcceptedMessage | None = None
    decision: Decision | None = None


def _b64(text: str) -> str | None:
    """The decoded text of an AUTH argument, or None."""
    try:
        return base64.b64decode(text.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


#: AUTH argument -> :func:`_b64` of it (remembered per text: a pure function of it, and a client logs
#: on with the same credentials again and again)
_B64 = Remembered(_b64)


def _valid_domain(name: str) -> bool:
    """A HELO/EHLO name of the domain grammar."""
    return _DOMAIN_RE.match(name) is not None


#: HELO/EHLO name -> :func:`_valid_domain` of it (remembered per name: a pure function of the text,
#: and a client greets with the same name in every session)
_VALID_DOMAINS = Remembered(_valid_domain)


def _path(arg: str, keyword: str) -> tuple[str, str] | None:
    """``FROM:<a@b> SIZE=1`` -> (``<a@b>``, ``SIZE=1``), tolerating a space after the colon."""
    start = len(keyword) + 1
    if arg.startswith(keyword) and arg[start - 1:start + 1] == ":<":  # as clients write it
        end = arg.find(">", start)
        if end >= 0:
            return arg[start:end + 1], arg[end + 1:].strip()
    head, sep, rest = arg.partition(":")
    if not sep or head.strip().upper() != keyword:
        return None
    rest = rest.strip()
    if rest.startswith("<"):
        end = rest.find(">")
        if end < 0:
            return None
        return rest[:end + 1], rest[end + 1:].strip()
    address, _, params = rest.partition(" ")
    return address, params.strip()


def _params(text: str, allowed: tuple[str, ...]) -> dict[str, str] | None:
    out: dict[str, str] = {}
    for item in text.split():
        key, _, value = item.partition("=")
        if key.upper() not in allowed:
            return None
        out[key.upper()] = value
    return out


def _arguments(arg: str, keyword: str, allowed: tuple[str, ...],
               null_path: bool) -> Reply | tuple[str, tuple[tuple[str, str], ...], str]:
    """``FROM:<path> params`` / ``TO:<path> params``: the error reply, or the address, the
    parameters as (KEY, value) pairs and the option text (``null_path``: ``<>`` is an address)."""
    parsed = _path(arg, keyword)
    if parsed is None:
        return cat.S501_5_5_4_INVALID_ARGUMENTS
    path, options = parsed
    address = path[1:-1] if path.startswith("<") else path
    if (address or not null_path) and not _ADDRESS_RE.match(address):
        return cat.S501_5_1_7_INVALID_ADDRESS
    params = _params(options, allowed) if options else {}
    if params is None:
        return cat.S501_5_5_4_UNRECOGNIZED_PARAMETER
    return address, tuple(params.items()), options


# MAIL and RCPT arguments: the error reply, or the address, the parameters as (KEY, value) pairs
# (each command gets its own dict of them) and, for MAIL, the option words.
def _mail_arguments(arg: str) -> Reply | tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]:
    read = _arguments(arg, "FROM", _MAIL_PARAMS, null_path=True)
    return read if isinstance(read, Reply) else (read[0], read[1], tuple(read[2].split()))


def _rcpt_arguments(arg: str) -> Reply | tuple[str, tuple[tuple[str, str], ...]]:
    read = _arguments(arg, "TO", _RCPT_PARAMS, null_path=False)
    return read if isinstance(read, Reply) else read[:2]


# MAIL and RCPT arguments read once per text (pure functions of it: a client sends the same addresses
# and SIZE again and again)
_MAIL_ARGUMENTS = Remembered(_mail_arguments)
_RCPT_ARGUMENTS = Remembered(_rcpt_arguments)


def _handlers(cls: type) -> dict[str, Callable[..., "Output"]]:
    """A session class's command handlers by upper-case verb (``_cmd_EHLO`` answers ``EHLO``; a verb
    of other characters could never be typed)."""
    verbs = {name[len("_cmd_"):]: getattr(cls, name) for name in dir(cls) if name.startswith("_cmd_")}
    return {verb: handler for verb, handler in verbs.items() if verb.isalpha() and verb == verb.upper()}


class ReceiveSession:
    """One server-side SMTP session. See the module docstring for the protocol.

    Args:
        policy: the product policy (e.g. :class:`lab.core.exchange.policy.ExchangePolicy`).
        sink: where accepted messages go.
        client_ip: the peer's virtual address.
        local_ip: the virtual address the peer connected to.
        local_port: the virtual port the peer connected to.
        now: the lab time at accept.
        peer_name: the lab node the peer is, if known.
        new_guid: makes the GUID of a generated Message-ID.
        selection: the connector-selection decision, recorded in every message's trace.
    """

    _handlers: dict[str, Callable[..., Output]]  # by verb, for this class (set below and per subclass)

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = _handlers(cls)

    def __init__(self, policy: Policy, sink: MessageSink, *, client_ip: str, local_ip: str, local_port: int,
                 now: datetime, new_guid: Callable[[], str], peer_name: str | None = None,
                 selection: Decision | None = None):
        self.policy = policy
        self.sink = sink
        self.new_guid = new_guid
        self.ctx = SessionContext(client_ip, local_ip, local_port, now, peer_name=peer_name)
        self.state = "new"
        self.errors = 0
        # What was said, in order: a client line (str) or the lines of a reply (tuple). The
        # ``C:``/``S:`` transcript is written from it only when asked for (:attr:`transcript`).
        self._said: list[str | tuple[str, ...]] = []
        self._selection: tuple[Decision, ...] = (selection,) if selection else ()
        self._decisions: list[Decision] = list(self._selection)
        self._auth_user = ""
        self._chunks: list[bytes] = []
        self._bdat_last = False
        self._bdat_error: Reply | None = None

    @property
    def transcript(self) -> list[str]:
        """The session as a telnet user sees it: ``C: line`` and ``S: line`` in order."""
        out: list[str] = []
        for said in self._said:
            if isinstance(said, str):
                out.append(f"C: {said}")
            else:
                out += ["S: " + line for line in said]
        return out

    # --- events ---------------------------------------------------------------------------
    def connect(self, now: datetime | None = None) -> Output:
        """The connection was accepted: send the banner."""
        ctx = self.ctx
        if now is not None and now is not ctx.now and now != ctx.now:  # self._tick(now), inline
            ctx.now = now
        self.state = "command"
        lines = (self.policy.banner(ctx),)
        self._said.append(lines)  # self._send(lines), inline
        return _PLAIN[lines]

    def receive_line(self, line: str, now: datetime | None = None) -> Output:
        """One command line (or AUTH continuation) without its CRLF."""
        if now is not None:  # self._tick(now), inline
            ctx = self.ctx
            if now is not ctx.now and now != ctx.now:
                ctx.now = now
        self._said.append(line)
        state = self.state
        if state != "command":
            if state == "closed":
                return Output(close=True)
            if state in ("auth_username", "auth_password", "auth_plain"):
                return self._auth_step(line)
            return self._error(cat.S500_5_3_3_UNRECOGNIZED_COMMAND)
        verb, _, arg = line.strip().partition(" ")
        handler = self._handlers.get(verb)  # the verb as clients send it (upper case), else as any case
        if handler is None:
            handler = self._handlers.get(verb.upper()) if verb.isalpha() else None
            if handler is None:
                return self._error(cat.S500_5_3_3_UNRECOGNIZED_COMMAND)
        return handler(self, arg.strip())

    def line_too_long(self) -> Output:
        """A command line over the limit: treated as unrecognised (the lab's choice)."""
        return self._error(cat.S500_5_3_3_UNRECOGNIZED_COMMAND)

    def tls_established(self, tls: TlsFacts, now: datetime | None = None) -> Output:
        """The STARTTLS handshake completed: forget HELO, AUTH and the transaction (RFC 3207)."""
        ctx = self.ctx
        if now is not None and now is not ctx.now and now != ctx.now:  # self._tick(now), inline
            ctx.now = now
        ctx.tls = tls
        ctx.principal = self.policy.principal_from_tls(ctx, tls)
        ctx.helo, ctx.mail_from, ctx.recipients = None, None, ()
        self.state = "command"
        return _silent

    def tls_failed(self) -> Output:
        """The handshake failed: the connection is gone."""
        self.state = "closed"
        return Output(close=True)

    def data_received(self, data: bytes, octets: int | None = None, now: datetime | None = None) -> Output:
        """The DATA body (dot-unstuffed, without the final dot line); ``octets`` is its full size
        when the driver stopped storing an oversized body."""
        if now is not None and now is not self.ctx.now and now != self.ctx.now:  # self._tick(now), inline
            self.ctx.now = now
        self.state = "command"
        return self._finish(data, len(data) if octets is None else octets)

    def chunk_received(self, data: bytes, now: datetime | None = None) -> Output:
        """The octets of one BDAT chunk."""
        self._tick(now)
        self.state = "command"
        if self._bdat_error is not None:
            reply, self._bdat_error = self._bdat_error, None
            self._chunks = []
            return self._error(reply)
        self._chunks.append(data)
        if not self._bdat_last:
            return self._send(once_reply_lines(cat.S250_2_6_0_CHUNK_RECEIVED.format(octets=len(data))))
        body, self._chunks = b"".join(self._chunks), []
        return self._finish(body, len(body))

    def timed_out(self) -> Output:
        """The client was idle too long."""
        self.state = "closed"
        return self._say(_TIMED_OUT)

    # --- commands -------------------------------------------------------------------------
    def _cmd_HELO(self, arg: str) -> Output:
        return self._cmd_EHLO(arg, False)

    def _cmd_EHLO(self, arg: str, extended: bool = True) -> Output:
        """EHLO (and HELO, ``extended`` False)."""
        if not arg or " " in arg or not _VALID_DOMAINS[arg]:
            return self._error(cat.S501_5_5_4_INVALID_DOMAIN_NAME)
        # A reset only when there is a transaction (most sessions greet before any): every command that
        # sets what a reset clears (MAIL, RCPT, a BDAT chunk after them) follows a decision it added,
        # and only a reset takes decisions away (tests/unit/test_s14_session_ehlo.py)
        if len(self._decisions) != len(self._selection):
            self._reset_transaction()
        ctx = self.ctx
        ctx.helo = arg
        lines = self.policy.hello(ctx, extended)
        self._said.append(lines)  # self._send(lines), inline (every session says hello once or twice)
        return _PLAIN[lines] if type(lines) is tuple else Output(lines)

    def _cmd_STARTTLS(self, arg: str) -> Output:
        if self.ctx.helo is None and self.ctx.tls is None:
            return self._error(cat.S503_5_5_2_SEND_HELLO_FIRST)
        if self.ctx.tls is not None:
            return self._error(cat.S503_5_5_2_ONLY_ONE_STARTTLS)
        if not self.policy.starttls_offered(self.ctx):
            return self._error(cat.S500_5_3_3_UNRECOGNIZED_COMMAND)
        self.state = "tls"
        self._said.append(_STARTTLS_READY.lines)  # self._say(_STARTTLS_READY), inline
        return _STARTTLS_READY

    def _cmd_AUTH(self, arg: str) -> Output:
        if self.ctx.helo is None:
            return self._error(cat.S503_5_5_2_SEND_HELLO_FIRST)
        if self.ctx.principal.kind == "user":
            return self._error(cat.S503_5_5_2_ALREADY_AUTHENTICATED)
        mechanism, _, initial = arg.partition(" ")
        mechanism, initial = mechanism.upper(), initial.strip()
        if mechanism not in ("LOGIN", "PLAIN") or not self.policy.basic_auth_offered(self.ctx):
            return self._error(cat.S504_5_7_4_UNRECOGNIZED_AUTH_TYPE)
        if mechanism == "PLAIN":
            if initial:
                return self._auth_plain(initial)
            self.state = "auth_plain"
            return self._say(_AUTH_EMPTY)
        if initial:
            self.state = "auth_username"
            return self._auth_step(initial)
        self.state = "auth_username"
        return self._say(_AUTH_USERNAME)

    def _auth_step(self, line: str) -> Output:
        if line.strip() == "*":
            self.state = "command"
            return self._error(cat.S501_5_7_0_AUTH_CANCELLED)
        if self.state == "auth_plain":
            return self._auth_plain(line)
        value = _B64[line]
        if value is None:
            self.state = "command"
            return self._error(cat.S501_5_5_4_INVALID_ARGUMENTS)
        if self.state == "auth_username":
            self._auth_user = value
            self.state = "auth_password"
            return self._say(_AUTH_PASSWORD)
        return self._login(self._auth_user, value)

    def _auth_plain(self, text: str) -> Output:
        self.state = "command"
        value = _B64[text]
        parts = value.split("\x00") if value is not None else []
        if len(parts) != 3:
            return self._error(cat.S501_5_5_4_INVALID_ARGUMENTS)
        return self._login(parts[1], parts[2])

    def _login(self, username: str, password: str) -> Output:
        self.state = "command"
        self._auth_user = ""
        principal = self.policy.authenticate(self.ctx, username, password)
        if principal is None:
            return self._say(_AUTH_FAILED)
        self.ctx.principal = principal
        return self._say(_AUTH_OK)

    def _cmd_MAIL(self, arg: str) -> Output:
        ctx = self.ctx
        if ctx.helo is None:
            return self._error(cat.S503_5_5_2_SEND_HELLO_FIRST)
        if ctx.mail_from is not None:
            return self._error(cat.S503_5_5_2_SENDER_ALREADY_SPECIFIED)
        parsed = _MAIL_ARGUMENTS[arg]
        if parsed.__class__ is Reply:
            return self._error(parsed)
        address, params, options = parsed
        decision = self.policy.mail_from(ctx, address, dict(params))
        self._decisions.append(decision)
        if decision.accepted:
            ctx.mail_from = address
            ctx.mail_options = options
        return self._decided(decision)

    def _cmd_RCPT(self, arg: str) -> Output:
        ctx = self.ctx
        if ctx.helo is None:
            return self._error(cat.S503_5_5_2_SEND_HELLO_FIRST)
        if ctx.mail_from is None:
            return self._error(cat.S503_5_5_2_NEED_MAIL_COMMAND)
        parsed = _RCPT_ARGUMENTS[arg]
        if parsed.__class__ is Reply:
            return self._error(parsed)
        address, params = parsed
        decision = self.policy.rcpt_to(ctx, address, dict(params))
        self._decisions.append(decision)
        if decision.accepted:
            ctx.recipients = (*ctx.recipients, address)
        return self._decided(decision)

    def _transaction_error(self) -> Reply | None:
        if self.ctx.helo is None:
            return cat.S503_5_5_2_SEND_HELLO_FIRST
        if self.ctx.mail_from is None:
            return cat.S503_5_5_2_NEED_MAIL_COMMAND
        if not self.ctx.recipients:
            return cat.S503_5_5_2_NEED_RCPT_COMMAND
        return None

    def _cmd_DATA(self, arg: str) -> Output:
        problem = self._transaction_error()
        if problem is not None:
            return self._error(problem)
        self.state = "data"
        self._said.append(_START_DATA.lines)  # self._say(_START_DATA), inline
        return _START_DATA

    def _cmd_BDAT(self, arg: str) -> Output:
        size, _, last = arg.partition(" ")
        if not size.isdigit() or last.strip().upper() not in ("", "LAST"):
            return self._error(cat.S501_5_5_4_INVALID_ARGUMENTS)
        self._bdat_last = last.strip().upper() == "LAST"
        self._bdat_error = self._transaction_error()
        self.state = "chunk"
        return Output(read_octets=int(size))

    def _cmd_RSET(self, arg: str) -> Output:
        self._reset_transaction()
        return self._say(_RESET)

    def _cmd_NOOP(self, arg: str) -> Output:
        return self._say(_OK)

    def _cmd_HELP(self, arg: str) -> Output:
        return self._say(_HELP)

    def _cmd_QUIT(self, arg: str) -> Output:
        self.state = "closed"
        self._said.append(_CLOSING.lines)  # self._say(_CLOSING), inline (every session ends so)
        return _CLOSING

    # --- helpers --------------------------------------------------------------------------
    def _finish(self, content: bytes, octets: int) -> Output:
        ctx = self.ctx
        decision = self.policy.end_of_data(ctx, content, octets)
        self._decisions.append(decision)
        if not decision.accepted:
            self._reset_transaction()
            return self._decided(decision)
        message = self.policy.build_message(ctx, content, self.new_guid(), tuple(self._decisions))
        result = self.sink.submit(message)
        self._reset_transaction()
        if isinstance(result, Reply):
            return self._send(reply_lines(result), close=result.code == 421, message=None)
        lines = self.policy.queued_lines(result)
        self._said.append(lines)  # self._send(lines, message=message, decision=decision), inline
        return Output(lines, False, False, None, False, message, decision)

    def _decided(self, decision: Decision) -> Output:
        assert decision.reply is not None
        # The Output of a decision is a function of it alone (its reply's lines, close when it
        # disconnects): written once and kept beside the decision's fields, as a Reply keeps its wire
        # lines (not a field: equality, hashing, repr and replace() ignore it), since policies hand out
        # one decision object for every MAIL or RCPT that gets the same answer
        out = decision.__dict__.get(_OUTPUT)
        if out is None:
            lines = reply_lines(decision.reply)
            if decision.disconnect:
                out = Output(lines, False, False, None, True, None, decision)  # close=True, decision=decision
            else:
                out = Output(lines, False, False, None, False, None, decision)  # decision=decision
            decision.__dict__[_OUTPUT] = out
        self._said.append(out.lines)
        if decision.disconnect:
            self.state = "closed"
        return out

    def _error(self, reply: Reply) -> Output:
        """A protocol error; past MaxProtocolErrors the session ends with 421 4.7.0."""
        if reply.code in _PROTOCOL_ERROR_CODES:
            self.errors += 1
            if self.errors > self.policy.max_protocol_errors:
                self.state = "closed"
                return self._say(_TOO_MANY_ERRORS)
        return self._send(reply_lines(reply))

    def _send(self, lines: tuple[str, ...], **kwargs: object) -> Output:
        self._said.append(lines)
        return Output(lines, **kwargs) if kwargs else _PLAIN[lines]

    def _say(self, output: Output) -> Output:
        """Send one of the fixed replies below (an Output is frozen: one object serves every session)."""
        self._said.append(output.lines)
        return output

    def _reset_transaction(self) -> None:
        ctx = self.ctx
        if ctx.mail_from is not None or ctx.recipients:
            ctx.mail_from, ctx.recipients = None, ()
        ctx.mail_options = ()
        if self._chunks:
            self._chunks = []
        if len(self._decisions) != len(self._selection):  # only ever appended to since the last reset
            self._decisions = list(self._selection)

    def _tick(self, now: datetime | None) -> None:
        if now is not None and now != self.ctx.now:  # most events arrive at the same lab time
            self.ctx.now = now


#: ``lines`` -> ``Output(lines)``: send these lines and nothing else (remembered per lines: an Output is
#: frozen, and banners, EHLO lists and errors are said again word for word)
_PLAIN = Remembered(Output)


def _fixed(reply: Reply, **kwargs: object) -> Output:
    return Output(lines=reply_lines(reply), **kwargs)


# The replies whose text and action never vary (sent through ReceiveSession._say)
_TIMED_OUT = _fixed(cat.S451_4_7_0_TIMEOUT, close=True)
_STARTTLS_READY = _fixed(cat.S220_2_0_0_SMTP_SERVER_READY, start_tls=True)
_AUTH_EMPTY = _fixed(cat.S334_EMPTY)
_AUTH_USERNAME = _fixed(cat.S334_USERNAME)
_AUTH_PASSWORD = _fixed(cat.S334_PASSWORD)
_AUTH_FAILED = _fixed(cat.S535_5_7_3_AUTH_UNSUCCESSFUL)
_AUTH_OK = _fixed(cat.S235_2_7_0_AUTH_SUCCESSFUL)
_START_DATA = _fixed(cat.S354_START_MAIL_INPUT, read_data=True)
_RESET = _fixed(cat.S250_2_0_0_RESETTING)
_OK = _fixed(cat.S250_2_0_0_OK)
_HELP = _fixed(cat.S214_HELP)
_CLOSING = _fixed(cat.S221_2_0_0_CLOSING, close=True)
_TOO_MANY_ERRORS = _fixed(cat.S421_4_7_0_TOO_MANY_ERRORS, close=True)
_silent = Output()  # nothing to send or do (after a handshake; not a fixed reply)
_BLANK_CONTEXT = SessionContext("", "", 0, datetime.min)  # every field is given when a session starts
ReceiveSession._handlers = _handlers(ReceiveSession)
