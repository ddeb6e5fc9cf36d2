"""live_net._is_address refuses a text holding anything but ASCII digits and dots without asking
ipaddress (which refuses every such text): held to ipaddress.IPv4Address over texts of every kind."""
from __future__ import annotations

import ipaddress
import random

from lab.console.live_net import _is_address


def by_ipaddress(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text.strip("[]"))
    except ValueError:
        return False
    return True


def test_is_address_as_ipaddress_says():
    texts = ["192.168.0.1", "[192.168.0.1]", "mail.contoso.com", "", "[]", "1.2.3", "1.2.3.4.5", "256.1.1.1",
             "01.2.3.4", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "١.٢.٣.٤", "1.2.3.４", "::1", "1.2.3.4:25", "a1.2.3.4",
             "0.0.0.0", "255.255.255.255", "1..2.3", ".1.2.3", "1.2.3.", "[[1.2.3.4]]", "1.2.3.4]", "x"]
    rng = random.Random(14)
    alphabet = "0123456789.[] a:١４"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16))) for _ in range(20000)]
    texts += [".".join(str(rng.randint(0, 300)) for _ in range(rng.choice((3, 4, 4, 4, 5)))) for _ in range(5000)]
    for text in texts:
        assert _is_address(text) == by_ipaddress(text), repr(text)
    assert sum(map(_is_address, texts)) > 100  # (both answers met)
