"""A generated world for bench/matrix: the default topology grown to N domains and M mailboxes.

``document(domains=50, mailboxes=1000)`` returns the topology document (a dict, as
``topology.yaml`` reads; ``generate`` returns its YAML text, as bench/matrix.py expects) with
``domains`` extra accepted domains spread round-robin over the on-premises organizations, each
with its zone (an MX to the organization's own MX host, so mail for it lands where the
organization's existing mail lands), and ``mailboxes`` mailboxes spread
over those domains. Every name is deterministic (``d007.example``, ``u0123@d007.example``), so
two runs probe the same matrix. :func:`load` validates it with the lab's loader (file:line
errors point into the written file); :func:`probes` lists ``(source, server, port, mail_from,
rcpt)`` sends covering every generated domain from outside and from inside.

Run ``python bench/matrix_world.py [--domains N] [--mailboxes M] [--probes K]`` to measure how
many probes per second the in-memory driver evaluates on the generated world (and on the
default one) — a probe being one send run to its final disposition.
"""
from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TOPOLOGY = ROOT / "topology.yaml"
PASSWORD = "P@ssw0rd"


def _mx_of(doc: dict[str, Any], org: str) -> str | None:
    """The MX host of an organization's default accepted domain, from the document's zones."""
    default = next((d["DomainName"] for d in doc["organizations"][org]["accepted_domains"] if d.get("Default")),
                   doc["organizations"][org]["accepted_domains"][0]["DomainName"])
    zone = doc["dns"]["zones"].get(default, {})
    mx = [r for r in zone.get("records", []) if r.get("type") == "MX" and r.get("name") == "@"]
    return min(mx, key=lambda r: r.get("preference", 0))["value"] if mx else None


def document(domains: int = 50, mailboxes: int = 1000, base: Path = TOPOLOGY) -> dict[str, Any]:
    """The default topology with ``domains`` accepted domains and ``mailboxes`` mailboxes added."""
    doc = copy.deepcopy(yaml.safe_load(base.read_text(encoding="utf-8")))
    servers = {name: spec for name, spec in doc["topology"]["nodes"].items() if spec.get("kind") == "exchange"}
    orgs = [o for o in doc["organizations"] if _mx_of(doc, o) and any(s.get("org") == o for s in servers.values())]
    if not orgs:
        raise ValueError("the base topology has no on-premises organization with an MX")
    made: list[tuple[str, str, str]] = []  # (domain, org, server node)
    for i in range(domains):
        org = orgs[i % len(orgs)]
        domain = f"d{i:03d}.example"
        node = next(n for n, s in servers.items() if s.get("org") == org)
        doc["organizations"][org]["accepted_domains"].append({"DomainName": domain, "DomainType": "Authoritative"})
        doc["dns"]["zones"][domain] = {"records": [{"name": "@", "type": "MX", "preference": 10,
                                                    "value": _mx_of(doc, org)}]}
        made.append((domain, org, node))
    for j in range(mailboxes):
        domain, org, node = made[j % len(made)]
        doc["organizations"][org]["mailboxes"].append(
            {"Name": f"u{j:04d}", "PrimarySmtpAddress": f"u{j:04d}@{domain}", "Password": PASSWORD, "Server": node})
    doc.pop("probes", None)  # the default world's probes name the default mailboxes only
    return doc


def generate(domains: int = 50, mailboxes: int = 1000, base: Path = TOPOLOGY) -> str:
    """The topology text (YAML) of :func:`document` -- what bench/matrix.py writes and loads."""
    return yaml.safe_dump(document(domains, mailboxes, base), sort_keys=False, allow_unicode=True)


def write(doc: dict[str, Any], path: Path) -> Path:
    """Write a generated topology (YAML) and return its path."""
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    return path


def load(doc: dict[str, Any], directory: Path | None = None) -> Any:
    """The validated :class:`~lab.core.model.Topology` of a generated document."""
    from lab.topology.load import load_topology  # noqa: PLC0415
    directory = directory or Path(tempfile.mkdtemp(prefix="matrix-world-"))
    return load_topology(write(doc, directory / "topology.yaml"))


def probes(doc: dict[str, Any]) -> list[tuple[str, str, int, str, str]]:
    """``(source, server, port, mail_from, rcpt)``: every generated mailbox once, from outside the
    lab to its organization's published MX name (as the Internet sends it)."""
    outside = doc.get("settings", {}).get("outside_host", "internet-client")
    out = []
    for org, spec in doc["organizations"].items():
        mx = _mx_of(doc, org)
        for mbx in spec["mailboxes"]:
            if mbx["PrimarySmtpAddress"].split("@")[1].endswith(".example") and mx:
                out.append((outside, mx, 25, "probe@fabrikam.com", mbx["PrimarySmtpAddress"]))
    return out


def memory_lab(topology: Any) -> Any:
    """A :class:`lab.memory.MemoryLab` of ``topology`` (its PKI built once)."""
    from lab.adapters.pki_world import Pki  # noqa: PLC0415
    from lab.core.world import World  # noqa: PLC0415
    from lab.memory import MemoryLab, trust_from_pki  # noqa: PLC0415
    from lab.runtime import pki_specs  # noqa: PLC0415
    specs, stores = pki_specs(topology)
    trust = trust_from_pki(Pki.build(specs, stores, now=topology.settings.clock_start))
    return MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)


def rate(lab: Any, sends: list[tuple[str, str, int, str, str]], count: int) -> tuple[float, int]:
    """Probes per second over ``count`` sends cycling through ``sends``, and how many were accepted."""
    body = b"From: probe@fabrikam.com\r\nSubject: matrix\r\n\r\nmatrix\r\n"
    accepted = 0
    started = time.perf_counter()
    for i in range(count):
        source, server, port, sender, rcpt = sends[i % len(sends)]
        accepted += lab.send(source, server, port, sender, [rcpt], body, record=False).accepted
    return count / (time.perf_counter() - started), accepted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=50)
    parser.add_argument("--mailboxes", type=int, default=1000)
    parser.add_argument("--probes", type=int, default=5000)
    args = parser.parse_args()
    from lab.topology.load import load_topology  # noqa: PLC0415
    default = rate(memory_lab(load_topology(TOPOLOGY)), probes(document(0, 0)) or
                   [("internet-client", "mx.fabrikam.com", 25, "a@example.org", "partner@fabrikam.com")], args.probes)
    doc = document(args.domains, args.mailboxes)
    generated = rate(memory_lab(load(doc)), probes(doc), args.probes)
    print(f"default world:   {default[0]:8.0f} probes/s ({default[1]} accepted of {args.probes})")
    print(f"generated world: {generated[0]:8.0f} probes/s ({generated[1]} accepted of {args.probes}; "
          f"{args.domains} domains, {args.mailboxes} mailboxes)")


if __name__ == "__main__":
    main()
