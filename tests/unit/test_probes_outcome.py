"""Pure pieces of the probes: outcome comparison, masking, NDR diagnostics, expectation matching."""
from __future__ import annotations

from lab.probes.diff import classify
from lab.probes.evaluate import matches
from lab.probes.model import Expectation
from lab.probes.outcome import Outcome, ndr_diagnostic, normalise

DELIVERED = Outcome("delivered", "a@x.com", "a@x.com")


def test_message_ids_and_internal_ids_are_masked():
    reply = "250 2.6.0 <1a-2b@mail.contoso.com> [InternalId=5111011082241, Hostname=mail.contoso.com] Queued"
    assert normalise(reply) == "250 2.6.0 <ID> [InternalId=N, Hostname=mail.contoso.com] Queued"


def test_classify_each_kind_of_change():
    queued = Outcome("queued", "451 4.4.0 DNS query failed", "contoso-ex")
    assert classify(DELIVERED, DELIVERED) is None
    assert classify(DELIVERED, queued) == "broke"
    assert classify(queued, DELIVERED) == "fixed"
    assert classify(Outcome("rejected", "550 5.7.1 Unable to relay"), Outcome("rejected", "530 5.7.1 x")) == "changed"
    assert classify(None, DELIVERED) == "new" and classify(DELIVERED, None) == "gone"
    assert classify(Outcome("rejected", "250 <a@b>"), Outcome("rejected", "250 <c@d>")) is None


def test_ndr_diagnostic_is_unfolded():
    ndr = (b"Content-Type: message/delivery-status\r\n\r\nStatus: 5.4.317\r\n"
           b"Diagnostic-Code: smtp;550 5.4.317 Message expired, cannot connect to remote\r\n server(DNS query failed)\r\n")
    assert ndr_diagnostic(ndr) == "550 5.4.317 Message expired, cannot connect to remote server(DNS query failed)"
    assert ndr_diagnostic(b"Subject: hello\r\n\r\nno report") is None


def test_matches():
    assert matches(Expectation("delivered", "a@x.com"), DELIVERED)
    assert not matches(Expectation("delivered", "b@x.com"), DELIVERED)
    assert matches(Expectation("rejected", "550 5.7.54"), Outcome("rejected", "550 5.7.54 SMTP; Unable"))
    assert not matches(Expectation("rejected", "550 5.7.64"), Outcome("rejected", "550 5.7.54 SMTP; Unable"))
    assert not matches(Expectation("queued", "451"), Outcome("rejected", "451 4.4.0"))
    assert matches(Expectation("failed", "Timeout"), Outcome("failed", "Timeout"))
