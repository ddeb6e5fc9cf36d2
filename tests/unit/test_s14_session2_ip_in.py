"""eop.model.ip_in (texts parsed once) against its ipaddress form."""
from __future__ import annotations

import ipaddress

import pytest

from lab.core.eop.model import ip_in


def _reference(ip, ranges):
    if not ip:
        return False
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(r, strict=False) for r in ranges)


ADDRESSES = [None, "", "198.51.100.40", "198.51.100.41", "203.0.113.50", "10.1.2.3", "10.255.255.255",
             "11.0.0.0", "0.0.0.0", "255.255.255.255", "2001:db8::1", "2001:db9::", "fe80::1%eth0",
             "::ffff:198.51.100.40", "not-an-ip", "198.51.100", "1.2.3.4.5"]
RANGES = [(), ("198.51.100.40",), ("198.51.100.40/32",), ("198.51.100.0/24",), ("198.51.100.41/24",),
          ("10.0.0.0/8", "203.0.113.50"), ("0.0.0.0/0",), ("2001:db8::/32",), ("::/0", "10.0.0.0/8"),
          ("fe80::/10",), ("::/0",), ("203.0.113.0/25", "198.51.100.40/31")]


@pytest.mark.parametrize("ranges", RANGES)
@pytest.mark.parametrize("ip", ADDRESSES)
def test_ip_in_matches_ipaddress(ip, ranges):
    assert ip_in(ip, ranges) is _reference(ip, ranges)
    assert ip_in(ip, ranges) is _reference(ip, ranges)  # the remembered texts give the same answer


def test_a_bad_range_raises_as_ip_network_does_and_only_when_reached():
    with pytest.raises(ValueError):
        _reference("10.0.0.1", ("bogus",))
    for _ in range(2):  # not remembered: raised again
        with pytest.raises(ValueError):
            ip_in("10.0.0.1", ("bogus",))
        with pytest.raises(ValueError):
            ip_in("10.0.0.1", ("192.168.0.0/16", "10.0.0.0/33"))
    assert ip_in("10.0.0.1", ("10.0.0.0/8", "bogus")) is True  # stops at the first match
    assert ip_in("bad", ("bogus",)) is False  # an address that does not parse reads no range
