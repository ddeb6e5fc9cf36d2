"""The flow matrix: every meaningful mail flow of a world, with a stable id, and its outcomes.

Senders: every mailbox, every device and every client node. Recipients: for every accepted
domain (on-prem organizations and tenants), one representative mailbox per place the domain's
mail lives (a hybrid domain has an on-prem one and a cloud one). Entry points, by sender:

- an on-prem mailbox: its server on 25 (anonymous) and 587 (STARTTLS + its credentials), from
  a client on the server's LAN, else from the server itself;
- a cloud mailbox: its tenant's submission endpoint (587, STARTTLS + its credentials), from
  ``settings.outside_host``;
- a device: the Exchange servers on its LAN on 25, and on every port of a receive connector
  whose RemoteIPRanges name the device (a relay connector), each tenant's MX endpoint (with its
  certificate over STARTTLS when it has one);
- a client: the Exchange servers on its LAN on 25, the recipient domain's MX, each tenant's MX
  endpoint.

Flow ids (``sender>recipient@entry``) name the sender, the recipient and the entry point
symbolically (``mail1:25``, ``ixmsoft:mx``, ``ixmsoft:submission``, ``mx``), so the same flow
has the same id in every variant of a world; what it dials is resolved in each world.
"""
from __future__ import annotations

import ipaddress
import multiprocessing
import os
import pickle
import signal
import struct
import threading
from typing import Any, Callable, Iterator, NoReturn

from lab.collector import spared
from lab.core.catalogue import probes as T
from lab.core.world import World
from lab.probes.directory import Directory, MailboxInfo
from lab.probes.model import Flow
from lab.probes.outcome import Outcome


def recipients(world: World, directory: Directory) -> list[tuple[str, MailboxInfo]]:
    """One representative (address, mailbox) per accepted domain and place its mail lives."""
    domains: list[str] = []
    for org in world.orgs.values():
        domains += [d.domain_name.lower() for d in org.organization.accepted_domains]
    for tenant in world.tenants.values():
        domains += [d.domain_name.lower() for d in tenant.accepted_domains]
    chosen: dict[tuple[str, str], tuple[str, MailboxInfo]] = {}
    for domain in dict.fromkeys(domains):
        if domain.startswith("*"):
            continue
        for box in directory.mailboxes:
            home = box.tenant or box.org or ""
            key = (domain, "cloud" if box.tenant else "on-prem")
            address = next((a for a in (box.primary, *box.addresses) if a.endswith("@" + domain)), None)
            if address and key not in chosen and home:
                chosen[key] = (address, box)
    return list(chosen.values())


def generate(world: World) -> tuple[Flow, ...]:
    """Every flow of the matrix, sorted by id."""
    directory = Directory(world)
    targets = recipients(world, directory)
    flows: dict[str, Flow] = {}
    for sender, mail_from, mailbox, entries in _senders(world, directory):
        for address, box in targets:
            if mailbox is not None and address in (mailbox.primary, *mailbox.addresses):
                continue
            for entry, source, server, port, tls, auth, cert in entries:
                if server == T.ENTRY_DOMAIN_MX:
                    server = _mx_host(world, address.split("@", 1)[1])
                flow = Flow(id=f"{sender}>{address}@{entry}", source=source, mail_from=mail_from, recipient=address,
                            server=server, port=port, tls=tls, auth=auth, certificate=cert, entry=entry,
                            mailbox=box.primary, sender_mailbox=mailbox.primary if mailbox else None)
                flows[flow.id] = flow
    return tuple(flows[k] for k in sorted(flows))


Entry = tuple[str, str, str, int, bool, Any, Any]  # (label, source node, dial, port, tls, auth, certificate)


def _senders(world: World, directory: Directory) -> Iterator[tuple[str, str, MailboxInfo | None, list[Entry]]]:
    outside = world.topology.settings.outside_host
    hosts = world.topology.hosts
    for box in directory.mailboxes:
        if box.server is not None and box.server in world.servers:
            source = next((n for n in _lan_clients(world, directory, box.server)), box.server)
            dial = directory.dial(source, box.server)
            label = lambda port: T.ENTRY_SERVER.format(node=box.server, port=port)  # noqa: E731
            creds = (box.primary, box.password)
            yield box.primary, box.primary, box, [(label(25), source, dial, 25, False, None, None),
                                                  (label(587), source, dial, 587, True, creds, None)]
        elif box.tenant is not None and outside:
            name = directory.submission(box.tenant)
            if name:
                entry = T.ENTRY_SUBMISSION.format(tenant=box.tenant)
                yield box.primary, box.primary, box, [(entry, outside, name, 587, True, (box.primary, box.password),
                                                       None)]
    for name, host in hosts.items():
        if host.kind not in ("device", "client"):
            continue
        mail_from = directory.node_address(name) or T.OUTSIDE_SENDER.format(node=name)
        entries: list[Entry] = []
        for server in directory.lan_servers(name):
            for port in _ports(world, directory, name, server):
                entries.append((T.ENTRY_SERVER.format(node=server, port=port), name, directory.dial(name, server),
                                port, False, None, None))
        if host.kind == "client":
            entries.append((T.ENTRY_DOMAIN_MX, name, T.ENTRY_DOMAIN_MX, 25, False, None, None))
        cert = host.certificates[0] if host.certificates else None
        for tenant in world.tenants:
            mx = directory.tenant_mx(tenant)
            if mx:
                entries.append((T.ENTRY_TENANT_MX.format(tenant=tenant), name, mx, 25, cert is not None, None, cert))
        if entries:
            yield name, mail_from, None, entries


