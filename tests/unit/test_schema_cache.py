"""The schema check is remembered per exact text (and schema) in a cache directory; every other check still runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from lab.core.errors import ConfigError
from lab.topology import load as load_module
from lab.topology.load import load_topology

ROOT = Path(__file__).resolve().parents[2]


def test_the_same_text_skips_only_the_schema_check(tmp_path, monkeypatch):
    text = (ROOT / "topology.yaml").read_text(encoding="utf-8")
    calls = []
    real = load_module.validate_structure
    monkeypatch.setattr(load_module, "validate_structure", lambda src: (calls.append(src.file), real(src)))
    load_topology("topology.yaml", text, cache_dir=tmp_path)
    load_topology("topology.yaml", text, cache_dir=tmp_path)
    assert len(calls) == 1
    load_topology("topology.yaml", text + "\n# edited\n", cache_dir=tmp_path)
    assert len(calls) == 2  # another text is checked again


def test_a_cached_text_still_gets_the_semantic_checks(tmp_path):
    text = (ROOT / "topology.yaml").read_text(encoding="utf-8")
    broken = text.replace("value: mail.contoso.com}", "value: mail2.contoso.com}")
    for _ in range(2):  # the MX check runs every time
        with pytest.raises(ConfigError, match="MX points nowhere"):
            load_topology("topology.yaml", broken, cache_dir=tmp_path)
