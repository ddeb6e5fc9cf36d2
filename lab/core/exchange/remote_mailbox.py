"""On-premises remote mailboxes (New-RemoteMailbox / Enable-RemoteMailbox): a recipient of the
on-premises organization whose mailbox lives in Exchange Online.

On-premises routing sends mail for a remote mailbox to its ``RemoteRoutingAddress``
(``user@tenant.mail.onmicrosoft.com``), which the hybrid send connector carries to EOP.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

from lab.core.exchange.model import build, parse_address, parse_addresses, parse_text, ps, to_mapping


@dataclass(frozen=True)
class RemoteMailbox:
    """A remote mailbox (Get-RemoteMailbox).

    Attributes:
        name: the display/object name.
        primary_smtp_address: the on-premises primary address (``user02@ixmsoft.com``).
        remote_routing_address: where on-premises routes its mail (``user02@ixmsoft.mail.onmicrosoft.com``).
        email_addresses: every proxy address, the primary first.
    """

    name: str = ps("Name", parse_text)
    primary_smtp_address: str = ps("PrimarySmtpAddress", parse_address)
    remote_routing_address: str = ps("RemoteRoutingAddress", parse_address)
    email_addresses: tuple[str, ...] = ps("EmailAddresses", parse_addresses, default=())

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], path: str) -> "RemoteMailbox":
        """Builds from Exchange property names; EmailAddresses always starts with the primary address.

        Raises:
            ConfigError: unknown property (listing the allowed names), bad address, missing
                PrimarySmtpAddress/RemoteRoutingAddress/Name.
        """
        obj = build(cls, mapping, path)
        return replace(obj, email_addresses=tuple(dict.fromkeys((obj.primary_smtp_address, *obj.email_addresses))))

    def to_mapping(self) -> dict[str, Any]:
        """The Exchange property mapping (EmailAddresses in ``SMTP:``/``smtp:`` form)."""
        out = to_mapping(self)
        out["RemoteRoutingAddress"] = "SMTP:" + self.remote_routing_address
        out["EmailAddresses"] = [("SMTP:" if a == self.primary_smtp_address else "smtp:") + a
                                 for a in self.email_addresses]
        return out

    def has_address(self, address: str) -> bool:
        """True when ``address`` is one of this recipient's on-premises addresses."""
        return address.lower() in {a.lower() for a in self.email_addresses}
