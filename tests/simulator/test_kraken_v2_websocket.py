"""The simulated Kraken WebSocket v2 (``/v2``): frames shaped like the real ones, books that the platform's
own v2 adapter rebuilds with every checksum verified at every depth, and Kraken's request handling.

Book, status, heartbeat and acknowledgement shapes are compared with the real v2 captures
(data/exchanges/kraken/*_crossbook_v2_*, jdardash/crossbook, MIT); trade and ticker (not
captured) with Kraken's documented examples.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import websockets

from platform_streams.books.sync import SyncStatus
from platform_streams.exchanges.kraken_v2.book_sync import KrakenV2BookSync
from platform_streams.exchanges.kraken_v2.parser import KrakenV2Parser
from platform_streams.schemas import BestBidOffer, BookDelta, BookSnapshot, Trade
from platform_streams.simulator import SimulatorThread
from tests.simulator.conftest import captured_frames
from tests.simulator.frame_shapes import assert_same_shape
from tests.simulator.stream_client import connect, receive_until

DOCUMENTED_TRADE = {"channel": "trade", "type": "update", "data": [{"symbol": "MATIC/USD", "side": "sell", "price": 0.5117, "qty": 40.0, "ord_type": "market", "trade_id": 4665906, "timestamp": "2023-09-25T07:49:37.708706Z"}]}  # fmt: skip
DOCUMENTED_TICKER = {"channel": "ticker", "type": "snapshot", "data": [{"symbol": "ALGO/USD", "bid": 0.10025, "bid_qty": 740.0, "ask": 0.10036, "ask_qty": 1361.44813783, "last": 0.10035, "volume": 997038.98383185, "vwap": 0.10148, "low": 0.09979, "high": 0.10285, "change": -0.00017, "change_pct": -0.17, "timestamp": "2023-09-25T09:04:31.742648Z"}]}  # fmt: skip
DOCUMENTED_REFUSAL = {"error": "Currency pair not supported XYZ/USD", "method": "subscribe", "success": False, "symbol": "XYZ/USD", "time_in": "2023-09-25T09:04:31.742599Z", "time_out": "2023-09-25T09:04:31.742648Z"}  # fmt: skip
TRADE_SNAPSHOT, TRADE_UPDATE = '{"channel":"trade","type":"snapshot"', '{"channel":"trade","type":"update"'
TICKER_UPDATE = '{"channel":"ticker","type":"update"'


def count(texts: list[str], prefix: str) -> int:
    return sum(text.startswith(prefix) for text in texts)


def v2_url(simulator: SimulatorThread) -> str:
    return simulator.urls["kraken"].websocket + "/v2"


def v2_symbols(simulator: SimulatorThread, wanted: int) -> list[str]:
    """Pairs whose prices have decimals (their numbers are JSON floats, as BTC/USD's are)."""

    def listed() -> list[str]:
        pairs = simulator.simulator.venues["kraken"].pairs
        return [name for name, pair in zip(pairs.v2_names, pairs.pairs, strict=True) if pair.pair_decimals > 0]

    return simulator.call(listed)[:wanted]


def kind_of(frame: dict[str, Any]) -> str:
    if "channel" in frame:
        return f"{frame['channel']}/{frame.get('type', '')}"
    return f"{frame['method']}/{'ok' if frame.get('success') else 'refused'}"


def captured_kinds() -> dict[str, Any]:
    kinds: dict[str, Any] = {}
    for name in ("2026-08-01_crossbook_v2_book10_BTC-USD_resubscribe.jsonl", "2026-08-02_crossbook_v2_book25_BTC-USD.jsonl"):
        for record, frame in captured_frames(name, "kraken"):
            if record["dir"] == "in":
                body = json.loads(frame)
                kinds.setdefault(kind_of(body), body)
    return kinds


def request(method: str, channel: str, symbols: list[str], **params: Any) -> str:
    return json.dumps({"method": method, "params": {"channel": channel, "symbol": symbols, **params}})


async def acknowledged(ws: websockets.ClientConnection, requests: list[str], replies: int) -> list[str]:
    for text in requests:
        await ws.send(text)
    return await receive_until(ws, lambda fs: sum('"method":' in f for f in fs) == replies)


def test_every_message_has_the_shape_of_kraken_v2(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["kraken"], clock="manual", kraken={"websocket": {"heartbeat_interval_s": 0.01}})
    symbol = v2_symbols(simulator, 1)

    async def run() -> dict[str, Any]:
        async with connect(v2_url(simulator)) as ws:
            frames = await acknowledged(
                ws,
                [
                    request("subscribe", "book", symbol, depth=10),
                    request("subscribe", "trade", symbol, snapshot=False),
                    request("subscribe", "ticker", symbol),
                    request("subscribe", "trade", ["XYZ/USD"]),
                ],
                4,
            )
            await asyncio.to_thread(simulator.step, 300)
            wanted = {"book/update", "trade/update", "ticker/update"}
            frames += await receive_until(ws, lambda fs: wanted <= {kind_of(json.loads(f)) for f in fs})
            frames += await acknowledged(ws, [request("unsubscribe", "book", symbol, depth=10)], 1)
        kinds: dict[str, Any] = {}
        for frame in map(json.loads, frames):
            kinds.setdefault(kind_of(frame), frame)
            if frame.get("method") == "subscribe" and frame.get("success"):
                kinds.setdefault(f"subscribe/{frame['result']['channel']}", frame)
        return kinds

    generated, real = asyncio.run(run()), captured_kinds()
    for kind in ("status/update", "subscribe/ok", "book/snapshot", "book/update", "unsubscribe/ok"):
        assert_same_shape(generated[kind], real[kind], kind)
    assert generated["subscribe/book"]["result"] == {"channel": "book", "depth": 10, "snapshot": True, "symbol": symbol[0]}
    assert_same_shape(generated["trade/update"], DOCUMENTED_TRADE, "trade")
    assert_same_shape(generated["ticker/snapshot"], DOCUMENTED_TICKER, "ticker")
    assert_same_shape(generated["subscribe/refused"], DOCUMENTED_REFUSAL, "refusal")
    assert generated["status/update"]["data"][0]["connection_id"] >= 0


def book_messages(texts: list[str]) -> list[str]:
    """The book snapshots and updates among ``texts`` (not the acknowledgements, which name the channel too)."""
    return [text for text in texts if text.startswith('{"channel":"book"')]


async def rest_of_books(ws: websockets.ClientConnection, have: int, sent: int) -> list[str]:
    """Frames until the connection has received all ``sent`` book messages (``have`` of them already)."""
    return await receive_until(ws, lambda fs: have + len(book_messages(fs)) >= sent)


def test_books_rebuild_with_every_checksum_verified_at_every_depth(simulator_factory: Callable[..., SimulatorThread]) -> None:
    """The platform's own v2 adapter is the client (one connection per depth: a connection holds one book of a
    symbol): the simulator's frames must satisfy Kraken's rule as the platform reads it."""
    simulator = simulator_factory(exchanges=["kraken"], clock="manual")
    symbols = v2_symbols(simulator, 3)
    depths = (10, 25, 1000)

    async def run() -> dict[int, list[str]]:
        async with connect(v2_url(simulator)) as ws10, connect(v2_url(simulator)) as ws25, connect(v2_url(simulator)) as ws1000:
            connections = dict(zip(depths, (ws10, ws25, ws1000), strict=True))
            frames = {
                d: await acknowledged(ws, [request("subscribe", "book", symbols, depth=d)], 3) for d, ws in connections.items()
            }
            async with connect(v2_url(simulator)) as again:  # another depth of the same books on one connection is refused
                replies = await acknowledged(
                    again,
                    [request("subscribe", "book", symbols[:1], depth=10), request("subscribe", "book", symbols[:1], depth=25)],
                    2,
                )
                assert ["Already subscribed" in r for r in replies if '"method"' in r] == [False, True]
            await asyncio.to_thread(simulator.step, 600)
            for depth, ws in connections.items():
                sent = int(simulator.ground_truth.events("krakenv2", f"book-{depth}").fanout.sum())
                frames[depth] += await rest_of_books(ws, len(book_messages(frames[depth])), sent - (depth == 10))  # less again's
            return frames

    books: dict[tuple[str, int], KrakenV2BookSync] = {}
    verified = 0
    for depth, texts in asyncio.run(run()).items():
        parser = KrakenV2Parser(None)  # names and scales from the frames' own text
        for text in texts:
            parsed = parser.parse_frame(text.encode(), 1)
            for subscription in parsed.subscriptions:
                sync = books[(subscription.symbol, depth)] = KrakenV2BookSync(subscription.symbol)
                sync.depth = subscription.depth
            for event in parsed.events:
                assert isinstance(event, BookSnapshot | BookDelta)
                result = books[(event.symbol, depth)].on_event(event, parsed.checksum)
                assert result.status is SyncStatus.APPLIED, result.reason
                verified += 1
    assert len(books) == 9 and all(sync.live for sync in books.values()) and verified > 100

    def market_books() -> dict[str, tuple[list[tuple[int, int]], list[tuple[int, int]]]]:
        venue = simulator.simulator.venues["kraken"]
        return {s: _market_levels(venue, venue.pairs.by_v2_name(s)) for s in symbols}

    for symbol, (bids, asks) in simulator.call(market_books).items():
        for depth in depths:
            book = books[(symbol, depth)].book
            assert book is not None and (book.top_bids(depth), book.top_asks(depth)) == (bids[:depth], asks[:depth])


def _market_levels(venue: Any, index: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The simulator's book at the pair's text scales: prices at ``pair_decimals``, volumes at 8 decimals."""
    book, spec, pair = venue.market.books[index], venue.market.instruments[index], venue.pairs.pairs[index]
    price_unit = 10 ** (8 - pair.pair_decimals)
    return tuple(  # type: ignore[return-value]
        [(p * spec.tick // price_unit, q * spec.lot) for p, q in side.levels()] for side in (book.bids, book.asks)
    )


def test_trades_tickers_and_requests(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["kraken"], clock="manual", kraken={"websocket": {"heartbeat_interval_s": 0.01}})
    symbol = v2_symbols(simulator, 1)

    async def next_reply(ws: websockets.ClientConnection) -> dict[str, Any]:
        while True:
            message = json.loads(await ws.recv())
            if "method" in message:
                return message

    async def run() -> list[str]:
        async with connect(v2_url(simulator)) as ws:
            await ws.send(json.dumps({"method": "ping", "req_id": 42}))
            pong = await next_reply(ws)
            assert (pong["method"], pong["req_id"]) == ("pong", 42)
            await ws.send("nonsense")
            assert (await next_reply(ws))["error"] == "Malformed request"
            await ws.send(request("subscribe", "book", symbol, depth=11))
            assert (await next_reply(ws))["error"] == "Invalid depth 11"
            await ws.send(json.dumps({"method": "subscribe", "params": {"channel": "spread", "symbol": symbol}, "req_id": 3}))
            refused = await next_reply(ws)
            assert (refused["success"], refused["req_id"], refused["error"]) == (False, 3, "Channel spread not supported")
            await ws.send(request("unsubscribe", "trade", symbol))
            assert (await next_reply(ws))["error"] == "Subscription Not Found"
            frames = await acknowledged(
                ws, [request("subscribe", "trade", symbol), request("subscribe", "ticker", symbol, event_trigger="bbo")], 2
            )
            await ws.send(request("subscribe", "trade", symbol))
            assert (await next_reply(ws))["error"] == "Already subscribed"
            await asyncio.to_thread(simulator.step, 400)
            frames += await receive_until(ws, lambda fs: count(fs, TICKER_UPDATE) >= 3 and count(fs, TRADE_UPDATE) >= 1)
            sent = int(simulator.ground_truth.events("krakenv2", "trade").fanout.sum())  # the market is still now
            return frames + await receive_until(ws, lambda fs: count(frames + fs, TRADE_UPDATE) >= sent)

    texts = asyncio.run(run())
    parser = KrakenV2Parser(None)
    snapshot = [t for text in texts if text.startswith(TRADE_SNAPSHOT) for t in parser.parse(text.encode(), 1)]
    updates = [t for text in texts if text.startswith(TRADE_UPDATE) for t in parser.parse(text.encode(), 1)]
    assert updates and all(isinstance(t, Trade) and t.symbol == symbol[0] for t in updates)
    assert len(snapshot) <= 50 and all(t.sequence < updates[0].sequence for t in snapshot)  # the recent trades, older
    # every trade sent after subscribing is in the ground truth under krakenv2, with its id, and arrived once
    truth = simulator.ground_truth.events("krakenv2", "trade")
    sent = [i for first, last in zip(truth.first_id, truth.event_id, strict=True) for i in range(int(first), int(last) + 1)]
    assert sorted(t.sequence for t in updates) == sorted(sent)
    tickers = [e for text in texts if text.startswith(TICKER_UPDATE) for e in parser.parse(text.encode(), 1)]
    assert len(tickers) >= 3 and all(isinstance(t, BestBidOffer) and t.bid_price < t.ask_price for t in tickers)
