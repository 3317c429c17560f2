"""Kraken v1 subscription messages and limits as data."""

from __future__ import annotations

import msgspec
import pytest

from platform_streams.exchanges.kraken import endpoints


def test_subscribe_messages() -> None:
    book = msgspec.json.decode(endpoints.subscribe_message(["XBT/USD"], "book", depth=1000))
    assert book == {"event": "subscribe", "pair": ["XBT/USD"], "subscription": {"name": "book", "depth": 1000}}
    ohlc = msgspec.json.decode(endpoints.subscribe_message(["XBT/USD"], "ohlc", interval=5, request_id=3))
    assert ohlc == {"event": "subscribe", "pair": ["XBT/USD"], "subscription": {"name": "ohlc", "interval": 5}, "reqid": 3}
    assert msgspec.json.decode(endpoints.unsubscribe_message(["XBT/USD"], "book", 10))["event"] == "unsubscribe"


@pytest.mark.parametrize(
    ("channel", "options", "reason"),
    [("book", {"depth": 20}, "depth"), ("ohlc", {"interval": 2}, "interval"), ("level3", {}, "channel")],
)
def test_bad_subscriptions_are_refused(channel: str, options: dict[str, int], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        endpoints.subscribe_message(["XBT/USD"], channel, **options)


def test_limits() -> None:
    assert endpoints.LIMITS.new_connections is not None
    assert (endpoints.LIMITS.new_connections.count, endpoints.LIMITS.new_connections.window_s) == (150, 600.0)
    assert endpoints.LIMITS.streams_per_connection is None
