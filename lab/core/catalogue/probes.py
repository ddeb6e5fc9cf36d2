"""The probes' own texts (``lab check``, ``lab diff``, ``lab rehearse``): no product says these.

Every SMTP reply, LastError and NDR a probe shows comes from the products' catalogues; these
are the words around them: outcome names, table headings, validation errors of ``probes:``.
"""
from __future__ import annotations

# -- outcomes ------------------------------------------------------------------------------------
DELIVERED = "delivered"
REJECTED = "rejected"
FAILED = "failed"  # no SMTP reply decided: the network or TLS did (NoRoute, Timeout, StartTlsNotOffered)
QUEUED = "queued"
BOUNCED = "bounced"
ACCEPTED = "accepted"  # accepted, and nothing in the lab holds it any more (it left the lab)
OUTCOMES = (DELIVERED, REJECTED, FAILED, QUEUED, BOUNCED)

DNS_FAILURE = "DNS {error} for {name}"  # the client could not find where to connect

# -- describing an outcome -------------------------------------------------------------------------
DESCRIBE = {
    DELIVERED: "delivered to {where}",
    REJECTED: "rejected: {detail}",
    FAILED: "failed: {detail}",
    QUEUED: "queued on {where}: {detail}",
    BOUNCED: "bounced by {where}: {detail}",
    ACCEPTED: "accepted, then left the lab ({detail})",
}
EXPECTED = {
    DELIVERED: "delivered to {value}",
    REJECTED: "rejected with {value}...",
    FAILED: "failed: {value}",
    QUEUED: "queued with LastError {value}...",
    BOUNCED: "bounced (NDR to the sender) with {value}...",
}

# -- lab check ----------------------------------------------------------------------------------------
CHECK_TITLE = "Probes of {topology} ({driver} driver)"
CHECK_COLUMNS = ("", "probe", "expected", "got")
CHECK_SUMMARY = "{passed} of {total} probes passed"
CHECK_NO_PROBES = "{file} has no probes (add a `probes:` list)"
PASS_MARK, FAIL_MARK = "PASS", "FAIL"
TRACE_HEADING = "why {name} {outcome}:"
FLOW_LINE = "{sender} -> {recipient} via {entry}"

# -- lab diff / rehearse ---------------------------------------------------------------------------
DIFF_TITLE = "Mail flows that change ({before} -> {after})"
WORKER_DIED = "matrix worker process {pid} ended without an answer (exit status {status})"
DIFF_COLUMNS = ("change", "flow", "before", "after")
DIFF_PROGRESS = "flow matrix of {name}"  # the progress bar on a terminal, one per world
DIFF_NONE = "No mail flow changes: {count} flows evaluated, every outcome is the same."
DIFF_SUMMARY = "{count} flows evaluated: {broke} broke, {fixed} started working, {changed} changed reply, " \
    "{added} new, {removed} gone."
BROKE, FIXED, CHANGED, ADDED, REMOVED = "broke", "fixed", "changed", "new", "gone"
REHEARSE_LINE_FAILED = "line {number} failed, the rehearsal stops here:\n  {line}\n{error}"
REHEARSE_WRITTEN = "the accepted script ({count} lines) is in {path}"
REHEARSE_APPLIED = "line {number} applied: {line}"

# -- validation of probes: -----------------------------------------------------------------------------
UNKNOWN_NODE = "{value!r} is not a node of this topology"
NOT_A_CLIENT_NODE = "{value!r} cannot send mail (a {kind} node)"
UNKNOWN_MAILBOX = "{value!r} is not a mailbox of this topology (needed for {what})"
UNKNOWN_CERTIFICATE = "{value!r} is not a certificate of pki.certificates"
NEED_SENDER_ADDRESS = "node {value!r} has no address to send from: give mail_from"
ONE_EXPECTATION = "give exactly one expected outcome"
DUPLICATE_PROBE = "duplicate probe name {value!r} (first on line {line})"
BAD_DURATION = "{value!r} is not a duration (04:00:00, 2.00:00:00, 45m, 4h, 2d)"
BAD_ADDRESS = "{value!r} is not a mail address"

# -- entry points of the flow matrix (flow ids: sender>recipient@entry) --------------------------------------
ENTRY_SERVER = "{node}:{port}"
ENTRY_TENANT_MX = "{tenant}:mx"
ENTRY_SUBMISSION = "{tenant}:submission"
ENTRY_DOMAIN_MX = "mx"
OUTSIDE_SENDER = "{node}@example.net"  # an Internet host's envelope sender (RFC 2606 domain: nobody's)
