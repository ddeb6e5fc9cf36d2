"""Mailbox.has_address and MailUser.has_address compare the lowered addresses in turn: the same answers as
the membership in the set of them (stop 16's code) for random addresses in any case."""
from __future__ import annotations

import random

from lab.core.eop.model import MailUser
from lab.core.exchange.model import Mailbox

_ADDRESSES = ["ann@contoso.com", "Ann@Contoso.com", "ann.lee@contoso.com", "bob@fabrikam.com", "ANN@CONTOSO.COM",
              "\u0130nci@contoso.com", "i\u0307nci@contoso.com", "stra\u00dfe@contoso.com", "STRASSE@contoso.com", ""]


def test_has_address_is_membership_of_the_lowered_addresses() -> None:
    rnd = random.Random(17)
    found = 0
    for _ in range(2000):
        addresses = tuple(rnd.sample(_ADDRESSES, rnd.randint(0, 3)))
        asked = rnd.choice(_ADDRESSES)
        want = asked.lower() in {a.lower() for a in addresses}
        mailbox = Mailbox("Ann", "ann@contoso.com", addresses)
        user = MailUser("Ann", "ann@contoso.com", "ann@fabrikam.com", addresses)
        assert (mailbox.has_address(asked), user.has_address(asked)) == (want, want)
        found += want
    assert 200 < found < 1800
