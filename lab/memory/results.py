"""What a probe sees: the result of one :meth:`lab.memory.lab.MemoryLab.send`."""
from __future__ import annotations

from dataclasses import dataclass
from lab.core.fastpath import frozen_init


@frozen_init
@dataclass(frozen=True)
class SendResult:
    """One client submission through to the server's last word.

    Attributes:
        transcript: the conversation, ``C: ...`` / ``S: ...`` lines (``*: ...`` for what the
            network or TLS did).
        accepted: the server took the message (a 2xx after the data).
        reply: the reply that decided the send: the final 250, or the first refusal (MAIL, the
            first refused RCPT when every recipient was refused, DATA), multi-line joined with
            ``\\n``; ``""`` when no reply decided (the connection failed).
        message_id: the Internet Message-ID of the accepted message ("" when not accepted).
        failure: ``""`` when ``reply`` tells the failure, else the network failure
            (``NoRoute``, ``Timeout``, ``Refused``, ``Closed``, ``NoSuchHost``), ``StartTlsNotOffered``
            or ``TlsFailed``.
        refused: ``(recipient, reply)`` of refused recipients (all of them when every one was refused).
        detail: what failed, in words (the TLS judgement), for ``TlsFailed``.
    """

    transcript: tuple[str, ...]
    accepted: bool
    reply: str
    message_id: str = ""
    failure: str = ""
    refused: tuple[tuple[str, str], ...] = ()
    detail: str = ""
