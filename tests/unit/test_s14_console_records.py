"""The certificate record's Services letters and key size, held to the formulas they replace (a
generator over the letters with the names upper-cased each time; a generator over the characters)."""
from __future__ import annotations

import itertools

from lab.console import records as R


def old_letters(services, version=2016):
    chosen = {s.upper() for s in services}
    letters = "".join(letter if name.upper() in chosen else "." for name, letter in R._SERVICE_LETTERS)
    return letters[:5] if version == 2010 else letters


def old_key_size(algorithm):
    digits = "".join(ch for ch in algorithm.split()[-1] if ch.isdigit())
    return int(digits) if digits else 0


def test_service_letters_as_before():
    names = ["IMAP", "pop", "UM", "IIS", "smtp", "Federation", "UMCallRouter", "None", "x", "ımap"]
    for n in range(4):
        for combo in itertools.combinations(names, n):
            for version in (2010, 2013, 2016, 2019):
                assert R.service_letters(combo, version) == old_letters(combo, version), combo
                assert R.service_letters(iter(combo), version) == old_letters(combo, version), combo


def test_key_size_as_before():
    for text in ["RSA 2048", "ECDSA P-256", "rsa2048", "RSA", "RSA ２０４８", "RSA 4096x", "Ed25519", "RSA 0", "x 1٢3"]:
        assert R._key_size(text) == old_key_size(text), text
