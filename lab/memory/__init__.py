"""The in-memory driver: the lab's pure core run with no sockets, no asyncio and simulated time.

Like httpcore's ``MockBackend`` or trio's FakeNet, it swaps the I/O under the core and keeps
every decision where it is: the same :class:`~lab.core.exchange.session.ReceiveSession` answers,
the same :class:`~lab.core.exchange.queue.Transport` queues and retries, the same EOP policy
attributes and routes. What the live driver does with sockets, TLS and DNS packets is done
here with function calls on frozen data:

- :mod:`lab.memory.trust`: certificate trust computed once from the PKI (no cryptography at send time);
- :mod:`lab.memory.wire`: one in-memory connection to a server-side session (line by line);
- :mod:`lab.memory.rules`: the outbound client's pure rules (TLS plan, peer check, refusals -> outcome);
- :mod:`lab.memory.client`: Exchange's outbound conversation (what ``SmtpClient`` does on a socket);
- :mod:`lab.memory.eop`: EOP's service (front door sessions, tenant routing, its queue, outbound);
- :mod:`lab.memory.lab`: :class:`MemoryLab`, the whole world on a virtual clock.
"""
from lab.memory.lab import MemoryLab
from lab.memory.results import SendResult
from lab.memory.trust import Trust, trust_from_pki

__all__ = ["MemoryLab", "SendResult", "Trust", "trust_from_pki"]
