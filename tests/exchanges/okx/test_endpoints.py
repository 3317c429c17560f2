"""OKX URLs, subscription messages and limits as data."""

from __future__ import annotations

import msgspec
import pytest

from platform_streams.exchanges.okx import endpoints


def test_subscribe_message() -> None:
    message = msgspec.json.decode(endpoints.subscribe_message("books", ["BTC-USDT", "ETH-USDT"]))
    assert message == {
        "op": "subscribe",
        "args": [{"channel": "books", "instId": "BTC-USDT"}, {"channel": "books", "instId": "ETH-USDT"}],
    }
    assert msgspec.json.decode(endpoints.unsubscribe_message("books", ["BTC-USDT"]))["op"] == "unsubscribe"


def test_subscribe_message_size_limit() -> None:
    with pytest.raises(ValueError, match="exceeds OKX's 65536"):
        endpoints.subscribe_message("books", [f"INSTRUMENT{index:05d}-USDT" for index in range(2000)])


def test_urls() -> None:
    assert endpoints.ws_url_for("books") == "wss://ws.okx.com:8443/ws/v5/public"
    assert endpoints.ws_url_for("candle1m") == "wss://ws.okx.com:8443/ws/v5/business"
    assert (
        endpoints.instruments_url("OPTION", "BTC-USD")
        == "https://www.okx.com/api/v5/public/instruments?instType=OPTION&uly=BTC-USD"
    )
    with pytest.raises(ValueError, match="underlying"):
        endpoints.instruments_url("OPTION")


def test_limits() -> None:
    limits = endpoints.LIMITS
    assert limits.subscribe_messages is not None and (limits.subscribe_messages.count, limits.subscribe_messages.window_s) == (
        480,
        3600.0,
    )
    assert limits.new_connections is not None and limits.new_connections.count == 3
