"""Binance URLs, subscription messages and limits as data."""

from __future__ import annotations

import msgspec
import pytest

from platform_streams.exchanges.binance import endpoints


def test_stream_names_and_combined_url() -> None:
    streams = [endpoints.trade_stream("BTCUSDT"), endpoints.depth_stream("BTCUSDT"), endpoints.book_ticker_stream("ETHUSDT")]
    assert streams == ["btcusdt@trade", "btcusdt@depth@100ms", "ethusdt@bookTicker"]
    assert (
        endpoints.combined_stream_url(streams)
        == "wss://stream.binance.com:9443/stream?streams=btcusdt@trade/btcusdt@depth@100ms/ethusdt@bookTicker"
    )
    assert endpoints.kline_stream("BTCUSDT", "5m") == "btcusdt@kline_5m"
    assert endpoints.agg_trade_stream("BTCUSDT") == "btcusdt@aggTrade"


def test_a_connection_carries_at_most_the_documented_stream_count() -> None:
    with pytest.raises(ValueError, match="1 to 1024"):
        endpoints.combined_stream_url([f"s{index}@trade" for index in range(1025)])


def test_subscribe_message() -> None:
    message = msgspec.json.decode(endpoints.subscribe_message(["btcusdt@trade"], 7))
    assert message == {"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 7}
    assert msgspec.json.decode(endpoints.unsubscribe_message(["btcusdt@trade"], 8))["method"] == "UNSUBSCRIBE"


def test_depth_snapshot_url_and_weight() -> None:
    assert endpoints.depth_snapshot_url("btcusdt") == "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000"
    assert [endpoints.depth_snapshot_weight(limit) for limit in (100, 500, 1000, 5000)] == [5, 25, 50, 250]
    with pytest.raises(ValueError, match="depth limit"):
        endpoints.depth_snapshot_url("BTCUSDT", 999)


def test_limits() -> None:
    limits = endpoints.LIMITS
    assert (limits.streams_per_connection, limits.connection_lifetime_s) == (1024, 86_400)
    assert limits.subscribe_messages is not None and (limits.subscribe_messages.count, limits.subscribe_messages.window_s) == (
        5,
        1.0,
    )
    assert limits.new_connections is not None and (limits.new_connections.count, limits.new_connections.window_s) == (300, 300.0)
