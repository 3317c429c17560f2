"""The simulated Kraken WebSocket v1: every channel in Kraken's format, books whose checksums verify, events.

Shapes are compared with real v1 frames (data/exchanges/kraken/*_v1_*, cryptofeed:
"This product includes software developed by Bryant Moscon
(http://www.bryantmoscon.com/)"); ``ohlc`` and error replies were not captured and
are compared with Kraken's documented examples.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import websockets

from platform_streams.simulator import SimulatorThread
from tests.simulator.book_checksums import KrakenClientBook
from tests.simulator.conftest import captured_frames
from tests.simulator.frame_shapes import assert_same_shape
from tests.simulator.stream_client import connect, receive_until

DOCUMENTED_OHLC = [42, ["1542057314.748456", "1542057360.435743", "3586.70000", "3586.70000", "3586.60000", "3586.60000", "3586.68894", "0.03373000", 2], "ohlc-5", "XBT/USD"]  # fmt: skip
DOCUMENTED_ERROR = {
    "errorMessage": "Currency pair not in ISO 4217-A3 format foo",
    "event": "subscriptionStatus",
    "pair": "foo",
    "status": "error",
    "subscription": {"name": "ticker"},
}


def kind_of(frame: Any) -> str:
    """``book-10/as``, ``book-10/a+b``, ``trade``, ``event/heartbeat``... of one parsed frame."""
    if isinstance(frame, dict):
        return f"event/{frame['event']}"
    name = frame[-2]
    if not name.startswith("book"):
        return name.split("-")[0]
    keys = [key for part in frame[1:-2] for key in part if key != "c"]
    return "book/" + "+".join(keys)


def captured_kinds() -> dict[str, Any]:
    kinds: dict[str, Any] = {}
    for channel in ("book", "trade", "ticker"):
        for record, frame in captured_frames(f"2021-04-17_cryptofeed_v1_{channel}.ws.jsonl", "kraken"):
            if record["dir"] == "in":
                body = json.loads(frame)
                kinds.setdefault(
                    kind_of(body)
                    if not isinstance(body, dict) or body["event"] != "subscriptionStatus"
                    else f"status/{body['subscription']['name']}",
                    body,
                )
    return kinds


def kraken_pairs(simulator: SimulatorThread, count: int) -> list[str]:
    return simulator.call(lambda: simulator.simulator.venues["kraken"].pairs.wsnames[:count])


async def send_events(ws: websockets.ClientConnection, events: list[dict[str, Any]]) -> list[str]:
    """Send subscribe events and wait for every pair's subscriptionStatus; returns every frame received meanwhile."""
    for event in events:
        await ws.send(json.dumps(event))
    replies = sum(len(event["pair"]) for event in events)
    return await receive_until(ws, lambda fs: sum('"event":"subscriptionStatus"' in f for f in fs) == replies)


def subscribe_event(pairs: list[str], subscription: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"event": "subscribe", "pair": pairs, "subscription": subscription, **extra}


