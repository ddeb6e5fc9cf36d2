"""One place for each truth: a product text is in one catalogue module, and code uses the entry."""
from __future__ import annotations

from pathlib import Path

from lab.core.catalogue import Reply, entries
from lab.core.catalogue import exchange, exchange_queue

REPO = Path(__file__).resolve().parents[2]


def _text(entry) -> str:
    return entry.line() if isinstance(entry, Reply) else entry.text


def test_exchange_and_exchange_queue_share_no_text_and_no_name():
    ours = entries(exchange)
    queue = entries(exchange_queue)
    queue_texts = {_text(e): e for e in queue.values()}
    # a text may be in both modules only as the same entry (a re-export), never as a second copy
    assert not [name for name, e in ours.items() if _text(e) in queue_texts and queue_texts[_text(e)] is not e]
    assert not [name for name in ours if name.startswith("Q_")]


def test_tls_negotiation_text_comes_from_the_catalogue():
    for path in ("lab/adapters/smtp_client.py", "lab/memory/client.py"):
        source = (REPO / path).read_text(encoding="utf-8")
        assert "TLS negotiation failed" not in source, path
        assert "TLS_NEGOTIATION_FAILED" in source, path
    assert exchange_queue.TLS_NEGOTIATION_FAILED.format(error="x") == "TLS negotiation failed with error x"


def test_queue_and_dsn_status_texts_come_from_the_catalogue():
    queue = (REPO / "lab/core/exchange/queue.py").read_text(encoding="utf-8")
    dsn = (REPO / "lab/core/exchange/dsn.py").read_text(encoding="utf-8")
    assert '"250 2.0.0 OK"' not in queue and '"5.0.0"' not in dsn and '"4.0.0"' not in dsn
    assert str(exchange_queue.S250_2_0_0_OK) == "250 2.0.0 OK"
    assert (exchange_queue.DSN_STATUS_FAILED, exchange_queue.DSN_STATUS_DELAYED) == ("5.0.0", "4.0.0")


def test_what_if_texts_and_the_connector_dn_come_from_the_catalogue():
    import re

    from cmdlets_support import console
    from lab.core.catalogue import cmdlets as M
    inline = re.compile(r"should_process\(\s*f?['\"]")
    for path in sorted((REPO / "lab/console/cmdlets").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert not inline.search(source), path.name
        assert "CN=SMTP Receive Connectors" not in source, path.name
    c = console("ex01")
    out = c.run('Set-SendConnector "Outbound to Office365" -Port 25 -WhatIf').output_text
    assert M.WHATIF_SET_OBJECT.format(kind=M.KIND_SEND_CONNECTOR, name="Outbound to Office365") in out
