"""A book rebuilt from ``/api/v3/depth`` plus the ``@depth@100ms`` diffs with Binance's U/u rule is the simulator's book."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal

from platform_streams.simulator import SimulatorThread
from tests.simulator.binance_rest import call
from tests.simulator.stream_client import connect, receive_until

Book = dict[str, dict[Decimal, Decimal]]


def apply_levels(side: dict[Decimal, Decimal], levels: list[list[str]]) -> None:
    for price, quantity in levels:
        if Decimal(quantity) == 0:
            side.pop(Decimal(price), None)
        else:
            side[Decimal(price)] = Decimal(quantity)


def rebuild(snapshot: dict, diffs: list[dict]) -> Book:
    """Binance's documented procedure: drop diffs with u <= lastUpdateId, the first applied one must
    straddle lastUpdateId + 1, every later one must start right after the previous one."""
    book: Book = {"bids": {}, "asks": {}}
    apply_levels(book["bids"], snapshot["bids"])
    apply_levels(book["asks"], snapshot["asks"])
    previous = snapshot["lastUpdateId"]
    first = True
    for diff in diffs:
        if diff["u"] <= snapshot["lastUpdateId"]:
            continue
        if first:
            assert diff["U"] <= snapshot["lastUpdateId"] + 1 <= diff["u"], "first diff does not bracket the snapshot"
            first = False
        else:
            assert diff["U"] == previous + 1, f"gap: U={diff['U']} after u={previous}"
        apply_levels(book["bids"], diff["b"])
        apply_levels(book["asks"], diff["a"])
        previous = diff["u"]
    return book


def simulator_book(simulator: SimulatorThread, instrument: int) -> tuple[int, Book]:
    def read() -> tuple[int, Book]:
        venue = simulator.simulator.venues["binance"]
        book, spec = venue.market.books[instrument], venue.market.instruments[instrument]
        scale = Decimal(10) ** -8
        sides = {
            name: {Decimal(p * spec.tick) * scale: Decimal(q * spec.lot) * scale for p, q in side.levels()}
            for name, side in (("bids", book.bids), ("asks", book.asks))
        }
        return book.update_id, sides

    return simulator.call(read)


def test_snapshot_plus_diffs_rebuilds_the_exact_book(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(clock="manual", rate=4000.0)
    rest, websocket = simulator.urls["binance"].rest, simulator.urls["binance"].websocket
    names = simulator.call(lambda: simulator.simulator.venues["binance"].symbols.names[:3])
    instruments = range(len(names))

    async def scenario() -> tuple[dict[str, dict], list[str], dict[int, tuple[int, Book]]]:
        async with connect(websocket + "/stream?streams=" + "/".join(f"{n.lower()}@depth@100ms" for n in names)) as connection:
            await asyncio.to_thread(simulator.step, 35)
            snapshots = {
                n: (await asyncio.to_thread(call, rest, "GET", "/api/v3/depth", {"symbol": n, "limit": 1000})).body for n in names
            }
            # an API order resting in the first book changes it between snapshot and diffs, like any order would
            bid = snapshots[names[0]]["bids"][3][0]
            placed = await asyncio.to_thread(
                call,
                rest,
                "POST",
                "/api/v3/order",
                {
                    "symbol": names[0],
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": _min_quantity(rest, names[0]),
                    "price": bid,
                },
                signed=True,
            )
            assert placed.status == 200, placed.body
            await asyncio.to_thread(simulator.step, 165)  # to a 100 ms boundary: the last window is flushed
            expected = {i: simulator_book(simulator, i) for i in instruments}
            final_ids = {f"{names[i].lower()}@depth@100ms": expected[i][0] for i in instruments}

            def complete(frames: list[str]) -> bool:
                last = {json.loads(f)["stream"]: json.loads(f)["data"]["u"] for f in frames}
                return all(last.get(stream) == u for stream, u in final_ids.items())

            frames = await receive_until(connection, complete)
        return snapshots, frames, expected

    snapshots, frames, expected = asyncio.run(scenario())
    for i, name in enumerate(names):
        diffs = [json.loads(f)["data"] for f in frames if json.loads(f)["stream"] == f"{name.lower()}@depth@100ms"]
        rebuilt = rebuild(snapshots[name], diffs)
        assert rebuilt == expected[i][1], f"{name}: rebuilt book differs"
        assert len(rebuilt["bids"]) >= 50 and len(rebuilt["asks"]) >= 50


def _min_quantity(rest: str, symbol: str) -> str:
    info = call(rest, "GET", "/api/v3/exchangeInfo", {"symbol": symbol}).body
    filters = {f["filterType"]: f for f in info["symbols"][0]["filters"]}
    step = Decimal(filters["LOT_SIZE"]["stepSize"])
    price = Decimal(filters["PRICE_FILTER"]["maxPrice"]) / 1000  # about the starting price
    quantity = (Decimal(filters["MIN_NOTIONAL"]["minNotional"]) * 3 / price / step).to_integral_value() * step
    return str(max(quantity, step))
