"""Expectations: what a step expects, checked against a driver; each check says expected vs got.

Checks read the lab as an administrator would: mailboxes (the delivered message, a DSN/NDR),
Get-Queue (status, LastError), EOP's queue, the client's transcript and the console's output.
A failed check's ``got`` quotes what the lab actually shows, so a report (and grading) can
say why.
"""
from __future__ import annotations

import email
import functools
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import Compat32, compat32
from typing import Any, Sequence

from lab.core.fastpath import frozen_init
from lab.scenario.driver import ConsoleResult, ScenarioDriver, SendOutcome
from lab.scenario.model import Expectation


@frozen_init
@dataclass(frozen=True)
class Check:
    """The result of one expectation."""

    expectation: Expectation
    ok: bool
    expected: str
    got: str


@dataclass
class StepContext:
    """What a step produced, for its expectations (and the last subject sent, for defaults).

    The runner keeps one per run and calls :meth:`next_step` before each step."""

    console: ConsoleResult | None = None
    send: SendOutcome | None = None
    transcript: tuple[str, ...] = ()
    subject: str = ""
    message_ids: list[str] = field(default_factory=list)
    #: the messages read so far in this run (:func:`read_mail` of each raw message), for its later checks:
    #: every step of a run reads the same dict (one run's, never another's)
    mails: dict[bytes, "Mail"] = field(default_factory=dict)

    def next_step(self) -> None:
        """Forget what the previous step produced; keep the subject sent last and the run's messages."""
        self.console = self.send = None
        self.transcript = ()
        self.message_ids = []


def _text(msg: Message, headers: Sequence[tuple[str, str]] | None = None) -> str:
    """Every header and decoded text part of a message (a DSN's report parts included).

    ``headers``: ``msg``'s header fields as ``(str(name), str(value))`` when the caller has them
    already (:attr:`Mail.headers`), instead of reading ``msg.items()`` again."""
    if headers is None:
        headers = [(str(k), str(v)) for k, v in msg.items()]
    parts = [k + ": " + v for k, v in headers]
    for part in msg.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if payload is None:
            inner = part.get_payload()
            parts.append(str(inner) if not isinstance(inner, list) else "".join(str(x) for x in inner))
        else:
            parts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
        if part.get_content_type() in ("message/delivery-status", "text/rfc822-headers"):
            parts.append(str(part))
    return "\n".join(parts)


def is_report(msg: Message) -> bool:
    """A delivery status notification (delay DSN or NDR): ``multipart/report``."""
    return msg.get_content_type() == "multipart/report"


@frozen_init
@dataclass(frozen=True)
class Mail:
    """What the checks read of one delivered message (strings only: nothing to change in place).

    Attributes:
        raw: the message as delivered.
        subject: its Subject header (None when it has none).
        report: a delivery status notification (:func:`is_report`).
        headers: every header, in order, as ``(name, value)``.
        blank: where the line end that ends the header block starts in ``raw`` (the blank line
            follows it) when :func:`plain_headers` read the block; -1 when the email parser read
            it or the message has no blank line.
    """

    raw: bytes = field(repr=False)
    subject: str | None
    report: bool
    headers: tuple[tuple[str, str], ...]
    blank: int = -1

    @functools.cached_property
    def text(self) -> str:
        """:func:`_text` of the message (its body parsed only when a check reads it)."""
        return _text(self._parsed(), self.headers)

    def _parsed(self) -> Message:
        """The message as ``email.message_from_bytes`` parses it, as far as :func:`_text` reads it.

        ``_text`` reads the header fields from :attr:`headers`; of a multipart message (a report)
        it reads nothing more of the top level, and the parser parts its body by the top level's
        Content-Type alone (its first field: what ``Message.get`` finds). So the parser is given
        that one field and the body (the same bytes after the same blank line), not the header
        fields read already; a top level that turns out not to be multipart (no boundary) is
        parsed whole. A message of ASCII bytes is parsed with :data:`_ASCII`."""
        raw = self.raw
        policy = _ASCII if raw.isascii() else compat32
        if self.blank >= 0:
            ctype = next((v for k, v in self.headers if k.lower() == "content-type"), None)
            if ctype is not None and _content_type(ctype).startswith(("multipart/", "message/")):
                msg = email.message_from_bytes(b"Content-Type: " + ctype.encode("ascii") + raw[self.blank:],
                                               policy=policy)
                if msg.is_multipart():
                    return msg
        return email.message_from_bytes(raw, policy=policy)

    def get_all(self, name: str) -> list[str]:
        """Every value of the header ``name`` (any case), as ``Message.get_all``."""
        lowered = name.lower()
        return [v for k, v in self.headers if k.lower() == lowered]


