"""Same seed, same stream: a simulator stepped by hand emits byte-identical frames run after run (Binance, OKX, Kraken).

The client also receives exactly what the ground truth says was emitted, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from platform_streams.simulator import SimulatorThread
from tests.simulator.okx_client import CHANNELS as OKX_CHANNELS
from tests.simulator.okx_client import okx_instruments, public_url, subscribe
from tests.simulator.stream_client import connect, receive_until

CHANNELS = ("trade", "aggTrade", "bookTicker", "depth@100ms", "kline_1m", "depth5@100ms")


def recorded_stream(simulator: SimulatorThread, quanta: int) -> list[str]:
    names = simulator.call(lambda: simulator.simulator.venues["binance"].symbols.names[:6])
    url = simulator.urls["binance"].websocket + "/stream?streams=" + "/".join(f"{n.lower()}@{c}" for n in names for c in CHANNELS)

    async def run() -> list[str]:
        async with connect(url) as connection:
            await asyncio.to_thread(simulator.step, quanta)
            emitted = len(simulator.ground_truth.events("binance"))
            return await receive_until(connection, lambda frames: len(frames) == emitted)

    return asyncio.run(run())


def test_same_seed_gives_a_byte_identical_stream(simulator_factory: Callable[..., SimulatorThread]) -> None:
    first = recorded_stream(simulator_factory(clock="manual", seed=5), 250)
    second = recorded_stream(simulator_factory(clock="manual", seed=5), 250)
    other_seed = recorded_stream(simulator_factory(clock="manual", seed=6), 250)
    assert len(first) > 1000
    assert first == second
    assert first != other_seed
    assert {json.loads(f)["stream"].split("@", 1)[1] for f in first} == set(CHANNELS)


def test_the_client_receives_exactly_what_the_ground_truth_records(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(clock="manual")
    frames = recorded_stream(simulator, 150)
    events = simulator.ground_truth.events("binance", "trade")
    received = [json.loads(f)["data"] for f in frames if "@trade" in json.loads(f)["stream"]]
    assert [(d["s"], d["t"]) for d in received] == list(zip(events.symbol.tolist(), events.event_id.tolist(), strict=True))
    assert (events.fanout == 1).all() and (events.emit_ns > 0).all()
    diffs = simulator.ground_truth.events("binance", "depth@100ms")
    received_diffs = [json.loads(f)["data"] for f in frames if "@depth@100ms" in json.loads(f)["stream"]]
    assert [(d["U"], d["u"]) for d in received_diffs] == list(zip(diffs.first_id.tolist(), diffs.event_id.tolist(), strict=True))


def recorded_okx_stream(simulator: SimulatorThread, quanta: int) -> list[str]:
    names = okx_instruments(simulator, 6)

    async def run() -> list[str]:
        async with connect(public_url(simulator)) as connection:
            await subscribe(connection, [{"channel": c, "instId": n} for n in names for c in OKX_CHANNELS])
            await asyncio.to_thread(simulator.step, quanta)
            emitted = int(simulator.ground_truth.events("okx").fanout.sum())
            return await receive_until(connection, lambda frames: len(frames) == emitted)

    return asyncio.run(run())


def recorded_kraken_stream(simulator: SimulatorThread, quanta: int) -> list[str]:
    pairs = simulator.call(lambda: simulator.simulator.venues["kraken"].pairs.wsnames[:6])
    subscriptions = [
        {"name": "book", "depth": 10},
        {"name": "book", "depth": 100},
        {"name": "trade"},
        {"name": "ticker"},
        {"name": "ohlc"},
    ]

    async def run() -> list[str]:
        async with connect(simulator.urls["kraken"].websocket + "/") as connection:
            for subscription in subscriptions:
                await connection.send(json.dumps({"event": "subscribe", "pair": pairs, "subscription": subscription}))
            replies = len(pairs) * len(subscriptions)
            frames = await receive_until(connection, lambda fs: sum('"subscriptionStatus"' in f for f in fs) == replies)
            await asyncio.to_thread(simulator.step, quanta)
            emitted = int(simulator.ground_truth.events("kraken").fanout.sum())  # snapshots included
            return frames + await receive_until(connection, lambda fs: sum(f.startswith("[") for f in frames + fs) == emitted)

    return asyncio.run(run())


def test_okx_and_kraken_streams_are_byte_identical_for_a_seed(simulator_factory: Callable[..., SimulatorThread]) -> None:
    streams = {}
    for seed in (5, 5, 6):
        simulator = simulator_factory(exchanges=["okx", "kraken"], clock="manual", seed=seed)
        streams.setdefault(seed, []).append((recorded_okx_stream(simulator, 250), recorded_kraken_stream(simulator, 250)))
    (okx_first, kraken_first), (okx_second, kraken_second) = streams[5]
    okx_other, kraken_other = streams[6][0]
    assert len(okx_first) > 500 and len(kraken_first) > 500
    assert okx_first == okx_second and kraken_first == kraken_second
    assert okx_first != okx_other and kraken_first != kraken_other
