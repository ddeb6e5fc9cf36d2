"""Routing on an Exchange server: which send connector, which next hop (fidelity §3.4, §3.6, §2.2).

Two pure questions, each answering a :class:`Decision` with its reasons:

- :func:`select_send_connector`: M-SEL. Drop disabled connectors, connectors the source
  server is not a source of, and connectors whose MaxMessageSize is below the message;
  keep those whose address space covers the domain; the most specific address space wins,
  then the lowest cost, then the lowest connector name. None left: Unreachable.
- :func:`next_hop`: a recipient's next hop. A mailbox of the organization is delivered
  locally (``SmtpDeliveryToMailbox``); a remote mailbox goes to its RemoteRoutingAddress
  through a send connector; any other address in an Authoritative domain is not found
  (``550 5.1.1``); InternalRelay/ExternalRelay and other domains go through a send
  connector (``DnsConnectorDelivery`` or ``SmartHostConnectorDelivery``), or to the
  Unreachable queue when no connector matches.

The organization is read through :class:`Directory`, a frozen digest of accepted domains
and recipients built from Exchange-named mappings or from model objects.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from lab.core.catalogue import Reply
from lab.core.catalogue import exchange_queue as C
from lab.core.exchange.send_connector import SendConnector
from lab.core.trace import Step
from lab.core.fastpath import frozen_init

_set = object.__setattr__

DNS_CONNECTOR = "DnsConnectorDelivery"
SMART_HOST_CONNECTOR = "SmartHostConnectorDelivery"
TO_MAILBOX = "SmtpDeliveryToMailbox"
UNREACHABLE = "Unreachable"
DELIVERY_TYPES = (DNS_CONNECTOR, SMART_HOST_CONNECTOR, TO_MAILBOX, UNREACHABLE)
DOMAIN_TYPES = ("Authoritative", "InternalRelay", "ExternalRelay")


@frozen_init
@dataclass(frozen=True)
class Decision:
    """A decision with the reasons behind it.

    Attributes:
        result: what was decided (a connector, a :class:`NextHop`, None).
        reasons: one line per consideration, in order.
        rule: the rule id (``fidelity §3.4``).
    """

    result: Any
    reasons: tuple[str, ...]
    rule: str

    # reasons: also written when first read (later, _Reasons below)

    @classmethod
    def later(cls, result: Any, rule: str, write: Any, *args: Any) -> "Decision":
        """The decision whose reasons are ``write(*args)``, written the first time they are read
        (``args`` never changed after: the same reasons then as now). Routing answers are read for
        their result on the mail path; their reasons only when a trace is."""
        decision = object.__new__(cls)
        _set(decision, "__dict__", {"result": result, "rule": rule, "_write": (write, args)})
        return decision

    def steps(self, at: float | None = None, reply: str | None = None) -> tuple[Step, ...]:
        """The reasons as trace steps (the last one carries ``reply``)."""
        out = [Step(self.rule, r, None, at) for r in self.reasons]
        if out and reply:
            out[-1] = Step(self.rule, out[-1].detail, reply, at)
        return tuple(out)


class _Reasons:
    """``Decision.reasons`` of a decision made by :meth:`Decision.later`: written at the first read
    and kept in its ``__dict__`` under the same name (a non-data descriptor: a decision built with
    its reasons, and one read already, answers from its ``__dict__`` without a call). Equality,
    hashing, repr and replace() read the field through it: the same as the reasons written at once."""

    def __get__(self, decision: Decision | None, owner: type | None = None) -> "tuple[str, ...] | _Reasons":
        if decision is None:
            return self
        held = decision.__dict__
        write, args = held["_write"]
        reasons = held["reasons"] = write(*args)
        del held["_write"]
        return reasons


Decision.reasons = _Reasons()  # type: ignore[assignment,misc]


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    """The first of ``names`` that ``obj`` has: a key of a mapping, else an attribute."""
    if isinstance(obj, Mapping):  # (an ABC check: made once per object, not once per name)
        for name in names:
            if name in obj:
                return obj[name]
        return default
    for name in names:
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def _addresses(obj: Any) -> tuple[str, ...]:
    primary = _get(obj, "PrimarySmtpAddress", "primary_smtp_address", "address")
    extra = _get(obj, "EmailAddresses", "email_addresses", default=()) or ()
    if isinstance(extra, str):
        extra = [extra]
    out = [str(primary).lower()] if primary else []
    out += [str(a).split(":", 1)[-1].lower() for a in extra]
    return tuple(dict.fromkeys(out))


@frozen_init
@dataclass(frozen=True)
class Directory:
    """What routing needs from the organization.

    Attributes:
        accepted_domains: ``(domain, DomainType)`` pairs, lower-case domains.
        mailboxes: recipient address -> mailbox database (the SmtpDeliveryToMailbox next hop).
        remote_mailboxes: recipient address -> RemoteRoutingAddress.
        default_domain: the default accepted domain (DSNs come from ``postmaster@`` it).
    """

    accepted_domains: tuple[tuple[str, str], ...] = ()
    mailboxes: Mapping[str, str] = field(default_factory=dict)
    remote_mailboxes: Mapping[str, str] = field(default_factory=dict)
    default_domain: str = ""

    @staticmethod
    def build(accepted_domains: Iterable[Any], mailboxes: Iterable[Any] = (),
              remote_mailboxes: Iterable[Any] = (), database: str = "Mailbox Database") -> "Directory":
        """Digest Exchange-named mappings (``DomainName``, ``PrimarySmtpAddress``...) or model objects.

        Args:
            accepted_domains: items with DomainName/DomainType/Default (or domain_name/domain_type/default).
            mailboxes: items with PrimarySmtpAddress (and EmailAddresses, Database).
            remote_mailboxes: items with PrimarySmtpAddress and RemoteRoutingAddress.
            database: the database name for mailboxes that name none.
        """
        domains, default = [], ""
        for item in accepted_domains:
            name = str(_get(item, "DomainName", "domain_name", "name")).lower().rstrip(".")
            kind = str(_get(item, "DomainType", "domain_type", default="Authoritative"))
            domains.append((name, kind))
            if _get(item, "Default", "default", default=False):
                default = name
        default = default or (domains[0][0] if domains else "")
        boxes = {a: str(_get(m, "Database", "database", default=database) or database)
                 for m in mailboxes for a in _addresses(m)}
        remote = {}
        for m in remote_mailboxes:
            target = str(_get(m, "RemoteRoutingAddress", "remote_routing_address")).lower()
            for a in _addresses(m) + (target,):
                remote[a] = target
        return Directory(tuple(domains), boxes, remote, default)

    def domain_type(self, domain: str) -> str | None:
        """The DomainType of the accepted domain covering ``domain`` (exact, or ``*.`` wildcard), or None."""
        domain = domain.lower()
        for name, kind in self.accepted_domains:
            if name == domain or (name.startswith("*.") and domain.endswith(name[1:])):
                return kind
        return None


@frozen_init
@dataclass(frozen=True)
class NextHop:
    """Where a recipient goes next; ``key`` identifies its delivery queue.

    Attributes:
        delivery_type: one of :data:`DELIVERY_TYPES`.
        next_hop_domain: the queue's NextHopDomain.
        connector: the send connector's name (None for mailbox/unreachable/not found).
        recipient: the envelope recipient to use (a remote mailbox's RemoteRoutingAddress).
        failure: a permanent reply when the recipient cannot be routed at all (not found).
    """

    delivery_type: str
    next_hop_domain: str
    connector: str | None
    recipient: str
    failure: Reply | None = None

    # key: the queue key (_HopKey below)


class _HopKey:
    """``NextHop.key``, the queue key: delivery type, next hop domain, connector.

    Written at the first read and kept in the hop's ``__dict__`` under the same name (a non-data
    descriptor: the kept value answers every later read without a call; not a field, so equality,
    hashing, repr and replace() ignore it). A hop is frozen: its key never changes, and the transport
    reads it for every message it queues."""

    def __get__(self, hop: NextHop | None, owner: type | None = None) -> "tuple[str, str, str] | _HopKey":
        if hop is None:
            return self
        key = hop.__dict__["key"] = (hop.delivery_type, hop.next_hop_domain, hop.connector or "")
        return key


NextHop.key = _HopKey()  # type: ignore[assignment,misc]


def select_send_connector(connectors: Sequence[SendConnector], recipient_domain: str, source_server: str,
                          message_size: int = 0) -> Decision:
    """Pick the send connector for a domain (fidelity §3.4, M-SEL).

    Args:
        connectors: every send connector of the organization.
        recipient_domain: the domain to route.
        source_server: the server routing the message (SourceTransportServers scope).
        message_size: the message size in bytes (MaxMessageSize filter).

    Returns:
        A decision whose result is the connector, or None (Unreachable).
    """
    notes: list[tuple] = []
    chosen = _select(connectors, recipient_domain, source_server, message_size, notes)
    return Decision(chosen, _reasons(notes), "fidelity §3.4")


def _select(connectors: Sequence[SendConnector], recipient_domain: str, source_server: str, message_size: int,
            notes: list[tuple]) -> SendConnector | None:
    """:func:`select_send_connector`'s connector; a note per reason appended to ``notes`` (:func:`_reasons`)."""
    domain = recipient_domain.lower().rstrip(".")
    candidates = []
    for conn in connectors:
        if not conn.enabled:
            notes.append((_disabled, conn.name))
        elif not conn.serves(source_server):
            notes.append((_not_a_source, conn.name, source_server))
        elif message_size > conn.max_message_size:
            notes.append((_too_large, conn.name, message_size, conn.max_message_size))
        else:
            spaces = [s for s in conn.address_spaces if s.matches(domain)]
            if not spaces:
                notes.append((_not_covered, conn.name, domain))
                continue
            # (the most specific, then cheapest space: max keeps the first of equals; one is its own best)
            best = max(spaces, key=lambda s: (s.specificity, -s.cost)) if len(spaces) > 1 else spaces[0]
            candidates.append((-best.specificity, best.cost, conn.name.lower(), conn, best))
    if not candidates:
        notes.append((_no_connector, domain))
        return None
    if len(candidates) > 1:  # (one is in order already)
        candidates.sort(key=lambda c: c[:3])
    notes.append((_selected, domain, candidates))  # (the list is not changed again)
    return candidates[0][3]