def _lan_clients(world: World, directory: Directory, server: str) -> list[str]:
    return sorted(n for n, h in world.topology.hosts.items() if h.kind == "client" and server in directory.lan_servers(n))


def _ports(world: World, directory: Directory, device: str, server: str) -> list[int]:
    """25, and the ports of receive connectors whose RemoteIPRanges name the device (not everyone)."""
    ports = {25}
    addresses = [int(ipaddress.ip_address(a)) for a in world.network.addresses_of(device)]
    for connector in world.servers[server].receive_connectors:
        ranges = [r for r in connector.remote_ip_ranges if r.version == 4]
        if any(r.first == 0 and r.last == 2 ** 32 - 1 for r in ranges):
            continue
        if any(r.first <= a <= r.last for r in ranges for a in addresses):
            ports.update(b.port for b in connector.bindings)
    return sorted(ports)


def _mx_host(world: World, domain: str) -> str:
    """The most preferred MX host of ``domain`` in ``world`` (the domain itself when it has none)."""
    records = sorted(world.zones.records(domain, "MX"), key=lambda r: r.value[0])
    return str(records[0].value[1]).rstrip(".") if records else domain


#: Flows per block. Each block starts from a fresh driver (a new shared lab): what a flow meets
#: (queues in Retry, earlier probes' mail) comes only from the flows before it in its block, so
#: the outcomes do not depend on how many processes shared the blocks out.
BLOCK = 250


def evaluate(flows: tuple[Flow, ...], driver: Any, jobs: int | None = None,
             progress: Callable[[int], None] | None = None) -> dict[str, tuple[Flow, Outcome]]:
    """Run every flow on ``driver`` (in id order); flow id -> (flow, outcome).

    A driver with ``restart()`` (the memory driver) runs the flows in blocks of :data:`BLOCK`,
    each from a fresh start; with ``jobs`` > 1 (default: the CPUs this process may use) and more
    than one block, the blocks are shared out among this process and ``jobs - 1`` forked from it
    (they inherit the world and the flows; only outcomes travel back), where the platform forks
    and this process runs no other thread. The answer is the same whatever ``jobs`` is: a
    block is the same computation in a worker as here. Any other driver runs every flow in turn.

    ``progress``, when given, is told how many flows have been evaluated so far (by every
    worker) after each block this process runs, and finally ``len(flows)``.

    While the flows run, every object that exists when the evaluation starts (the world, the
    matrix of flows) is kept out of the cyclic garbage collector (:func:`lab.collector.spared`).
    """
    with spared():
        report = progress or (lambda done: None)
        if not hasattr(driver, "restart"):
            answer = {flow.id: (flow, driver.run(flow)) for flow in flows}
            report(len(flows))
            return answer
        blocks = [flows[i:i + BLOCK] for i in range(0, len(flows), BLOCK)]
        workers = min(jobs or available_cpus(), len(blocks))
        if workers > 1 and _can_fork():
            outcomes = _forked(blocks, driver, workers, report)
        else:
            outcomes, evaluated = [], 0
            for block in blocks:
                outcomes.append(_run_block(driver, block))
                evaluated += len(block)
                report(evaluated)
        report(len(flows))
        return {flow.id: (flow, outcome) for block, done in zip(blocks, outcomes) for flow, outcome in zip(block, done)}


def available_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    # forking a process that runs other threads can copy a lock held by one of them (and Python
    # 3.12+ warns about it): then the blocks run here, one after the other
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _run_block(driver: Any, block: tuple[Flow, ...]) -> list[Outcome]:
    driver.restart()
    return [driver.run(flow) for flow in block]