class _AsciiCompat32(Compat32):
    """compat32 for a message of ASCII bytes: a header value is read back as it was parsed.

    ``Compat32.header_fetch_parse`` returns a parsed value unmodified unless it holds surrogates
    (the bytes parser's escapes of bytes past ASCII), which a message of ASCII bytes never has."""

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        return value


_ASCII = _AsciiCompat32()
_HEADERS = BytesHeaderParser()


@functools.lru_cache(maxsize=128)
def read_mail(raw: bytes) -> Mail:
    """``raw``'s headers parsed once: the same bytes are not parsed again.

    (The checks do not use this cache: they keep a run's messages in the run's own dict,
    :attr:`StepContext.mails`, as some messages are the same bytes in every run.)"""
    return _read_mail(raw)


def _read_mail(raw: bytes) -> Mail:
    """:func:`read_mail` of ``raw``, read now."""
    read = _plain_block(raw)
    if read is None:
        return _read_with_email(raw)
    headers, names, blank = read  # (the first field of a name: what get() finds)
    subject = headers[names.index("subject")][1] if "subject" in names else None
    content_type = headers[names.index("content-type")][1] if "content-type" in names else None
    return Mail(raw, subject, _content_type(content_type) == "multipart/report", headers, blank)


def _read_with_email(raw: bytes) -> Mail:
    msg = _HEADERS.parsebytes(raw)
    subject = msg.get("Subject")
    return Mail(raw, None if subject is None else str(subject), is_report(msg),
                tuple((str(k), str(v)) for k, v in msg.items()))


_PRINTABLE_BYTES = bytes(range(0x20, 0x7F)) + b"\t"  # printable ASCII and tabs
# where a field ends: a line end not followed by a blank (a line that starts with one continues the field)
_FIELD_ENDS = {"\r\n": re.compile(r"\r\n(?![ \t])"), "\n": re.compile(r"\n(?![ \t])")}


def plain_headers(raw: bytes) -> tuple[tuple[str, str], ...] | None:
    """The header fields of ``raw`` as ``email``'s compat32 parser reads them (``msg.items()``),
    for a plain header block: printable ASCII, one line end throughout (CRLF, as delivered, or
    LF), every line a field or a continuation (kept with its line end, as the parser keeps it),
    no envelope ``From`` line. None for anything else (the email parser reads those)."""
    read = _plain_block(raw)
    return None if read is None else read[0]


def _plain_block(raw: bytes) -> tuple[tuple[tuple[str, str], ...], list[str], int] | None:
    """:func:`plain_headers` of ``raw``, the fields' names in lower case and where the line end
    that ends its block starts (the blank line follows it; -1: no blank line)."""
    first = raw.find(b"\n")
    eol = b"\r\n" if first > 0 and raw[first - 1] == 13 else b"\n"
    end = raw.find(eol + eol)
    block = raw if end == -1 else raw[:end + len(eol)]
    # what is neither printable ASCII nor a tab: line ends only, each the block's own (CRLF: as many
    # bytes as twice the block's CRLFs, so no lone CR or LF; LF: no CR), or the email parser reads it
    ends = block.translate(None, _PRINTABLE_BYTES)
    if len(ends) != (block.count(b"\r\n") * 2 if len(eol) == 2 else ends.count(b"\n")):
        return None
    sep = "\r\n" if len(eol) == 2 else "\n"
    lines = _FIELD_ENDS[sep].split(block.decode("ascii"))  # one field each, with its continuations
    if block.endswith(eol):
        lines.pop()  # the line end of the last line, not a line
    parts = [line.partition(":") for line in lines]
    names = [name for name, colon, _ in parts if colon and name]
    if len(names) != len(parts):
        return None  # a line with no field name and colon (an empty one, an early end of the headers)
    lowered = "\n".join(names).lower()  # (no name holds a line end: a field's only is in a continuation)
    if " " in lowered or "\t" in lowered:
        return None  # a name with a blank: a first line that continues nothing, an envelope From line,
        # a line that is no field
    # no line end in a value but its continuations' (the parser's rstrip("\r\n") leaves it as it is)
    return tuple([(name, value.lstrip(" \t")) for name, _, value in parts]), lowered.split("\n"), end


