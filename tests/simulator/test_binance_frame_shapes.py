"""Frames and bodies the simulated Binance emits have the shape of the real ones, field for field.

For each channel a generated frame is compared with a frame Binance really sent
(``data/exchanges/binance``): same keys, in the same order, with the same JSON
types, recursively. Attribution of the captures: cryptofeed ("This product includes
software developed by Bryant Moscon (http://www.bryantmoscon.com/)") and
hftbacktest (MIT, nkaz001); see the captures' INDEX.md and LICENSES.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Callable
from typing import Any

from platform_streams.simulator import SimulatorThread
from tests.simulator.conftest import captured_frames
from tests.simulator.frame_shapes import assert_same_shape
from tests.simulator.stream_client import connect, receive_until, streams_seen

CHANNELS = ("trade", "aggTrade", "bookTicker", "depth@100ms", "kline_1m")


def first_captured(file_name: str, accept: Callable[[dict[str, Any], dict[str, Any]], bool]) -> Any:
    for record, frame in captured_frames(file_name):
        body = json.loads(frame)
        if accept(record, body):
            return body
    raise AssertionError(f"no matching frame in {file_name}")


def captured_stream_frame(channel: str) -> dict[str, Any]:
    file_name = (
        "2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz" if channel == "trade" else "2021-10-12_cryptofeed_spot_4sym.ws.jsonl"
    )

    def accept(record: dict[str, Any], body: Any) -> bool:
        if record.get("dir") != "in" or not isinstance(body, dict) or not str(body.get("stream", "")).endswith("@" + channel):
            return False
        data = body["data"]
        return channel != "depth@100ms" or bool(data["b"] and data["a"])

    return first_captured(file_name, accept)


def generated_stream_frames(simulator: SimulatorThread) -> dict[str, dict[str, Any]]:
    """One combined-stream frame of each channel of the busiest instrument, from a manual-clock simulator."""
    symbol = simulator.call(lambda: simulator.simulator.venues["binance"].symbols.names[0]).lower()
    url = simulator.urls["binance"].websocket + "/stream?streams=" + "/".join(f"{symbol}@{c}" for c in CHANNELS)

    async def collect() -> list[str]:
        async with connect(url) as connection:
            await asyncio.to_thread(simulator.step, 210)  # a kline goes out every 2 s of simulated time
            return await receive_until(connection, lambda frames: len(streams_seen(frames)) == len(CHANNELS))

    frames = asyncio.run(collect())
    by_channel: dict[str, dict[str, Any]] = {}
    for frame in frames:
        body = json.loads(frame)
        by_channel.setdefault(body["stream"].split("@", 1)[1], body)
    return by_channel


def test_every_stream_channel_has_the_real_shape(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(clock="manual")
    generated = generated_stream_frames(simulator)
    assert set(generated) == set(CHANNELS)
    for channel in CHANNELS:
        assert_same_shape(generated[channel], captured_stream_frame(channel), f"{channel}")


def test_raw_stream_payload_is_the_combined_data(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(clock="manual")
    symbol = simulator.call(lambda: simulator.simulator.venues["binance"].symbols.names[0]).lower()

    async def collect() -> list[str]:
        async with connect(simulator.urls["binance"].websocket + f"/ws/{symbol}@trade") as connection:
            await asyncio.to_thread(simulator.step, 100)
            return await receive_until(connection, lambda frames: len(frames) >= 1)

    data = json.loads(asyncio.run(collect())[0])
    assert_same_shape(data, captured_stream_frame("trade")["data"])


def test_depth_snapshot_and_exchange_info_have_the_real_shape(live_simulator: SimulatorThread) -> None:
    rest = live_simulator.urls["binance"].rest
    symbol = live_simulator.call(lambda: live_simulator.simulator.venues["binance"].symbols.names[0])
    snapshot = json.loads(urllib.request.urlopen(f"{rest}/api/v3/depth?symbol={symbol}&limit=1000", timeout=10).read())
    real_snapshot = first_captured("2021-10-12_cryptofeed_spot_4sym.rest.jsonl", lambda record, body: "lastUpdateId" in body)
    assert_same_shape(snapshot, real_snapshot)
    assert len(snapshot["bids"]) >= 50 and len(snapshot["asks"]) >= 50

    info = json.loads(urllib.request.urlopen(f"{rest}/api/v3/exchangeInfo", timeout=10).read())
    real_info = first_captured("2021-10-12_cryptofeed_exchangeInfo.rest.jsonl", lambda record, body: "symbols" in body)
    assert list(info) == list(real_info)
    assert_same_shape(info["rateLimits"], real_info["rateLimits"])
    real_symbol = real_info["symbols"][0]  # ETHBTC, with the full filter list
    for entry in info["symbols"][:5]:
        assert_same_shape(
            {k: v for k, v in entry.items() if k != "filters"}, {k: v for k, v in real_symbol.items() if k != "filters"}
        )
        assert [f["filterType"] for f in entry["filters"]] == [f["filterType"] for f in real_symbol["filters"]]
        for mine, real in zip(entry["filters"], real_symbol["filters"], strict=True):
            assert_same_shape(mine, real, mine["filterType"])
