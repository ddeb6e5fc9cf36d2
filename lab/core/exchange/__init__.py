"""On-premises Exchange, pure: the organisation model, receive connectors, receive decisions
and the SMTP server session machine. See the submodules; the receive side's public names are
re-exported here."""
from __future__ import annotations

from lab.core.exchange.connectors import (
    PERMISSION_GROUP_RIGHTS, ExtendedRight, ReceiveConnector, apply_receive_connector_overrides,
    default_receive_connectors,
)
from lab.core.exchange.headers import TlsFacts, exchange_date, received_header
from lab.core.exchange.model import AcceptedDomain, Binding, ExchangeServer, IPRange, Mailbox, Organization
from lab.core.exchange.policy import ExchangePolicy
from lab.core.exchange.receive import (
    Decision, Principal, banner_line, data_verdict, ehlo_lines, mail_from_verdict, rcpt_verdict,
    select_receive_connector, session_rights,
)
from lab.core.exchange.session import (
    AcceptedMessage, MessageSink, Output, Policy, ReceiveSession, SessionContext, SubmitResult,
)

__all__ = [
    "AcceptedDomain", "AcceptedMessage", "Binding", "Decision", "ExchangePolicy", "ExchangeServer", "ExtendedRight",
    "IPRange", "Mailbox", "MessageSink", "Organization", "Output", "PERMISSION_GROUP_RIGHTS", "Policy", "Principal",
    "ReceiveConnector", "ReceiveSession", "SessionContext", "SubmitResult", "TlsFacts",
    "apply_receive_connector_overrides", "banner_line", "data_verdict", "default_receive_connectors",
    "ehlo_lines", "exchange_date", "mail_from_verdict", "rcpt_verdict", "received_header",
    "select_receive_connector", "session_rights",
]
