"""Which model type validates each Exchange object of topology.yaml.

Exchange objects keep Exchange's property names in YAML; each model type's ``from_mapping``
checks names and values the way the matching ``New-*`` cmdlet would and raises ConfigError
with the YAML path, which the loader turns into file:line.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from lab.core.errors import ConfigError, Place

ORG_OBJECTS = {
    "accepted_domains": "AcceptedDomain",
    "mailboxes": "Mailbox",
    "remote_mailboxes": "RemoteMailbox",
    "send_connectors": "SendConnector",
}
TENANT_OBJECTS = {
    "accepted_domains": "AcceptedDomain",
    "mailboxes": "Mailbox",
    "mail_users": "MailUser",
    "inbound_connectors": "InboundConnector",
    "outbound_connectors": "OutboundConnector",
}


def _builders() -> dict[str, Callable[[Mapping[str, Any], str], Any]]:
    from lab.core.eop.model import InboundConnector, MailUser, OutboundConnector  # noqa: PLC0415
    from lab.core.exchange.model import AcceptedDomain, Mailbox  # noqa: PLC0415
    from lab.core.exchange.remote_mailbox import RemoteMailbox  # noqa: PLC0415
    from lab.core.exchange.send_connector import SendConnector  # noqa: PLC0415

    return {"SendConnector": SendConnector.from_mapping, "AcceptedDomain": AcceptedDomain.from_mapping,
            "Mailbox": Mailbox.from_mapping, "RemoteMailbox": RemoteMailbox.from_mapping,
            "MailUser": MailUser.from_mapping, "InboundConnector": InboundConnector.from_mapping,
            "OutboundConnector": OutboundConnector.from_mapping}


def build(kind: str, mapping: Mapping[str, Any], path: str) -> Any:
    """Validate one Exchange object and return its model object.

    Raises:
        ConfigError: with ``Place(path=...)``.
    """
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"a {kind} must be a mapping of Exchange properties", Place(path=path))
    return _builders()[kind](mapping, path)


