"""Probes: named mail flows with an expected outcome (``probes:`` in a topology file).

A :class:`Flow` is what the lab can run: who connects from where, to which entry point, with
which envelope. A :class:`Probe` is a flow with a name, the place it was written and an
:class:`Expectation`. :func:`parse_probes` reads a topology's ``probes:`` list; every error
names the file and line, like the rest of the topology::

    probes:
      - name: erp relay through MAIL1 is refused
        from: erp                        # a mailbox address, or a node (device, client, any host)
        mail_from: erp@office26.com      # the envelope sender when `from` is a node without a mailbox
        to: someone@fabrikam.com
        via: {server: mail1, port: 25}   # node, host name or IP; tls, auth, certificate
        expect: {rejected: "550 5.7.54"}

``host`` is the node the client connects from (a mailbox's default: ``settings.outside_host``;
a node sends from itself). ``via.auth`` is ``mailbox`` (the sender's own credentials), a
mailbox address, or ``{user, password}``. ``advance`` lets lab time pass before looking
(``2d``: the expiry NDR). ``expect`` holds one of ``delivered`` (a mailbox), ``rejected`` (a
reply prefix), ``failed`` (a network failure such as ``Timeout``), ``queued`` (a LastError
prefix) and ``bounced`` (the NDR's diagnostic prefix).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from lab.core.catalogue import probes as T
from lab.core.errors import ConfigError, ConfigErrors, Place
from lab.core.world import World
from lab.probes.directory import Directory


@dataclass(frozen=True)
class Flow:
    """One message the lab can send and follow.

    Attributes:
        id: stable identifier (``sender>recipient@entry``), the same in every world.
        source: the node the client connects from.
        mail_from: the envelope sender.
        recipient: the envelope recipient.
        server: the name or virtual IP the client dials.
        port: the virtual port.
        tls: STARTTLS before anything else.
        auth: (user, password) for AUTH, or None.
        certificate: a PKI certificate the client presents during TLS, or None.
        entry: the entry point's label (``mail1:25``, ``tenant-mx``, ``smtp.office365.com:587``).
        mailbox: where a delivery lands (the recipient's primary address).
        sender_mailbox: where an NDR lands (the sender's mailbox), or None.
        advance: lab seconds to let pass before looking.
    """

    id: str
    source: str
    mail_from: str
    recipient: str
    server: str
    port: int
    tls: bool = False
    auth: tuple[str, str] | None = None
    certificate: str | None = None
    entry: str = ""
    mailbox: str = ""
    sender_mailbox: str | None = None
    advance: float = 0.0

    def describe(self) -> str:
        """``sender -> recipient via entry``."""
        return T.FLOW_LINE.format(sender=self.mail_from, recipient=self.recipient, entry=self.entry)


@dataclass(frozen=True)
class Expectation:
    """The outcome a probe expects: ``kind`` (one of :data:`lab.core.catalogue.probes.OUTCOMES`)
    and ``value`` (a mailbox, a reply/LastError/diagnostic prefix, or a failure name)."""

    kind: str
    value: str

    def describe(self) -> str:
        return T.EXPECTED[self.kind].format(value=self.value)


@dataclass(frozen=True)
class Probe:
    """A named flow and what it should do."""

    name: str
    flow: Flow
    expect: Expectation
    place: Place


def parse_probes(world: World, items: Any, source: Any) -> tuple[Probe, ...]:
    """The probes of a topology.

    Args:
        world: the world the probes run in (nodes, mailboxes, certificates).
        items: the ``probes:`` list (plain data, already checked against the schema).
        source: the :class:`lab.topology.source.Source` of the file (its line marks), or None.

    Raises:
        ConfigErrors: every bad probe, each with file:line.
    """
    directory = Directory(world)
    errors: list[ConfigError] = []
    probes: list[Probe] = []
    seen: dict[str, int | None] = {}
    for index, item in enumerate(items or ()):
        reader = _Reader(world, directory, item, ("probes", index), source)
        try:
            probe = reader.probe()
        except ConfigError as err:
            errors.append(err)
            continue
        if probe.name in seen:
            errors.append(reader.error("name", T.DUPLICATE_PROBE.format(value=probe.name, line=seen[probe.name])))
            continue
        seen[probe.name] = probe.place.line
        probes.append(probe)
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
    return tuple(probes)


class _Reader:
    def __init__(self, world: World, directory: Directory, item: Mapping[str, Any], path: tuple[Any, ...],
                 source: Any):
        self.world, self.directory, self.item, self.path, self.source = world, directory, item, path, source

    def place(self, *keys: Any) -> Place:
        if self.source is None:
            return Place(path=".".join(str(k) for k in self.path + keys))
        return self.source.place(self.path + keys)

    def error(self, key: str | tuple[str, ...], message: str, allowed: Any = None) -> ConfigError:
        keys = key if isinstance(key, tuple) else (key,)
        return ConfigError(message, self.place(*keys), allowed)

    def probe(self) -> Probe:
        from lab.console.cmdlets.lab_tools import parse_duration  # noqa: PLC0415
        item = self.item
        sender = str(item["from"]).strip()
        nodes = self.world.topology.hosts
        mailbox = self.directory.mailbox(sender) if "@" in sender else None
        if "@" in sender:
            if mailbox is None and "host" not in item:
                raise self.error("from", T.UNKNOWN_MAILBOX.format(value=sender, what="from"))
            source = str(item.get("host") or self.world.topology.settings.outside_host or "")
            mail_from = str(item.get("mail_from") or sender)
        else:
            if sender not in nodes:
                raise self.error("from", T.UNKNOWN_NODE.format(value=sender), sorted(nodes))
            source = str(item.get("host") or sender)
            mail_from = str(item.get("mail_from") or self.directory.node_address(sender) or "")
            if not mail_from:
                raise self.error("from", T.NEED_SENDER_ADDRESS.format(value=sender))
        if source not in nodes:
            raise self.error("host" if "host" in item else "from", T.UNKNOWN_NODE.format(value=source), sorted(nodes))
        if "@" not in mail_from:
            raise self.error("mail_from", T.BAD_ADDRESS.format(value=mail_from))
        recipient = str(item["to"]).strip()
        if "@" not in recipient:
            raise self.error("to", T.BAD_ADDRESS.format(value=recipient))
        via = item.get("via") or {}
        server = str(via["server"]).strip()
        port = int(via.get("port", 25))
        dial = self.directory.dial(source, server) if server in nodes else server
        auth = self.auth(via.get("auth"), mailbox)
        certificate = via.get("certificate")
        if certificate is not None and certificate not in self.directory.certificates:
            raise self.error(("via", "certificate"), T.UNKNOWN_CERTIFICATE.format(value=certificate),
                             sorted(self.directory.certificates))
        advance = 0.0
        if item.get("advance") is not None:
            try:
                advance = parse_duration(str(item["advance"]))
            except ValueError:
                raise self.error("advance", T.BAD_DURATION.format(value=item["advance"])) from None
        expect = self.expectation()
        target = self.directory.mailbox(recipient)
        entry = f"{server}:{port}"
        flow = Flow(id=f"{mail_from}>{recipient}@{entry}", source=source, mail_from=mail_from, recipient=recipient,
                    server=dial, port=port, tls=bool(via.get("tls", False)), auth=auth, certificate=certificate,
                    entry=entry, mailbox=target.primary if target else recipient.lower(),
                    sender_mailbox=mailbox.primary if mailbox else None, advance=advance)
        return Probe(str(item["name"]), flow, expect, self.place())

    def auth(self, value: Any, sender: Any) -> tuple[str, str] | None:
        if value is None or value is False:
            return None
        if isinstance(value, Mapping):
            return str(value["user"]), str(value["password"])
        if str(value) == "mailbox":
            if sender is None:
                raise self.error(("via", "auth"), T.UNKNOWN_MAILBOX.format(value=self.item["from"], what="auth"))
            return sender.primary, sender.password
        owner = self.directory.mailbox(str(value))
        if owner is None:
            raise self.error(("via", "auth"), T.UNKNOWN_MAILBOX.format(value=value, what="auth"))
        return owner.primary, owner.password

    def expectation(self) -> Expectation:
        expect = self.item["expect"]
        given = [(k, v) for k, v in expect.items() if k in T.OUTCOMES]
        if len(given) != 1:
            raise self.error("expect", T.ONE_EXPECTATION, list(T.OUTCOMES))
        kind, value = given[0]
        value = str(value).strip()
        if kind == T.DELIVERED:
            box = self.directory.mailbox(value)
            if box is None:
                raise self.error(("expect", kind), T.UNKNOWN_MAILBOX.format(value=value, what="delivered"))
            value = box.primary
        return Expectation(kind, value)
