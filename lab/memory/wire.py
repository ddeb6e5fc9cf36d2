"""One in-memory connection: a client talks to a server-side :class:`ReceiveSession` line by line.

The live driver writes lines to a socket and aiosmtpd's adapter feeds them to the session;
here the client hands the line to the session and gets its :class:`Output` back at once.
:class:`Wire` executes the output the way ``LabSMTP._act`` does (send the lines, then close /
start TLS / read a body) and gives the client the reply parsed as aiosmtplib parses it
(:class:`ServerReply`: code, and the text without codes, lines joined with ``\\n``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lab.core.exchange.headers import TlsFacts
from lab.core.exchange.session import Output, ReceiveSession
from lab.core.fastpath import frozen_init
from lab.core.memo import Remembered

#: What the lab's TLS layer reports for a negotiated session (the live endpoints negotiate TLS 1.3).
TLS_VERSION = "TLSv1.3"
TLS_CIPHER = "TLS_AES_256_GCM_SHA384"


class Disconnected(Exception):
    """The server closed the connection (aiosmtplib's ``SMTPServerDisconnected``)."""


@frozen_init
@dataclass(frozen=True)
class ServerReply:
    """A complete server reply.

    Attributes:
        code: the reply code.
        message: the text after the codes, lines joined with ``\\n`` (aiosmtplib's ``message``).
        lines: the raw lines.
    """

    code: int
    message: str
    lines: tuple[str, ...]

    def __str__(self) -> str:
        return "\n".join(self.lines)

    @property
    def text(self) -> str:
        """``code message``, as aiosmtplib's clients report a reply (``f"{exc.code} {exc.message}"``)."""
        return f"{self.code} {self.message}"


# Replies, EHLO keywords and AUTH mechanisms are pure functions of texts that recur word for word
# (banners, EHLO, 250 OK): remembered per text (lru_cache; a ServerReply is a frozen record).
@lru_cache(maxsize=4096)
def parse_reply(lines: tuple[str, ...]) -> ServerReply:
    """The reply of one or more ``ddd-text`` / ``ddd text`` lines."""
    code = int(lines[-1][:3]) if lines and lines[-1][:3].isdigit() else 0
    if len(lines) == 1:  # most replies
        return ServerReply(code, lines[0][4:], tuple(lines))
    return ServerReply(code, "\n".join([line[4:] for line in lines]), tuple(lines))


def _hear(lines: tuple[str, ...]) -> tuple[ServerReply, tuple[str, ...]]:
    return parse_reply(lines), tuple([f"S: {line}" for line in lines])


#: ``lines`` -> :func:`parse_reply` of them and their ``S: `` transcript lines (both pure functions of
#: the lines, remembered together: a reply said again is read and recorded without new strings; the
#: wires read one per reply)
_HEARD = Remembered(_hear)


def ehlo_keywords(reply: ServerReply) -> frozenset[str]:
    """The extension keywords of an EHLO reply, lower-case (``supports_extension``)."""
    return _ehlo_keywords(reply.message.partition("\n")[2])


# The keywords and mechanisms are read from the lines after the greeting (which names the client),
# so they are remembered per those lines: the same for every client of a server.
@lru_cache(maxsize=4096)
def _ehlo_keywords(extensions: str) -> frozenset[str]:
    out = set()
    for line in extensions.split("\n"):
        line = line.strip()
        if line:
            keyword = line.split(" ", 1)[0].split("=", 1)[0].lower()
            out.add(keyword)
    return frozenset(out)


#: ``lines`` -> :func:`ehlo_keywords` of their reply (remembered per lines, as the reply is: a server's
#: EHLO reply recurs word for word; a wire reads it after every EHLO)
_KEYWORDS = Remembered(lambda lines: ehlo_keywords(parse_reply(lines)))


def ehlo_auth_methods(reply: ServerReply) -> tuple[str, ...]:
    """The AUTH mechanisms an EHLO reply lists, lower-case."""
    return _ehlo_auth_methods(reply.message.partition("\n")[2])


@lru_cache(maxsize=4096)
def _ehlo_auth_methods(extensions: str) -> tuple[str, ...]:
    for line in extensions.split("\n"):
        head, _, rest = line.strip().partition(" ")
        if head.upper() == "AUTH":
            return tuple(m.lower() for m in rest.split())
        if head.upper().startswith("AUTH="):
            return tuple(m.lower() for m in (head[5:] + " " + rest).split())
    return ()


def normalise_body(data: bytes) -> bytes:
    """The body as the server stores it: line endings CRLF, ending with CRLF (dot-stuffing undone)."""
    if data.__class__ is not bytes:
        text = _normalised(data)
    elif b"\r" not in data:  # (most bodies built here: bare LF line endings)
        text = data.replace(b"\n", b"\r\n")
    elif data.count(b"\r\n") == data.count(b"\r") == data.count(b"\n"):  # already CRLF throughout
        text = data
    else:
        text = _normalised(data)
    return text if text.endswith(b"\r\n") else text + b"\r\n"


def _normalised(data: bytes) -> bytes:
    """Every line ending (CRLF, CR, LF) as CRLF (the general case of :func:`normalise_body`)."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


_NO_KEYWORDS: frozenset[str] = frozenset()


class Wire:
    """The client side of one in-memory connection.

    Args:
        session: the server's session for this connection (already built by the listener logic).
        clock: the lab: its ``_now_dt`` (aware datetime) is the lab time handed to the session with
            each event (read as an attribute: a call per line, e.g. ``partial(getattr, lab,
            "_now_dt")``, costs ~8 times as much).
        transcript: where ``C:``/``S:`` lines are appended (None: not recorded).
    """

    __slots__ = ("session", "clock", "transcript", "closed", "tls", "keywords", "_pending")

    def __init__(self, session: ReceiveSession, clock: Any, transcript: list[str] | None = None):
        self.session = session
        self.clock = clock
        self.transcript = transcript
        self.closed = False
        self.tls: TlsFacts | None = None
        self.keywords: frozenset[str] = _NO_KEYWORDS  # of the last EHLO reply
        # the server's last output (None after a handshake): its start_tls / read_data say whether
        # the server now negotiates TLS / reads a body (kept as it is: body and start_tls read the flag)
        self._pending: Output | None = None

    def _take(self, output: Output) -> ServerReply:
        try:
            reply, heard = _HEARD[output.lines]  # (a tuple: the session's replies are)
        except TypeError:  # (lines in a list: read as the tuple of them)
            reply, heard = _HEARD[tuple(output.lines)]
        if self.transcript is not None:
            self.transcript += heard
        if output.close:
            self.closed = True
        self._pending = output
        if not heard:
            raise Disconnected("the server closed the connection without a reply")
        return reply

    def open(self) -> ServerReply:
        """Connect: the banner."""
        return self._take(self.session.connect(self.clock._now_dt))

    def command(self, line: str, shown: str | None = None) -> ServerReply:
        """Send one command line and read the reply.

        Raises:
            Disconnected: the server had closed the connection.
        """
        if self.closed:
            raise Disconnected("the server closed the connection")
        output = self.session.receive_line(line, self.clock._now_dt)
        # self._take(output), inline (every command comes this way)
        lines = output.lines
        try:
            reply, heard = _HEARD[lines]  # (a tuple: the session's replies are)
        except TypeError:  # (lines in a list: read as the tuple of them)
            lines = tuple(lines)
            reply, heard = _HEARD[lines]
        transcript = self.transcript
        if transcript is not None:
            transcript.append(f"C: {line if shown is None else shown}")
            transcript += heard
        if output.close:
            self.closed = True
        self._pending = output
        code = reply.code
        if code == 250:
            if line[:5].upper() == "EHLO ":
                self.keywords = _KEYWORDS[lines]
        elif code == 421:  # aiosmtplib closes the connection after a 421
            self.closed = True
        elif not heard:  # (no lines: code 0)
            raise Disconnected("the server closed the connection without a reply")
        return reply

    def body(self, data: bytes, normalised: bool = False) -> ServerReply:
        """After a 354: the message (normalised as the wire carries it) and the final dot.

        ``normalised``: ``data`` is already :func:`normalise_body`'s output (a client that worked
        out the SIZE it announced from it), so it goes as it is."""
        if self._pending is None or not self._pending.read_data:
            raise Disconnected("the server is not reading a message body")
        body = data if normalised else normalise_body(data)
        if self.transcript is not None:
            self.transcript.append(f"C: <{len(body)} octets>")
            self.transcript.append("C: .")
        return self._take(self.session.data_received(body, len(body), self.clock._now_dt))

    def start_tls(self, tls: TlsFacts) -> None:
        """After a 220 to STARTTLS: the handshake completed with these facts (the server's view)."""
        if self._pending is None or not self._pending.start_tls:
            raise Disconnected("the server is not negotiating TLS")
        self._pending = None
        self.tls = tls
        self.keywords = _NO_KEYWORDS
        if self.transcript is not None:
            self.transcript.append(f"*: TLS {tls.version} {tls.cipher}")
        output = self.session.tls_established(tls, self.clock._now_dt)
        if output.lines or output.close:
            self._take(output)

    def quit(self) -> None:
        """QUIT, if the connection is still open."""
        if not self.closed:
            try:
                self.command("QUIT")
            except Disconnected:
                pass
        self.closed = True
