"""A raw in-memory TCP conversation with a lab SMTP server, as ``telnet host 25`` has it.

:class:`RawConversation` is the console's :class:`~lab.console.host.SmtpConversation` on the
in-memory driver: what the client types goes to the server's
:class:`~lab.core.exchange.session.ReceiveSession` exactly as the live listener
(``LabSMTP``) hands bytes over: a command line, DATA body lines up to the lone ``.``
(dot-unstuffed), BDAT octets; what the session answers is queued line by line and read back one
complete reply at a time. A line typed while the server waits for a TLS handshake is not a
handshake: the session's ``tls_failed`` ends the connection, as the live TLS layer does.
"""
from __future__ import annotations

from collections import deque
from typing import Any

from lab.core.exchange.headers import TlsFacts
from lab.core.exchange.session import Output, ReceiveSession


class RawConversation:
    """The client end of one in-memory connection, line by line.

    Args:
        session: the server's session (built by the landing node's listener logic), or None
            when the listener closed the connection at accept (nothing is ever read).
        clock: the lab: its ``_now_dt`` (aware datetime) is the lab time handed to the session
            with each event (read as an attribute, as :class:`lab.memory.wire.Wire` reads it).
        transcript: where ``C:``/``S:`` lines are appended (None: not recorded).
    """

    def __init__(self, session: ReceiveSession | None, clock: Any, transcript: list[str] | None = None):
        self.session = session
        self.clock = clock
        self.transcript = transcript
        self.closed = session is None
        self._lines: deque[str] = deque()
        self._body: list[bytes] | None = None  # DATA lines being collected
        self._octets: int | None = None        # BDAT octets still expected
        self._chunk = bytearray()
        self._tls_pending = False
        if session is not None:
            self._act(session.connect(clock._now_dt))

    # -- SmtpConversation ------------------------------------------------------------------------
    def read_reply(self) -> tuple[str, ...]:
        """The next complete reply; ``()`` when the server closed the connection (and said nothing more)."""
        out: list[str] = []
        while self._lines:
            line = self._lines.popleft()
            out.append(line)
            if len(line) < 4 or line[3] != "-":
                break
        return tuple(out)

    def send_line(self, line: str) -> None:
        """One line as typed; a closed connection swallows it."""
        if self.closed or self.session is None:
            return
        if self.transcript is not None:
            self.transcript.append(f"C: {line}")
        session, now = self.session, self.clock._now_dt
        if self._tls_pending:
            self._tls_pending = False
            self._act(session.tls_failed())
        elif self._body is not None:
            if line == ".":
                body, self._body = b"".join(self._body), None
                self._act(session.data_received(body, now=now))
            else:
                self._body.append((line[1:] if line.startswith(".") else line).encode("utf-8", "surrogateescape")
                                  + b"\r\n")
        elif self._octets is not None:
            self._chunk += line.encode("utf-8", "surrogateescape") + b"\r\n"
            if len(self._chunk) >= self._octets:
                chunk, self._octets, self._chunk = bytes(self._chunk[:self._octets]), None, bytearray()
                self._act(session.chunk_received(chunk, now=now))
        else:
            self._act(session.receive_line(line, now=now))

    def close(self) -> None:
        """Close from the client side (idempotent)."""
        self.closed = True

    # -- the server's output ------------------------------------------------------------------------
    def _act(self, output: Output) -> None:
        self._lines.extend(output.lines)
        if self.transcript is not None:
            self.transcript.extend([f"S: {line}" for line in output.lines])
        if output.close:
            self.closed = True
        elif output.read_data:
            self._body = []
        elif output.read_octets is not None:
            self._octets = output.read_octets
            if self._octets == 0:
                self._octets = None
                self._act(self.session.chunk_received(b"", now=self.clock._now_dt))  # type: ignore[union-attr]
        elif output.start_tls:
            self._tls_pending = True

    @property
    def awaiting_tls(self) -> bool:
        """The server answered 220 to STARTTLS and waits for the handshake."""
        return self._tls_pending

    def start_tls(self, tls: TlsFacts) -> None:
        """Complete the pending handshake with these facts (the server's view)."""
        if not self._tls_pending or self.session is None:
            return
        self._tls_pending = False
        if self.transcript is not None:
            self.transcript.append(f"*: TLS {tls.version} {tls.cipher}")
        self._act(self.session.tls_established(tls, now=self.clock._now_dt))
