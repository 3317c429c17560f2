"""Kraken v2 requests as Kraken documents them, and the feed's subscriptions within them."""

from __future__ import annotations

import msgspec
import pytest

from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.kraken_v2 import endpoints
from platform_streams.exchanges.kraken_v2.feed import KrakenV2Feed


def test_requests_have_kraken_v2_shape() -> None:
    book = msgspec.json.decode(endpoints.subscribe_message("book", ["BTC/USD", "ETH/USD"], depth=25, request_id=7))
    assert book == {
        "method": "subscribe",
        "params": {"channel": "book", "symbol": ["BTC/USD", "ETH/USD"], "depth": 25, "snapshot": True},
        "req_id": 7,
    }
    ticker = msgspec.json.decode(endpoints.subscribe_message("ticker", ["BTC/USD"], event_trigger="bbo"))
    assert ticker["params"] == {"channel": "ticker", "symbol": ["BTC/USD"], "event_trigger": "bbo", "snapshot": True}
    assert msgspec.json.decode(endpoints.unsubscribe_message("book", ["BTC/USD"], depth=10)) == {
        "method": "unsubscribe",
        "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 10},
    }
    with pytest.raises(ValueError, match="depth must be one of"):
        endpoints.subscribe_message("book", ["BTC/USD"], depth=20)
    with pytest.raises(ValueError, match="channel must be one of"):
        endpoints.subscribe_message("spread", ["BTC/USD"])
    with pytest.raises(ValueError, match="1 to 500 symbols"):
        endpoints.subscribe_message("trade", [f"A{i}/USD" for i in range(501)])


def test_feed_subscribes_each_channel_and_resubscribes_books_at_their_depth(krakenv2_instruments: InstrumentRegistry) -> None:
    feed = KrakenV2Feed("http://127.0.0.1:1", "ws://127.0.0.1:1", book_depth=25)
    assert (feed.ws_base_url + feed.connection_path(), feed.instruments_path()) == ("ws://127.0.0.1:1/v2", "/0/public/AssetPairs")
    instruments = [krakenv2_instruments.by_symbol(s) for s in ("BTC/USD", "ETH/USD")]
    messages = [msgspec.json.decode(m) for m in feed.subscribe_messages(instruments, ["trade", "book", "ticker"], 1)]
    assert [(m["params"]["channel"], m["req_id"]) for m in messages] == [("trade", 1), ("book", 2), ("ticker", 3)]
    assert messages[0]["params"] == {"channel": "trade", "symbol": ["BTC/USD", "ETH/USD"], "snapshot": False}
    assert messages[1]["params"]["depth"] == 25 and messages[2]["params"]["event_trigger"] == "bbo"
    resubscribe = [msgspec.json.decode(m) for m in feed.book_resubscribe_messages(instruments, 9)]
    assert [m["method"] for m in resubscribe] == ["unsubscribe", "subscribe"]
    assert all(m["params"]["depth"] == 25 for m in resubscribe)
    assert msgspec.json.decode(feed.keepalive_message() or b"") == {"method": "ping"}
    with pytest.raises(ValueError, match="krakenv2 book depth"):
        KrakenV2Feed(book_depth=50)