def _forked(blocks: list[tuple[Flow, ...]], driver: Any, workers: int,
            report: Callable[[int], None]) -> list[list[Outcome]]:
    """Worker 0 is this process, the others are forked children (they inherit the world, the
    flows and the driver) that send their outcomes back pickled through a pipe. A plain fork and
    a pipe, not a multiprocessing.Pool: the Pool's worker bookkeeping and handler threads cost
    30-60 ms per matrix here, a fork ~5 ms.

    Worker ``w`` runs block ``w`` first; the other blocks are handed out as workers come free
    (:class:`_Dispenser`), so a worker on a slower CPU (shared hosts, other load) takes fewer.
    Which worker runs a block changes nothing in its outcomes: each block starts afresh.

    ``report`` hears the flows finished by every worker after each block this process runs
    (:class:`_Tally`)."""
    children: list[tuple[int, int]] = []
    done: dict[int, list[Outcome]] = {}
    dispenser, tally = _Dispenser(workers, len(blocks)), _Tally()
    try:
        for worker in range(1, workers):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: never returns to the caller's code
                os.close(read)
                _child(write, blocks, driver, worker, dispenser, tally)
            os.close(write)
            children.append((pid, read))
        tally.listen()
        done.update(_share(blocks, driver, 0, dispenser, lambda size: report(tally.count(size))))
        dispenser.close()
        while children:
            pid, read = children.pop(0)
            with os.fdopen(read, "rb") as pipe:
                answer = pipe.read()
            status = os.waitpid(pid, 0)[1]
            if not answer:
                raise RuntimeError(T.WORKER_DIED.format(pid=pid, status=os.waitstatus_to_exitcode(status)))
            ok, value = pickle.loads(answer)
            if not ok:
                raise value
            done.update(value)
        return [done[i] for i in range(len(blocks))]
    finally:
        dispenser.close()
        tally.close()
        for pid, read in children:  # only when this process failed or was interrupted
            os.close(read)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


class _Tally:
    """How many flows the workers have finished, for the progress report: each child writes the
    size of every block it finishes to a pipe (never waiting: once this process stops reading,
    a full pipe drops the count), and this process reads what is there after each of its own."""

    _SIZE = struct.Struct("<I")

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        self.counted = 0

    def tell(self, size: int) -> None:
        """(In a child) a block of ``size`` flows is finished."""
        try:
            os.set_blocking(self._write, False)
            os.write(self._write, self._SIZE.pack(size))
        except BlockingIOError:
            pass

    def listen(self) -> None:
        """(In this process, once the children are forked) keep only the reading end, not blocking."""
        os.close(self._write)
        self._write = -1
        os.set_blocking(self._read, False)

    def count(self, size: int) -> int:
        """This process finished a block of ``size`` flows: every worker's finished flows so far."""
        try:
            theirs = os.read(self._read, 65536)
        except BlockingIOError:
            theirs = b""
        self.counted += size + sum(n for (n,) in self._SIZE.iter_unpack(theirs))
        return self.counted

    def close(self) -> None:
        for fd in (self._read, self._write):
            if fd != -1:
                os.close(fd)
        self._read = self._write = -1


class _Dispenser:
    """The numbers of the blocks after each worker's first (``workers`` .. ``count - 1``), each
    taken by one worker: a pipe filled before the fork, whose write end is then closed, so a read
    of 4 bytes takes one number (a pipe read is atomic under the pipe's lock) and an empty pipe
    reads as the end. Where the numbers do not fit the pipe's buffer (a matrix of millions of
    flows, or a system short of pipe memory), worker ``w`` takes the blocks ``w + k * workers``."""

    _NUMBER = struct.Struct("<I")

    def __init__(self, workers: int, count: int) -> None:
        self.workers, self.count = workers, count
        self._read: int | None = None
        data = b"".join(self._NUMBER.pack(n) for n in range(workers, count))
        read, write = os.pipe()
        try:
            os.set_blocking(write, False)
            if not data or os.write(write, data) == len(data):
                self._read, read = read, -1
        except BlockingIOError:
            pass
        finally:
            os.close(write)
            if read != -1:
                os.close(read)

    def blocks(self, worker: int) -> Iterator[int]:
        """The blocks worker ``worker`` runs: its first (block ``worker``), then what it takes."""
        if worker < self.count:
            yield worker
        if self._read is None:
            yield from range(worker + self.workers, self.count, self.workers)
            return
        while data := os.read(self._read, self._NUMBER.size):
            yield self._NUMBER.unpack(data)[0]

    def close(self) -> None:
        if self._read is not None:
            os.close(self._read)
            self._read = None


def _share(blocks: list[tuple[Flow, ...]], driver: Any, worker: int, dispenser: _Dispenser,
           finished: Callable[[int], None]) -> list[tuple[int, list[Outcome]]]:
    out = []
    for i in dispenser.blocks(worker):
        out.append((i, _run_block(driver, blocks[i])))
        finished(len(blocks[i]))
    return out


def _child(write: int, blocks: list[tuple[Flow, ...]], driver: Any, worker: int, dispenser: _Dispenser,
           tally: _Tally) -> NoReturn:
    code = 1
    try:
        try:
            answer = pickle.dumps((True, _share(blocks, driver, worker, dispenser, tally.tell)))
        except BaseException as error:  # noqa: BLE001 -- the parent raises it (Ctrl-C too)
            try:
                answer = pickle.dumps((False, error))
            except Exception:  # noqa: BLE001 -- an error that does not pickle
                answer = pickle.dumps((False, RuntimeError(f"{type(error).__name__}: {error}")))
        with os.fdopen(write, "wb") as pipe:
            pipe.write(answer)
        code = 0
    finally:
        os._exit(code)  # no atexit handlers, no flushing of buffers inherited from the parent