def _content_type(value: str | None) -> str:
    """``Message.get_content_type`` of a Content-Type value (None: no such header)."""
    if value is None:
        return "text/plain"
    ctype = value.partition(";")[0].strip().lower()
    return ctype if ctype.count("/") == 1 else "text/plain"


def _messages(driver: ScenarioDriver, address: str, mails: dict[bytes, Mail]) -> list[Mail]:
    """The mailbox's messages read, each once per run (``mails``: the run's, see :class:`StepContext`)."""
    return [mails.get(raw) or _remember(mails, raw) for raw in driver.mailbox(address)]  # (a Mail is always true)


def _remember(mails: dict[bytes, Mail], raw: bytes) -> Mail:
    mail = mails[raw] = _read_mail(raw)
    return mail


def _contains(haystack: str, needles: Sequence[str], flat: list[str] | None = None) -> list[str]:
    """The needles not in ``haystack``, both read with their runs of blanks as one space (``flat``: the
    flat haystack's holder, shared with other readers of the same haystack: see :func:`_within`)."""
    flat = [] if flat is None else flat
    return [n for n in needles if not _within(" ".join(n.split()), haystack, flat)]


def _within(needle: str, haystack: str, flat: list[str]) -> bool:
    """``needle`` (its runs of blanks one space already) in ``haystack`` read with its runs of blanks
    as one space (``" ".join(haystack.split())``, worked out into ``flat`` when first needed).

    Found as it is, it is in the flat haystack too (each of its spaces is one blank between two
    others, which the flat haystack writes as that space); when a piece of it between its spaces is
    nowhere in the haystack, it is not in the flat haystack either (a piece has no blank, so it lies
    within one of the haystack's words). Anything else reads the flat haystack."""
    if needle in haystack:
        return True
    if not all(map(haystack.__contains__, needle.split(" "))):
        return False
    if not flat:
        flat.append(" ".join(haystack.split()))
    return needle in flat[0]


def _queues(driver: ScenarioDriver, server: str) -> list[Any]:
    return list(driver.queues(server, nonempty=True))


def describe_queue(q: Any) -> str:
    return (f"{q.identity} {q.delivery_type} {q.status} MessageCount={q.message_count} "
            f"NextHopDomain={q.next_hop_domain} LastError={q.last_error or '-'}")


