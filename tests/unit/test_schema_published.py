"""docs/topology.schema.json is the published copy of lab.topology.schema; topology.yaml obeys it."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from lab.topology.schema import SCHEMA, schema_json

REPO = Path(__file__).resolve().parents[2]
PUBLISHED = REPO / "docs" / "topology.schema.json"
WORLDS = [REPO / "topology.yaml", *sorted((REPO / "tests" / "topologies" / "valid").glob("*.yaml"))]


def test_published_schema_is_current():
    assert PUBLISHED.read_text(encoding="utf-8") == schema_json(), (
        "docs/topology.schema.json is stale: regenerate it with `lab schema > docs/topology.schema.json`")


def test_published_schema_is_a_valid_draft_2020_12_schema():
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    assert published == SCHEMA
    jsonschema.Draft202012Validator.check_schema(published)


@pytest.mark.parametrize("path", WORLDS, ids=lambda p: p.stem)
def test_worlds_validate_against_published_schema(path: Path):
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(published).iter_errors(data))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_schema_rejects_a_bad_node_kind():
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    data = yaml.safe_load((REPO / "topology.yaml").read_text(encoding="utf-8"))
    data["topology"]["nodes"]["public-dns"]["kind"] = "nameserver"
    assert not jsonschema.Draft202012Validator(published).is_valid(data)
