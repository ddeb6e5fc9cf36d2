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