# The reasons, written from the notes the walk took (each note: a writer and its arguments, immutable)

def _reasons(notes: list[tuple]) -> tuple[str, ...]:
    return tuple([note[0](*note[1:]) for note in notes])


def _disabled(name: str) -> str:
    return f"{name}: disabled"


def _not_a_source(name: str, source_server: str) -> str:
    return f"{name}: {source_server} is not a source transport server"


def _too_large(name: str, message_size: int, max_message_size: int) -> str:
    return f"{name}: message of {message_size} bytes exceeds MaxMessageSize {max_message_size}"


def _not_covered(name: str, domain: str) -> str:
    return f"{name}: no address space covers {domain}"


def _no_connector(domain: str) -> str:
    return f"no send connector matches {domain}: recipient is unreachable"


def _selected(domain: str, candidates: list[tuple]) -> str:
    chosen, space = candidates[0][3], candidates[0][4]
    others = ", ".join(f"{c[3].name} ({c[4]})" for c in candidates[1:])
    return (f"{chosen.name} selected for {domain}: address space {space}"
            + (f" beats {others} (specificity, cost, name)" if others else ""))


def _mailbox(address: str, database: str) -> tuple[str]:  # (the decision's only reason)
    return (f"{address} is a mailbox in {database}: deliver to the mailbox",)


