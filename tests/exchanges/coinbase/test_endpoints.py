"""Coinbase subscription messages and limits as data."""

from __future__ import annotations

import msgspec
import pytest

from platform_streams.exchanges.coinbase import endpoints


def test_subscribe_message() -> None:
    message = msgspec.json.decode(endpoints.subscribe_message(["BTC-USD"], ["level2", "matches"]))
    assert message == {"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["level2", "matches"]}
    with pytest.raises(ValueError, match="full"):
        endpoints.subscribe_message(["BTC-USD"], ["full"])


def test_limits() -> None:
    assert endpoints.LIMITS.subscribe_messages is not None and endpoints.LIMITS.subscribe_messages.count == 8
    assert endpoints.WS_URL == "wss://ws-feed.exchange.coinbase.com"
