"""Pending certificate requests: the private keys a server keeps between
``New-ExchangeCertificate -GenerateRequest`` and ``Import-ExchangeCertificate`` (both console hosts use it)."""
from __future__ import annotations

import hashlib
from typing import Any, Sequence

from lab.console.host import PendingRequest
from lab.core.errors import ConfigError


class PendingRequests:
    """The keys of requests not completed yet, by ``<server>:<CSR thumbprint>``."""

    def __init__(self) -> None:
        self._keys: dict[str, Any] = {}

    def generate(self, server: str, subject: Sequence[tuple[str, str]], domains: Sequence[str]) -> PendingRequest:
        """A new key and its CSR (PEM); the key stays here until the certificate comes back."""
        from lab.adapters.pki import generate_request  # noqa: PLC0415 (cryptography only when asked)

        cn = next((v for k, v in subject if k.upper() == "CN"), None)
        extra = [(k, v) for k, v in subject if k.upper() != "CN"]
        csr, key = generate_request(cn or (domains[0] if domains else server), list(domains), subject_extra=extra)
        thumbprint = hashlib.sha1(csr).hexdigest().upper()
        ref = f"{server}:{thumbprint}"
        self._keys[ref] = key
        return PendingRequest(ref, csr.decode("ascii"), thumbprint)

    def complete(self, server: str, pem: bytes):
        """The pending request of ``server`` this certificate answers: ``(ref, IssuedCertificate)``.

        Raises:
            ValueError: no pending request of the server matches the certificate's key.
        """
        from lab.adapters.pki import import_certificate  # noqa: PLC0415

        for ref, key in self._keys.items():
            if not ref.startswith(server + ":"):
                continue
            try:
                return ref, import_certificate(pem, key)
            except ConfigError:
                continue
        raise ValueError("no pending request matches this certificate")