def check(exp: Expectation, driver: ScenarioDriver, ctx: StepContext) -> Check:
    """Evaluate one expectation now."""
    a = exp.args
    kind = exp.kind
    if kind in ("delivered", "not_delivered"):
        subject = a.get("subject", ctx.subject)
        mails = _messages(driver, a["to"], ctx.mails)
        found = [m for m in mails if not m.report and (m.subject or "") == subject]
        subjects = [m.subject or "" for m in mails]
        got = f"{len(found)} message(s) with subject {subject!r} in {a['to']} (mailbox holds: {subjects or 'nothing'})"
        if kind == "not_delivered":
            return Check(exp, not found, f"no message {subject!r} in {a['to']}", got)
        ok = bool(found) if "count" not in a else len(found) == int(a["count"])
        expected = f"a message {subject!r} in {a['to']}" if "count" not in a else \
            f"{a['count']} message(s) {subject!r} in {a['to']}"
        if ok and ("contains" in a or "header" in a) and found:
            header = a.get("header")
            if isinstance(header, dict):  # its header values are the text: the body is not parsed
                values = [" ".join(v.split()) for v in found[-1].get_all(str(header.get("name")))]
                text = "\n".join(values)
                needles = [str(header.get("contains", ""))]
                expected += f" whose {header.get('name')} header contains {needles[0]!r}"
                got = f"{header.get('name')}: " + (" | ".join(values) or "(none)")
            else:
                text = found[-1].text
                needles = list(a.get("contains", ()))
                expected += f" containing {needles}"
                got = text[:2000]
            ok = not _contains(text, needles)
        return Check(exp, ok, expected, got)
    if kind in ("accepted", "rejected", "failed"):
        send = ctx.send
        got = ("accepted: " + send.reply) if send and send.accepted else \
            (f"refused: {send.reply or send.failure}" if send else "nothing was sent")
        if kind == "accepted":
            want = a.get("value", True) is not False
            return Check(exp, bool(send) and send.accepted == want, "accepted" if want else "not accepted", got)
        if kind == "rejected":
            ok = bool(send) and not send.accepted and a["reply"] in send.reply
            return Check(exp, ok, f"refused with {a['reply']!r}", got)
        needles = a.get("contains", ())
        ok = bool(send) and not send.accepted and not _contains(f"{send.failure}\n{send.reply}", needles)
        return Check(exp, ok, f"the client gives up: {list(needles)}", got)
    if kind in ("queued", "not_queued"):
        queues = _queues(driver, a["server"])
        got = "; ".join(describe_queue(q) for q in queues) or f"no message waits in a queue of {a['server']}"
        if kind == "not_queued":
            return Check(exp, not queues, f"every queue of {a['server']} empty", got)
        want = {k: a[k] for k in ("delivery_type", "status") if k in a}
        match = [q for q in queues
                 if all(str(getattr(q, k)) == str(v) for k, v in want.items())
                 and ("next_hop" not in a or str(a["next_hop"]).lower() in q.next_hop_domain.lower())
                 and ("last_error" not in a or str(a["last_error"]) in (q.last_error or ""))]
        wanted = ", ".join(f"{k}={a[k]!r}" for k in a if k != "server")
        return Check(exp, bool(match), f"a message queued on {a['server']} with {wanted}", got)
    if kind in ("eop_queued", "eop_empty"):
        items = driver.eop_queue()
        got = "; ".join(f"{','.join(i.recipients)} attempts={i.attempts} LastError={i.last_error or '-'}"
                        for i in items) or "EOP's queue is empty"
        if kind == "eop_empty":
            want = a.get("value", True) is not False
            return Check(exp, (not items) == want, "EOP's queue empty" if want else "EOP's queue not empty", got)
        needle = str(a.get("last_error", ""))
        return Check(exp, any(needle in (i.last_error or "") for i in items),
                     f"a message in EOP's queue with LastError containing {needle!r}", got)
    if kind in ("ndr", "dsn"):
        reports = [m for m in _messages(driver, a["to"], ctx.mails) if m.report]
        if "subject" in a:
            reports = [m for m in reports if str(a["subject"]) in m.text]
        needles = a.get("contains", ())
        ok = any(not _contains(m.text, needles) for m in reports)
        got = f"{len(reports)} report(s) in {a['to']}" + \
            ("".join(f"\n--- {m.subject}\n{m.text[:1500]}" for m in reports[-2:]))
        return Check(exp, ok, f"a delivery report in {a['to']} containing {list(needles)}", got)
    if kind in ("output", "error"):
        result = ctx.console
        text = (result.output if kind == "output" else "\n".join(result.errors)) if result else ""
        flat: list[str] = []  # (see _within)
        missing = _contains(text, a.get("contains", ()), flat)
        present = [n for n in a.get("not_contains", ()) if _within(" ".join(n.split()), text, flat)]
        expected = f"{'output' if kind == 'output' else 'an error'} containing {list(a.get('contains', ()))}"
        if a.get("not_contains"):
            expected += f" and not {list(a['not_contains'])}"
        return Check(exp, bool(result) and not missing and not present, expected, text.strip()[:3000] or "(nothing)")
    if kind == "transcript":
        text = "\n".join(ctx.transcript)
        missing = _contains(text, a.get("contains", ()))
        present = [n for n in a.get("not_contains", ()) if n in text]
        return Check(exp, not missing and not present,
                     f"a dialogue with {list(a.get('contains', ()))}, without {list(a.get('not_contains', ()))}",
                     text[-3000:] or "(no dialogue)")
    raise AssertionError(f"unknown expectation {kind}")
