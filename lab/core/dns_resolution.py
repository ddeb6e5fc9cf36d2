"""Sans-I/O name resolution for the lab's MTAs: RFC 5321 §5.1 MX resolution and smart-host lookups.

A resolution asks one question at a time. The driver (the in-memory :func:`resolve_mx`, or the
live resolver in ``lab.adapters.dns_client``) loops::

    res = MxResolution("contoso.com")
    while (q := res.next_query()) is not None:
        rcode, records = ask(*q)            # any transport; records = the ANSWER section
        res.feed(*q, rcode, records)
    res.result                              # MxResult(targets, error, steps)

``rcode`` is ``NOERROR``, ``NXDOMAIN``, ``SERVFAIL``, ``REFUSED``, ... as the server said, or
``TIMEOUT`` (no reply) or ``INVALID`` (an unusable reply). Records are
:class:`lab.core.dns.Record` objects (anything with ``name``, ``rtype`` and ``value``).

Rules (RFC 5321 §5.1, RFC 7505): look up MX, following CNAMEs; NXDOMAIN is an error; no MX
records means an implicit MX of preference 0 pointing at the domain itself; a lone ``MX 0 .``
is a null MX (no mail); MX hosts are resolved to A records and sorted by preference, and hosts
of equal preference are taken in alphabetical order (RFC 5321 asks senders to randomise them;
the lab stays deterministic so that traces and scenarios repeat); hosts without addresses are
skipped; none usable is ``NoRecords`` (or the transient error met on the way, which the
caller should retry). With ``local_hosts``, MX records at or above the preference of the
sender's own name are discarded (relay self-pruning); none left is ``MxLoopback``, as is a
CNAME loop. This module is stdlib-only and does not import ``lab.core.dns`` (which
re-exports it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol
from lab.core.fastpath import frozen_init

# Errors, named like Exchange's SMTPSEND.DNS.* statuses (their reply texts live in the catalogue).
NON_EXISTENT_DOMAIN = "NonExistentDomain"
NO_RECORDS = "NoRecords"
NULL_MX = "NullMX"
SERVER_FAILURE = "ServerFailure"
MX_LOOPBACK = "MxLoopback"
TIMEOUT = "Timeout"
INVALID_DATA = "InvalidData"

MAX_CNAME_CHAIN = 8
MAX_QUERIES = 32
_TRANSIENT = {"TIMEOUT": TIMEOUT, "INVALID": INVALID_DATA}


def qname(name: str) -> str:
    """A name as received: lower-case, no trailing dot, no validation."""
    text = name.strip().lower()
    return text[:-1] if text.endswith(".") else text


def display(name: str) -> str:
    """The printable form of a normalised name: the root is ``"."``."""
    return name or "."


class _RecordLike(Protocol):
    name: str
    rtype: str
    value: object


@frozen_init
@dataclass(frozen=True)
class Target:
    """One host to try, with its preference and its addresses in the order the DNS gave them."""

    host: str
    preference: int
    addresses: tuple[str, ...]


@frozen_init
@dataclass(frozen=True)
class MxResult:
    """The outcome: ``targets`` in the order to try them, or an ``error``; ``steps`` explain it."""

    domain: str
    targets: tuple[Target, ...] = ()
    error: str | None = None
    steps: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when there is at least one target to try."""
        return self.error is None

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address of every target, in the order to try them."""
        return tuple([a for t in self.targets for a in t.addresses])


def _rdata(rec: _RecordLike) -> str:
    if rec.rtype == "MX":
        return f"{rec.value[0]} {display(rec.value[1])}"
    if rec.rtype in ("CNAME", "A", "PTR", "NS"):
        return f"{rec.rtype + ' ' if rec.rtype == 'CNAME' else ''}{rec.value}"
    return f"{rec.rtype} {rec.value}"


def _follow(name: str, rtype: str, records: tuple[_RecordLike, ...], seen: list[str]):
    """Follow CNAMEs inside one answer. Returns (final name, records of rtype there, looped)."""
    while True:
        hits = [r for r in records if qname(r.name) == name and r.rtype == rtype]
        cname = [r for r in records if qname(r.name) == name and r.rtype == "CNAME"]
        if hits or not cname:
            return name, hits, False
        name = qname(str(cname[0].value))
        if name in seen or len(seen) > MAX_CNAME_CHAIN:
            return name, [], True
        seen.append(name)


class _Resolution:
    """The question/answer loop shared by MX and host resolution."""

    def __init__(self, name: str) -> None:
        self.domain = qname(name)
        self.result: MxResult | None = None
        self._steps: list[str] = []
        self._pending: tuple[str, str] | None = None
        self._queries = 0
        self._chain: list[str] = []

    def next_query(self) -> tuple[str, str] | None:
        """The question to ask next as ``(qname, qtype)``, or None once :attr:`result` is set."""
        return None if self.result is not None else self._pending

    def feed(self, name: str, rtype: str, rcode: str, records: Iterable[_RecordLike]) -> None:
        """Give the answer to the pending question.

        Args:
            name: The question's name (as returned by :meth:`next_query`).
            rtype: The question's type.
            rcode: ``NOERROR``, ``NXDOMAIN``, ``SERVFAIL``, ``REFUSED``, ``TIMEOUT``, ``INVALID``, ...
            records: The ANSWER section.

        Raises:
            ValueError: The resolution is finished, or this is not the pending question.
        """
        asked = (qname(name), rtype.upper())
        if self.result is not None or asked != self._pending:
            raise ValueError(f"answer to {asked} does not match the pending question {self._pending}")
        self._pending = None
        records, rcode = tuple(records), rcode.upper()
        if rcode == "NOERROR":
            shown = "NOERROR " + (", ".join([_rdata(r) for r in records]) or f"(no {asked[1]} records)")
        else:
            shown = "no reply (timeout)" if rcode == "TIMEOUT" else rcode
        self._steps.append(f"{asked[1]} {display(asked[0])} -> {shown}")
        self._answered(asked[0], asked[1], rcode, records)

    def _answered(self, name: str, rtype: str, rcode: str, records: tuple[_RecordLike, ...]) -> None:
        raise AssertionError("subclasses handle answers")  # pragma: no cover

    def _ask(self, name: str, rtype: str) -> None:
        self._queries += 1
        if self._queries > MAX_QUERIES:
            self._finish(error=SERVER_FAILURE, step=f"gave up after {MAX_QUERIES} queries")
        else:
            self._pending = (name, rtype)

    def _finish(self, targets: tuple[Target, ...] = (), error: str | None = None, step: str = "") -> None:
        if step:
            self._steps.append(step)
        if error is None:
            shown = "; ".join(f"{t.preference} {t.host} [{', '.join(t.addresses)}]" for t in targets)
            self._steps.append(f"result: {shown}")
        else:
            self._steps.append(f"result: {error}")
        self.result = MxResult(self.domain, targets, error, tuple(self._steps))

    def _lookup_address(self, name: str, rcode: str, records: tuple[_RecordLike, ...]):
        """Handle an A answer. Returns None when a follow-up query was asked, else
        ``(addresses, error, reason)``; the error is None when addresses were found."""
        if rcode != "NOERROR":
            if rcode == "NXDOMAIN":
                return (), NON_EXISTENT_DOMAIN, f"{name} does not exist"
            return (), _TRANSIENT.get(rcode, SERVER_FAILURE), f"the A query for {name} failed ({rcode})"
        final, hits, looped = _follow(name, "A", records, self._chain)
        if looped:
            return (), MX_LOOPBACK, f"CNAMEs for {name} are configured in a loop"
        if not hits and final != name:
            self._ask(final, "A")
            return None
        addresses = tuple(dict.fromkeys([str(r.value) for r in hits]))
        if not addresses:
            return (), NO_RECORDS, f"{final} has no A record"
        return addresses, None, ""


class MxResolution(_Resolution):
    """Where to deliver mail for ``domain`` (RFC 5321 §5.1); see the module docstring.

    Args:
        domain: The recipient domain.
        local_hosts: The sending server's own names, for relay MX self-pruning.
    """

    def __init__(self, domain: str, local_hosts: Iterable[str] = ()) -> None:
        super().__init__(domain)
        self._local = {qname(h) for h in local_hosts}
        self._candidates: list[tuple[int, str]] = []
        self._found: list[Target] = []
        self._skipped = 0
        self._transient: str | None = None
        self._chain = [self.domain]
        self._ask(self.domain, "MX")

    def _answered(self, name: str, rtype: str, rcode: str, records: tuple[_RecordLike, ...]) -> None:
        if rtype == "MX":
            self._mx_answered(name, rcode, records)
            return
        outcome = self._lookup_address(name, rcode, records)
        if outcome is None:
            return
        addresses, error, reason = outcome
        preference, host = self._candidates[len(self._found) + self._skipped]
        if error is None:
            self._found.append(Target(host, preference, addresses))
        else:
            self._steps.append(f"{reason}: {host} skipped")
            self._skipped += 1
            if error in (TIMEOUT, SERVER_FAILURE, INVALID_DATA) and self._transient is None:
                self._transient = error
        self._next_target()

    def _mx_answered(self, name: str, rcode: str, records: tuple[_RecordLike, ...]) -> None:
        if rcode == "NXDOMAIN":
            self._finish(error=NON_EXISTENT_DOMAIN, step=f"{name} does not exist")
            return
        if rcode != "NOERROR":
            self._finish(error=_TRANSIENT.get(rcode, SERVER_FAILURE), step=f"the MX query for {name} failed")
            return
        final, hits, looped = _follow(name, "MX", records, self._chain)
        if looped:
            self._finish(error=MX_LOOPBACK, step=f"CNAMEs for {self.domain} are configured in a loop")
            return
        if not hits and final != name:
            self._ask(final, "MX")
            return
        mxs = sorted({(int(r.value[0]), qname(str(r.value[1]))) for r in hits})
        if not mxs:
            self._steps.append(f"no MX records: implicit MX 0 {final} (RFC 5321 §5.1)")
            mxs = [(0, final)]
        elif any(host == "" for _, host in mxs):
            if len(mxs) == 1:
                self._finish(error=NULL_MX, step=f"null MX (RFC 7505): {final} accepts no mail")
                return
            self._steps.append("a null MX beside other MX records is unusable: ignored")
            mxs = [m for m in mxs if m[1]]
        best: dict[str, int] = {}
        for preference, host in mxs:
            best.setdefault(host, preference)
        mxs = sorted((p, h) for h, p in best.items())
        own = [p for p, h in mxs if h in self._local]
        if own:
            mxs = [(p, h) for p, h in mxs if p < min(own)]
            self._steps.append(f"this server is MX {min(own)}: MX records at or above it discarded")
            if not mxs:
                self._finish(error=MX_LOOPBACK, step=f"the MX records of {final} point back to this server")
                return
        self._candidates = mxs
        self._next_target()

    def _next_target(self) -> None:
        index = len(self._found) + self._skipped
        if index < len(self._candidates):
            host = self._candidates[index][1]
            self._chain = [host]
            self._ask(host, "A")
        elif self._found:
            self._finish(tuple(self._found))
        elif self._transient is not None:
            self._finish(error=self._transient, step="no MX host could be resolved: retry later")
        else:
            self._finish(error=NO_RECORDS, step="no usable MX host")


class HostResolution(_Resolution):
    """The addresses of one host, e.g. a send connector's smart host (A, following CNAMEs).

    The result has a single target at preference 0, or the error: NXDOMAIN is
    ``NonExistentDomain``, no A record is ``NoRecords``.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._chain = [self.domain]
        self._ask(self.domain, "A")

    def _answered(self, name: str, rtype: str, rcode: str, records: tuple[_RecordLike, ...]) -> None:
        outcome = self._lookup_address(name, rcode, records)
        if outcome is None:
            return
        addresses, error, reason = outcome
        if error is None:
            self._finish((Target(self.domain, 0, addresses),))
        else:
            self._finish(error=error, step=reason)


