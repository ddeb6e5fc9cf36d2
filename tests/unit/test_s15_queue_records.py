"""QueueView.to_mapping leaves a None time None without calling settings.at: the mapping must be
the one with settings.at applied to every time (at() leaves None None), for None and set times."""
from __future__ import annotations

import itertools

from lab.core.exchange.queue_records import QueueView, TransportSettings


def test_to_mapping_times_are_settings_at_of_each():
    settings = TransportSettings()
    for last, following, first in itertools.product((None, 0.0, 300.5), repeat=3):
        view = QueueView("EX01\\3", "SmtpRelayToRemoteAdSite", "fabrikam.com", "g", "Retry", 2, "451 x", 3,
                         last, following, first)
        mapping = view.to_mapping(settings)
        assert mapping["LastRetryTime"] == settings.at(last)
        assert mapping["NextRetryTime"] == settings.at(following)
        assert mapping["FirstRetryTime"] == settings.at(first)
        assert (mapping["LastRetryTime"] is None) == (last is None)
        assert list(mapping) == ["Identity", "DeliveryType", "NextHopDomain", "TlsDomain", "NextHopConnector",
                                 "Status", "MessageCount", "LastError", "RetryCount", "LastRetryTime",
                                 "NextRetryTime", "FirstRetryTime", "DeferredMessageCount", "LockedMessageCount",
                                 "RiskLevel", "OutboundIPPool", "NextHopCategory", "Velocity", "QueueIdentity"]
