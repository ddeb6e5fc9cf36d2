"""Send connector input: scalars, wrong types and bad values give a ConfigError naming the place."""
from __future__ import annotations

import pytest

from cmdlets_support import console
from lab.core.catalogue import lab as L
from lab.core.errors import ConfigError
from lab.core.exchange import send_connector
from lab.core.exchange.send_connector import AddressSpace, SendConnector


@pytest.mark.parametrize("value", [3.5, 7, [3.5], "3.5"])
def test_numeric_address_spaces_are_refused_with_the_place(value):
    with pytest.raises(ConfigError) as caught:
        SendConnector.from_mapping({"Name": "x", "AddressSpaces": value}, "topology.send_connectors[0]")
    assert caught.value.place.path == "topology.send_connectors[0].AddressSpaces"
    assert "'3.5'" in caught.value.message or "'7'" in caught.value.message


def test_a_scalar_address_space_string_is_one_entry():
    conn = SendConnector.from_mapping({"Name": "x", "AddressSpaces": "SMTP:contoso.com;2"})
    assert conn.address_spaces == (AddressSpace("contoso.com", 2),)


def test_scalar_smart_hosts_and_port_range():
    conn = SendConnector.from_mapping({"Name": "x", "AddressSpaces": "*", "DNSRoutingEnabled": False,
                                       "SmartHosts": "Relay.Example.", "Port": "587"})
    assert conn.smart_hosts == ("relay.example",) and conn.port == 587
    for bad in (0, 70000, "abc", True):
        with pytest.raises(ConfigError) as caught:
            SendConnector.from_mapping({"Name": "x", "AddressSpaces": "*", "Port": bad})
        assert caught.value.place.path.endswith(".Port")


def test_the_private_parser_copies_are_gone():
    for name in ("_bool", "_list", "_choice", "_int", "_size"):
        assert not hasattr(send_connector, name)


def test_address_space_type_error_ends_with_a_full_stop():
    with pytest.raises(ConfigError) as caught:
        AddressSpace.parse("X400:c=us;a=;p=contoso")
    assert caught.value.message == L.SEND_CONNECTOR_ADDRESS_SPACE_TYPE.format(kind="X400")
    assert caught.value.message.endswith(".") and caught.value.allowed == ("SMTP",)


def test_set_send_connector_with_a_number_is_a_cmdlet_error_not_a_crash():
    c = console("ex01")
    before = c.host.world
    result = c.run('Set-SendConnector "Outbound to Office365" -AddressSpaces 3.5')
    assert result.errors and c.host.world is before
    assert "The address space '3.5' is invalid" in result.errors[0]
    assert "Traceback" not in result.output_text and "TypeError" not in result.output_text
    typed = c.run('Set-SendConnector "Outbound to Office365" -AddressSpaces X400:foo').errors[0]
    assert "is not supported by the lab. Valid values are: SMTP." in typed
