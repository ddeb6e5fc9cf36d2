"""Headers EOP/EXO stamps on a message it accepts (fidelity §7).

``Received: from <helo> (<client ip>) by <FE host> (<EOP ip>) with Microsoft SMTP Server
(version=TLS1_2, cipher=...) id 15.20.x via Frontend Transport; <date>`` and the
``X-MS-Exchange-Organization-AuthAs`` / ``AuthSource`` pair: ``Internal`` when the message came
in through an OnPremises connector or authenticated submission, ``Anonymous`` otherwise
(B-ADVROUTE). Organization headers a sender brought are removed first (header firewall).
"""
from __future__ import annotations

from datetime import datetime, timezone

from lab.core.catalogue import eop as cat
from lab.core.exchange.headers import (TlsFacts, organization_headers, received_header, strip_organization_headers,
                                       to_cross_premises)

EXO_VERSION = 2019  # the Received format of 2016+ (version=..., cipher=...)
#: EOP's front end hands mail to Exchange Online over TLS 1.2 (fidelity §7.1 real headers).
INTERNAL_TLS = TlsFacts("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384")


def stamp(content: bytes, *, helo: str, client_ip: str, frontend_host: str, server_ip: str,
          tls: TlsFacts | None, auth_as_internal: bool, auth_source: str, now: datetime) -> bytes:
    """The message as EOP passes it on: Received + AuthAs/AuthSource prepended, old org headers removed.

    Args:
        content: the message as received.
        helo: the client's EHLO name.
        client_ip: the client's (virtual) address.
        frontend_host: the front end's name (banner name).
        server_ip: the EOP endpoint's (virtual) address.
        tls: the TLS facts of the session, or None.
        auth_as_internal: True for OnPremises-attributed or authenticated mail.
        auth_source: the front end's internal name.
        now: arrival time.

    Returns:
        The new message bytes.
    """
    received = received_header(helo=helo or client_ip, client_ip=client_ip, fqdn=frontend_host, server_ip=server_ip,
                               build=cat.EXO_BUILD.text, version=EXO_VERSION, tls=tls, frontend=True,
                               now=now.astimezone(timezone.utc))
    org = organization_headers(authenticated=auth_as_internal, auth_source=auth_source)
    return received.encode("utf-8") + org.encode("utf-8") + strip_organization_headers(content)


def for_next_hop(content: bytes, *, cloud_services_mail: bool) -> bytes:
    """The message as EOP sends it out of the tenant.

    Through an outbound connector with CloudServicesMailEnabled (hybrid) the organization
    headers travel as ``X-MS-Exchange-CrossPremises-*`` (on-prem promotes them back with
    AcceptCloudServicesMail); anywhere else they are removed (fidelity §7.2).
    """
    return to_cross_premises(content) if cloud_services_mail else strip_organization_headers(content)


def mailbox_hop(content: bytes, *, eop_host: str, exo_host: str, now: datetime) -> bytes:
    """The hop from EOP's front end into Exchange Online, prepended when a tenant mailbox takes the
    message: ``Received: from <FT>.eop-<region>.prod.protection.outlook.com (<ipv6>) by
    <X>.outlook.office365.com (<ipv6>) with Microsoft SMTP Server (version=TLS1_2, ...) id 15.20.x
    via Frontend Transport; <date>`` (fidelity §7.1)."""
    received = received_header(helo=eop_host, client_ip=cat.EOP_FT_INTERNAL_IP.text, fqdn=exo_host,
                               server_ip=cat.EXO_FE_INTERNAL_IP.text, build=cat.EXO_BUILD.text, version=EXO_VERSION,
                               tls=INTERNAL_TLS, frontend=True, now=now.astimezone(timezone.utc))
    return received.encode("utf-8") + content
