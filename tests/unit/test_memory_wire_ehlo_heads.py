"""Wire.command reads ``line[:5] in _EHLO_HEADS`` for ``line[:5].upper() == "EHLO "``: the same test."""
from __future__ import annotations

import itertools
import sys

from lab.memory.wire import _EHLO_HEADS


def test_every_case_variant_and_nothing_else():
    variants = {"".join(p) + " " for p in itertools.product("eE", "hH", "lL", "oO")}
    assert _EHLO_HEADS == variants
    assert all(v.upper() == "EHLO " for v in variants)


def test_no_other_character_upper_cases_into_ehlo():
    # s.upper() == "EHLO " needs every character's upper case to be made of E, H, L, O and space:
    # only the ASCII letters themselves are (so no other text, of any length, upper-cases to it)
    wanted = set("EHLO ")
    found = [c for c in map(chr, range(sys.maxunicode + 1)) if set(c.upper()) <= wanted]
    assert sorted(found) == sorted("EHLOehlo ")


def test_membership_is_the_upper_case_test():
    lines = ["EHLO a", "ehlo b", "eHlO c", "EHLO", "EHLOx", "HELO a", "EHL0 a", "EHLO\ta", "ehlo", "", "E",
             "EHLO  ", "ẖELO a", "EﬂO a", "MAIL FROM:<a@b>", "ＥＨＬＯ a"]
    for line in lines:
        assert (line[:5] in _EHLO_HEADS) == (line[:5].upper() == "EHLO "), line
