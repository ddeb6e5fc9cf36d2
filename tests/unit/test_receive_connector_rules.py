"""Receive-connector rules: the core raises catalogue texts with a machine code; the cmdlets map the code."""
from __future__ import annotations

from pathlib import Path

import pytest

from cmdlets_support import console
from lab.core.catalogue import cmdlets as M
from lab.core.errors import ConfigError, ConfigErrors, Place
from lab.core.exchange.connectors import (
    RULE_CUSTOM_NEEDS_BINDINGS, RULE_NOT_UNIQUE, apply_receive_connector_overrides, default_receive_connectors)
from lab.core.exchange.model import ExchangeServer

MAIL1 = ExchangeServer.from_mapping({"Name": "MAIL1", "Fqdn": "mail1.office26.com", "Version": 2016}, "servers[0]")
SOURCE = Path(__file__).resolve().parents[2] / "lab" / "console" / "cmdlets" / "exchange_connectors.py"


def test_config_error_code_is_optional_and_kept():
    assert ConfigError("x").code is None
    error = ConfigError("x", Place(path="p"), code="RULE")
    assert error.code == "RULE" and str(error) == "<input> (p): x"
    assert ConfigErrors([error]).code == "RULE"


def test_custom_without_bindings_is_the_catalogue_text_with_its_code():
    with pytest.raises(ConfigError) as caught:
        apply_receive_connector_overrides(default_receive_connectors(MAIL1), [{"Name": "X", "Usage": "Custom"}], "rc")
    assert caught.value.code == RULE_CUSTOM_NEEDS_BINDINGS
    assert caught.value.message == M.CUSTOM_NEEDS_BINDINGS.text


def test_same_binding_has_its_code():
    defaults = default_receive_connectors(MAIL1)
    with pytest.raises(ConfigError) as caught:
        apply_receive_connector_overrides(defaults, [{"Name": "Second", "Usage": "Internet",
                                                      "RemoteIPRanges": ["::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                                                                         "0.0.0.0-255.255.255.255"],
                                                      "Bindings": ["[::]:25", "0.0.0.0:25"]}], "rc")
    assert caught.value.code == RULE_NOT_UNIQUE


def test_console_maps_codes_not_texts():
    source = SOURCE.read_text(encoding="utf-8")
    assert "same binding" not in source and '"Bindings" not in override' not in source
    c = console()
    result = c.run('New-ReceiveConnector -Name X -Custom -RemoteIPRanges 192.168.0.3')
    assert result.errors[0].startswith(M.CUSTOM_NEEDS_BINDINGS.text)
    assert "ArgumentException" in result.errors[0]
