"""Exchange Online / EOP as pure decisions (fidelity §1.3, §4, §5, §7).

- :mod:`lab.core.eop.model`       tenants, inbound/outbound connectors, mail users, the EOP node
- :mod:`lab.core.eop.attribution` which inbound connector a connection belongs to; relay rules
- :mod:`lab.core.eop.policy`      the front door (MX endpoint, smtp.office365.com): reply per command
- :mod:`lab.core.eop.routing`     where a message goes inside the tenant; outbound TLS verdicts
- :mod:`lab.core.eop.queue`       EOP's small outbound queue (24 h retry window, expiry NDR)
- :mod:`lab.core.eop.headers`     EOP/EXO Received and X-MS-Exchange-Organization-* headers
- :mod:`lab.core.eop.validation`  Validate-OutboundConnector, step by step
"""