def test_every_channel_has_the_shape_of_kraken_frames(simulator_factory: Callable[..., SimulatorThread]) -> None:
    # heartbeats every 10 ms of simulated time, so the connection on a less busy pair hears some
    simulator = simulator_factory(exchanges=["kraken"], clock="manual", kraken={"websocket": {"heartbeat_interval_s": 0.01}})
    pair = kraken_pairs(simulator, 1)

    quiet = simulator.call(lambda: simulator.simulator.venues["kraken"].pairs.wsnames[-1:])

    async def run() -> dict[str, Any]:
        url = simulator.urls["kraken"].websocket + "/"
        async with connect(url) as ws, connect(url) as quiet_ws:
            subscriptions = [
                {"name": "book", "depth": 1000},
                {"name": "trade"},
                {"name": "ticker"},
                {"name": "ohlc", "interval": 5},
            ]
            frames = await send_events(
                ws, [subscribe_event(pair, s) for s in subscriptions] + [subscribe_event(["foo"], {"name": "ticker"})]
            )
            frames += await send_events(quiet_ws, [subscribe_event(quiet, {"name": "ticker"})])
            await asyncio.to_thread(simulator.step, 400)
            wanted = {"book/a", "book/b", "book/a+b", "trade", "ticker", "ohlc"}
            frames += await receive_until(ws, lambda fs: wanted <= {kind_of(json.loads(f)) for f in fs})
            frames += await receive_until(quiet_ws, lambda fs: '{"event":"heartbeat"}' in fs)
            kinds: dict[str, Any] = {}
            for frame in map(json.loads, frames):
                if isinstance(frame, dict) and frame["event"] == "subscriptionStatus":
                    kinds.setdefault(
                        "status/error" if frame["status"] == "error" else f"status/{frame['subscription']['name']}", frame
                    )
                else:
                    kinds.setdefault(kind_of(frame), frame)
            return kinds

    generated, real = asyncio.run(run()), captured_kinds()
    for kind in (
        "event/systemStatus",
        "event/heartbeat",
        "status/book",
        "status/trade",
        "status/ticker",
        "trade",
        "ticker",
        "book/as+bs",
        "book/a",
        "book/b",
        "book/a+b",
    ):
        assert_same_shape(generated[kind], real[kind], kind)
    assert_same_shape(generated["ohlc"], DOCUMENTED_OHLC, "ohlc")
    assert_same_shape(generated["status/error"], DOCUMENTED_ERROR, "error")
    assert generated["event/systemStatus"]["connectionID"] >= 0


def test_book_checksums_verify_and_books_rebuild_at_every_depth(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["kraken"], clock="manual")
    pairs = kraken_pairs(simulator, 3)
    depths = (10, 25, 1000)

    async def run() -> tuple[dict[tuple[str, int], KrakenClientBook], int]:
        books = {(pair, depth): KrakenClientBook(depth) for pair in pairs for depth in depths}
        async with connect(simulator.urls["kraken"].websocket + "/") as ws:
            frames = await send_events(ws, [subscribe_event(pairs, {"name": "book", "depth": depth}) for depth in depths])
            await asyncio.to_thread(simulator.step, 600)
            expected = sum(int(simulator.ground_truth.events("kraken", f"book-{d}").fanout.sum()) for d in depths)
            received = sum(f.startswith("[") for f in frames)
            frames += await receive_until(ws, lambda fs: received + sum(f.startswith("[") for f in fs) == expected)
        republished = 0
        for frame in (json.loads(f) for f in frames if f.startswith("[")):
            books[(frame[-1], int(frame[-2].split("-")[1]))].apply(frame)
            republished += sum(
                len(level) == 4 for part in frame[1:-2] for side in part.values() if isinstance(side, list) for level in side
            )
        return books, republished

    books, republished = asyncio.run(run())
    assert all(book.checksums_verified > 50 for book in books.values())
    assert republished > 0  # levels re-entering a depth-10 window were flagged "r"

    def top_levels() -> dict[str, tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]]:
        venue = simulator.simulator.venues["kraken"]
        result = {}
        for pair in pairs:
            index = venue.pairs.by_wsname(pair)
            book, spec = venue.market.books[index], venue.market.instruments[index]
            result[pair] = tuple(
                [(Decimal(p * spec.tick).scaleb(-8), Decimal(q * spec.lot).scaleb(-8)) for p, q in side.levels()]
                for side in (book.bids, book.asks)
            )
        return result

    for pair, (bids, asks) in simulator.call(top_levels).items():
        for depth in depths:
            client = books[(pair, depth)].book
            assert [(Decimal(p), Decimal(v)) for p, v in client.best_bids()] == bids[:depth]
            assert [(Decimal(p), Decimal(v)) for p, v in client.best_asks()] == asks[:depth]


def test_prices_carry_the_pairs_decimals_from_asset_pairs(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["kraken"], clock="manual")
    pairs = kraken_pairs(simulator, 5)
    asset_pairs = json.loads(urllib.request.urlopen(simulator.urls["kraken"].rest + "/0/public/AssetPairs", timeout=10).read())
    decimals = {entry["wsname"]: entry["pair_decimals"] for entry in asset_pairs["result"].values()}

    async def run() -> list[Any]:
        async with connect(simulator.urls["kraken"].websocket + "/") as ws:
            frames = await send_events(ws, [subscribe_event(pairs, {"name": "book", "depth": 10})])
            frames += await receive_until(ws, lambda fs: sum(f.startswith("[") for f in frames + fs) == len(pairs))
            return [json.loads(f) for f in frames if f.startswith("[")]

    for snapshot in asyncio.run(run()):
        for price, volume, _ in snapshot[1]["as"] + snapshot[1]["bs"]:
            assert len(price.partition(".")[2]) == decimals[snapshot[-1]]
            assert len(volume.partition(".")[2]) == 8