def _remote_mailbox(address: str, target: str) -> str:
    return f"{address} is a remote mailbox: route to its RemoteRoutingAddress {target}"


def _not_found(domain: str, address: str) -> tuple[str]:  # (the decision's only reason)
    return (f"{domain} is Authoritative and has no recipient {address}",)


def _relay(domain: str, kind: str) -> str:
    return f"{domain} is an accepted {kind} domain: route through a send connector"


def next_hop(directory: Directory, connectors: Sequence[SendConnector], recipient: str, source_server: str,
             message_size: int = 0) -> Decision:
    """The next hop of one recipient (fidelity §2.2, §3.6).

    Returns:
        A decision whose result is a :class:`NextHop` (its reasons written when first read, from the
        notes the walk took).
    """
    address = recipient.lower()
    domain = address.rpartition("@")[2]
    if address in directory.mailboxes:
        database = directory.mailboxes[address]
        return Decision.later(NextHop(TO_MAILBOX, database, None, recipient), "fidelity §2.2", _mailbox, address,
                              database)
    notes: list[tuple] = []
    if address in directory.remote_mailboxes:
        target = directory.remote_mailboxes[address]
        notes.append((_remote_mailbox, address, target))
        address, domain = target, target.rpartition("@")[2]
    else:
        kind = directory.domain_type(domain)
        if kind == "Authoritative":
            return Decision.later(NextHop(UNREACHABLE, domain, None, recipient, failure=C.S550_5_1_1_RECIPIENT_NOT_FOUND),
                                  "fidelity §3.6", _not_found, domain, address)
        if kind:
            notes.append((_relay, domain, kind))
    conn = _select(connectors, domain, source_server, message_size, notes)
    if conn is None:
        return Decision.later(NextHop(UNREACHABLE, str(C.UNREACHABLE_DOMAIN), None, address), "fidelity §3.4",
                              _reasons, notes)
    hop_domain = domain if conn.dns_routing_enabled else ",".join(conn.smart_hosts)
    return Decision.later(NextHop(conn.delivery_type, hop_domain, conn.name, address), "fidelity §3.4", _reasons,
                          notes)