class _Answers(Protocol):
    def answer(self, qname: str, qtype: str): ...


def drive(resolution: _Resolution, zones: _Answers) -> MxResult:
    """Run a resolution straight against an in-memory zone set (``ZoneSet.answer``).

    REFUSED (a name outside every zone) is fed as it is and ends as ``ServerFailure``, like a
    resolver that finds no server able to answer.
    """
    while (question := resolution.next_query()) is not None:
        reply = zones.answer(*question)
        resolution.feed(*question, reply.rcode, reply.answer)
    assert resolution.result is not None
    return resolution.result


def resolve_mx(zones: _Answers, domain: str, local_hosts: Iterable[str] = ()) -> MxResult:
    """Resolve where mail for ``domain`` goes, against a ``ZoneSet`` (the in-memory driver)."""
    memo = getattr(zones, "resolutions", None)
    if memo is None:
        return drive(MxResolution(domain, local_hosts), zones)
    local = tuple(local_hosts)
    return _remembered(memo, ("MX", domain, local), MxResolution, zones, domain, local)


def resolve_host(zones: _Answers, name: str) -> MxResult:
    """Resolve a host name (smart host) to its addresses, against a ``ZoneSet``."""
    memo = getattr(zones, "resolutions", None)
    if memo is None:
        return drive(HostResolution(name), zones)
    return _remembered(memo, ("A", name), HostResolution, zones, name)


RESOLUTION_MEMO = 4096  # resolutions remembered per zone set


def _remembered(memo: dict, key: tuple, kind: type, zones: _Answers, *args: object) -> MxResult:
    """A resolution against an immutable zone set that offers a ``resolutions`` dict (``ZoneSet``):
    a pure function of the set and the question's texts, so remembered there (an MxResult is frozen)."""
    found = memo.get(key)
    if found is None:
        if len(memo) >= RESOLUTION_MEMO:
            memo.clear()
        found = memo[key] = drive(kind(*args), zones)
    return found