def test_ping_unsubscribe_errors_and_heartbeats(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["kraken"], clock="manual", kraken={"websocket": {"heartbeat_interval_s": 0.01}})
    pair = kraken_pairs(simulator, 1)[0]

    async def next_event(ws: websockets.ClientConnection) -> dict[str, Any]:
        while True:
            message = json.loads(await ws.recv())
            if isinstance(message, dict) and message["event"] != "heartbeat":
                return message

    async def run() -> None:
        async with connect(simulator.urls["kraken"].websocket + "/") as ws:
            assert (await next_event(ws))["event"] == "systemStatus"
            await ws.send(json.dumps({"event": "ping", "reqid": 42}))
            assert await next_event(ws) == {"event": "pong", "reqid": 42}
            await ws.send("nonsense")
            assert await next_event(ws) == {"errorMessage": "Malformed request", "event": "error"}
            await ws.send(json.dumps(subscribe_event([pair], {"name": "book", "depth": 11}, reqid=1)))
            assert (await next_event(ws))["errorMessage"] == "Subscription depth not supported"
            await ws.send(json.dumps(subscribe_event(["XBT/NOPE"], {"name": "trade"})))
            assert (await next_event(ws))["errorMessage"] == "Currency pair not supported XBT/NOPE"
            await ws.send(json.dumps(subscribe_event([pair], {"name": "trade"}, reqid=7)))
            status = await next_event(ws)
            assert status["status"] == "subscribed" and status["reqid"] == 7 and status["channelName"] == "trade"
            await ws.send(json.dumps({"event": "unsubscribe", "channelID": status["channelID"]}))
            assert (await next_event(ws))["status"] == "unsubscribed"
            await ws.send(json.dumps(subscribe_event([pair], {"name": "ohlc", "interval": 60})))
            assert (await next_event(ws))["channelName"] == "ohlc-60"
            await ws.send(json.dumps({"event": "unsubscribe", "pair": [pair], "subscription": {"name": "ohlc", "interval": 60}}))
            assert (await next_event(ws))["status"] == "unsubscribed"
            # subscribed to a less busy pair only: the connection hears heartbeats when it has no ticker
            quiet = simulator.call(lambda: simulator.simulator.venues["kraken"].pairs.wsnames[-1])
            await send_events(ws, [subscribe_event([quiet], {"name": "ticker"})])
            await asyncio.to_thread(simulator.step, 300)
            frames = await receive_until(ws, lambda fs: fs.count('{"event":"heartbeat"}') >= 2)
            assert all(not f.startswith("[") or '"ticker"' in f for f in frames)

    asyncio.run(run())


def test_every_listed_pair_can_be_subscribed_including_one_letter_assets(
    simulator_factory: Callable[..., SimulatorThread],
) -> None:
    simulator = simulator_factory(exchanges=["kraken"], instruments=1000, seed=7, clock="manual")
    listed = kraken_pairs(simulator, 1000)
    one_letter = [pair for pair in listed if min(len(side) for side in pair.split("/")) == 1]
    assert one_letter, "seed 7 lists W/USD; pick a seed that lists a one-letter asset"

    async def run() -> list[dict[str, Any]]:
        async with connect(simulator.urls["kraken"].websocket + "/") as ws:
            frames = await send_events(ws, [subscribe_event([*one_letter, listed[0]], {"name": "trade"})])
            return [f for f in map(json.loads, frames) if isinstance(f, dict) and f["event"] == "subscriptionStatus"]

    statuses = asyncio.run(run())
    assert {(s["pair"], s["status"]) for s in statuses} == {(pair, "subscribed") for pair in [*one_letter, listed[0]]}
