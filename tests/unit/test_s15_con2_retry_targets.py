"""Retry-Queue -Identity finds its queues from the queue views (no record built for each): the same
identities, in the same order, as matching the Get-Queue records, for every form of identity."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from lab.console.cmdlets import exchange_queues as Q
from lab.console.registry import CmdletError
from lab.core.errors import LabRuntimeError
from lab.core.exchange.queue_records import QueueView, TransportSettings


class _Host:
    session = SimpleNamespace(server="EX01")

    def __init__(self, views, running=True):
        self.views, self.running, self.asked = views, running, []

    def clock_now(self):
        return dt.datetime(2026, 1, 2, 15, 4, 5)

    def transport_settings(self, node):
        self.asked.append("settings")
        if not self.running:
            raise LabRuntimeError("not running")
        return TransportSettings()

    def queues(self, node):
        self.asked.append("queues")
        return self.views


VIEWS = (
    QueueView("EX01\\3", "SmtpRelayToRemoteAdSite", "contoso.com", "To Internet", "Retry", 2, "451 4.4.0",
              retry_count=3, last_retry_time=10.0, next_retry_time=70.0, first_retry_time=5.0),
    QueueView("EX01\\4", "DnsConnectorDelivery", "Fabrikam.COM", "Outbound", "Ready", 0),
    QueueView("EX01\\Submission", "Undefined", "", "", "Ready", 0),
    QueueView("ex02\\7", "SmartHostConnectorDelivery", "3", "Relay", "Active", 1),
)
TEXTS = ("EX01\\3", "ex01\\contoso.com", "3", "4", "fabrikam.com", "Submission", "EX02\\7", "EX01\\7",
         "nothing", "", "\\", "ex01\\", "CONTOSO.COM")


@pytest.mark.parametrize("text", TEXTS)
def test_targets_match_the_records(text):
    host = _Host(VIEWS)
    expected = [r.identity for r in Q._queue_rows(host, "EX01", "RetryQueue") if Q._queue_matches(r, text)]
    assert Q._matching_queues(host, "EX01", "RetryQueue", text) == expected


def test_needs_running_lab_error_unchanged():
    def error(call):
        with pytest.raises(CmdletError) as raised:
            call(_Host(VIEWS, running=False))
        return raised.value.message, raised.value.error_id

    assert (error(lambda h: Q._matching_queues(h, "EX01", "RetryQueue", "3"))
            == error(lambda h: Q._queue_rows(h, "EX01", "RetryQueue")))
