"""The driver contract of the scenario runner: what a scenario asks of a lab.

A scenario (``scenarios/*.yaml``) runs against a :class:`ScenarioDriver`. Two drivers run the
same core: :class:`lab.scenario.live_driver.LiveDriver` (the loopback lab, real sockets, real
TLS) and ``lab.scenario.memory_driver.MemoryDriver`` (the in-memory lab, no sockets). A
scenario must give the same outcome under both.

Conventions every driver keeps:

- **Shells.** ``run(script, shell=node)`` runs PowerShell lines in the Exchange Management
  Shell of the Exchange server ``node`` (topology node name, e.g. ``ex01``, ``contoso-ex``).
  Each shell is one console session kept for the whole run (its variables, its
  ``Connect-ExchangeOnline`` tenant and its ``Set-LabHost`` source host survive between
  calls). A script may hold several lines; it runs like a pasted block
  (:func:`lab.console.cmdlets.telnet.run_script`: ``telnet`` consumes the following lines as
  what the user types). A line that fails changes nothing (the console rolls the world back).
- **Hosts.** ``source`` in :class:`SendSpec` and :meth:`ScenarioDriver.smtp` is a topology
  node name; ``None`` means "from outside the lab" (``settings.outside_host``).
- **Time.** Lab time moves only through :meth:`ScenarioDriver.advance` (and ``Set-LabClock``
  in a shell). Every call returns after the work it caused has settled at the current lab time
  (deliveries done, queues updated), so an expectation read right after sees the result.
- **Mail.** :meth:`ScenarioDriver.mailbox` returns the raw RFC 5322 bytes of every message
  delivered to a mailbox (on-prem Maildir or an Exchange Online mailbox), oldest first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

from lab.core.exchange.queue_records import MessageView, QueueView, TrackingEvent
from lab.core.fastpath import frozen_init
from lab.core.model import Topology
from lab.core.world import World


@frozen_init
@dataclass(frozen=True)
class ConsoleResult:
    """What a shell printed for a script.

    Attributes:
        output: everything printed (errors included, as the console shows them).
        errors: the error records' texts (empty when every line succeeded).
        changed: some line changed the world.
    """

    output: str
    errors: tuple[str, ...] = ()
    changed: bool = False


def block_result(output_text: str, objects: list, errors: list[str], changed: bool) -> ConsoleResult:
    """A script block's result, made by the console from the values a
    :class:`~lab.console.evaluator.RunResult` would hold (its ``result`` builder, called as ``RunResult``
    is: no RunResult built to be copied): its output ends with a line end unless it is empty."""
    return ConsoleResult(output_text if output_text.endswith("\n") or not output_text else output_text + "\n",
                         tuple(errors), changed)


def script_result(blocks: Sequence[ConsoleResult]) -> ConsoleResult:
    """One result for a script's blocks (:func:`lab.console.cmdlets.telnet.run_script`; most scripts are one block)."""
    if len(blocks) == 1:
        return blocks[0]
    return ConsoleResult("".join(b.output for b in blocks), tuple(e for b in blocks for e in b.errors),
                         any(b.changed for b in blocks))


@dataclass(frozen=True)
class SendSpec:
    """One message submitted as an SMTP client would (Send-MailMessage, swaks, a device).

    Attributes:
        mail_from: the envelope sender (also the From header).
        to: the recipients (RCPT TO, and the To header).
        server: where to connect: a virtual IP or a name resolved through the lab DNS from
            ``source`` (an A record; MX is not used, as a client does not).
        port: the virtual port (25, 587...).
        source: the lab host the client runs on; None: outside the lab.
        tls: issue STARTTLS after EHLO.
        verify: judge the server certificate as a Windows client does (trusted root, current,
            the name dialled) and give up when it fails; False accepts any certificate, as a
            test tool (swaks) or a user who clicked through does.
        auth: (user, password) for AUTH LOGIN, or None.
        client_certificate: the PKI certificate name the client presents during TLS.
        subject, body: the message.
        helo: the EHLO name (default: the source host's FQDN, else its node name).
    """

    mail_from: str
    to: tuple[str, ...]
    server: str
    port: int = 25
    source: str | None = None
    tls: bool = False
    verify: bool = True
    auth: tuple[str, str] | None = None
    client_certificate: str | None = None
    subject: str = ""
    body: str = ""
    helo: str | None = None


@frozen_init
@dataclass(frozen=True)
class SendOutcome:
    """What the client saw.

    Attributes:
        accepted: the server answered 2xx after the data.
        reply: the reply that decided the send: the final ``250 ...``, or the first refusal
            (``550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain``), multi-line
            joined with ``\\n``; ``""`` when the connection itself failed.
        transcript: the conversation, ``C: ...`` / ``S: ...`` lines and ``*: ...`` for what the
            network or TLS did (``*: connection failed: Refused``).
        message_id: the Message-ID header of the submitted message (``<...>``), when accepted.
        failure: ``""`` when ``reply`` tells the failure, else the network/TLS failure in words.
        refused: ``(recipient, reply)`` for recipients refused while others were accepted.
    """

    accepted: bool
    reply: str
    transcript: tuple[str, ...] = ()
    message_id: str = ""
    failure: str = ""
    refused: tuple[tuple[str, str], ...] = ()


@frozen_init
@dataclass(frozen=True)
class EopItem:
    """One message waiting in EOP's queue (one next hop)."""

    mail_from: str
    recipients: tuple[str, ...]
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class DriverInfo:
    """A description of a started lab, for reports."""

    name: str
    state_dir: Path | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class ScenarioDriver(Protocol):
    """A lab the scenario runner can break, observe and fix."""

    name: str  # "live" | "memory"

    def start(self, topology: Topology, state_dir: Path | None) -> DriverInfo:
        """Start a lab of ``topology`` (its own loopback block and ``state_dir`` for live)."""

    def stop(self) -> None:
        """Stop the lab (idempotent)."""

    @property
    def world(self) -> World:
        """The configuration in force."""

    def run(self, script: str, shell: str) -> ConsoleResult:
        """Run PowerShell lines in the Exchange Management Shell of Exchange server ``shell``."""

    def send(self, spec: SendSpec) -> SendOutcome:
        """Submit one message as a client; returns after the lab settled."""

    def smtp(self, source: str | None, server: str, port: int, lines: Sequence[str]) -> tuple[str, ...]:
        """A raw telnet-style dialogue from ``source`` to ``server:port`` (``server`` an IP or
        a name resolved as telnet does); each client line is sent as typed, one reply read
        after each (none inside DATA until ``.``). Returns ``C: ``/``S: `` transcript lines
        (``*: ...`` when the connection failed or was lost)."""

    def advance(self, seconds: float) -> None:
        """Move lab time forward, firing due retries, delay DSNs and expiries; settle."""

    def mailbox(self, address: str) -> list[bytes]:
        """The raw messages delivered to ``address``, oldest first."""

    def queues(self, server: str, nonempty: bool = False) -> Sequence[QueueView]:
        """Get-Queue of the Exchange server ``server`` (node name); ``nonempty``: only the queues that
        hold a message (no Submission, no idle queue), in the same order."""

    def messages(self, server: str) -> Sequence[MessageView]:
        """Get-Message of the Exchange server ``server``."""

    def eop_queue(self) -> Sequence[EopItem]:
        """Every message waiting in EOP (all EOP nodes)."""

    def trace(self, message_id: str | None = None) -> Sequence[TrackingEvent]:
        """Message tracking events of every on-prem server (of ``message_id`` when given), in order."""
