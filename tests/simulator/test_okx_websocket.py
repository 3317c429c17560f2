"""The simulated OKX v5 public WebSocket: every channel in OKX's format, books that rebuild exactly, requests and limits.

Shapes are compared with real frames (data/exchanges/okx, cryptofeed: "This product
includes software developed by Bryant Moscon (http://www.bryantmoscon.com/)");
what OKX added since those captures (``prevSeqId``/``seqId`` in books, ``connId`` in
events) must sit where OKX documents it. ``bbo-tbt`` and ``candle1m`` were not
captured: they are compared with OKX's documented examples.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import websockets

from platform_streams.simulator import SimulatorThread
from tests.simulator.book_checksums import OkxBookError, OkxClientBook, crc32
from tests.simulator.conftest import captured_frames
from tests.simulator.frame_shapes import assert_same_shape
from tests.simulator.okx_client import CHANNELS, kind_of, okx_instruments, public_url, subscribe
from tests.simulator.stream_client import connect, receive_until

#: OKX's documented push examples for the channels the captures lack.
DOCUMENTED = {
    "bbo-tbt": {
        "arg": {"channel": "bbo-tbt", "instId": "BCH-USDT-SWAP"},
        "data": [{"asks": [["111.06", "55154", "0", "2"]], "bids": [["111.05", "57745", "0", "2"]], "ts": "1670324386802", "seqId": 363996337}],
    },
    "candle1m": {
        "arg": {"channel": "candle1D", "instId": "BTC-USDT"},
        "data": [["1597026383085", "8533.02", "8553.74", "8527.17", "8548.26", "45247", "529.5858061", "529.5858061", "0"]],
    },
    "event/error": {"event": "error", "code": "60012", "msg": "Invalid request", "connId": "a4d3ae55"},
}  # fmt: skip


def captured(accept: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    for record, frame in captured_frames("2022-05-13_cryptofeed_v5_books.ws.jsonl", "okx"):
        body = json.loads(frame)
        if record["dir"] == "in" and accept(body):
            return body
    raise AssertionError("no such frame in the OKX capture")


def real_frame(kind: str) -> dict[str, Any]:
    if kind in DOCUMENTED:
        return DOCUMENTED[kind]
    if kind.startswith("event/"):
        return captured(lambda b: b.get("event") == kind.split("/")[1])
    channel, _, action = kind.partition("/")
    spot = "BTC-USDT"
    return captured(
        lambda b: (
            b.get("arg", {}).get("instId") == spot
            and b["arg"]["channel"] == channel
            and b.get("action", "") == action
            and "event" not in b
        )
    )


def without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in keys}


def collect_every_channel(simulator: SimulatorThread) -> dict[str, dict[str, Any]]:
    inst_id = okx_instruments(simulator, 1)[0]

    async def run() -> dict[str, dict[str, Any]]:
        async with connect(public_url(simulator)) as ws:
            replies = await subscribe(ws, [{"channel": c, "instId": inst_id} for c in CHANNELS])
            await ws.send(json.dumps({"op": "subscribe", "args": [{"channel": "books", "instId": "NOPE-USDT"}]}))
            await asyncio.to_thread(simulator.step, 250)
            wanted = {"trades", "books/snapshot", "books/update", "bbo-tbt", "tickers", "candle1m", "event/error"}
            frames = await receive_until(ws, lambda fs: wanted <= {kind_of(f) for f in fs})
            by_kind = {"event/subscribe": replies[0]}
            for frame in frames:
                by_kind.setdefault(kind_of(frame), json.loads(frame))
            return by_kind

    return asyncio.run(run())


def test_every_channel_has_the_shape_of_okx_frames(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["okx"], clock="manual")
    generated = collect_every_channel(simulator)
    for kind in ("trades", "tickers", "bbo-tbt", "candle1m"):
        assert_same_shape(generated[kind], real_frame(kind), kind)
    for kind in ("books/snapshot", "books/update"):
        data = generated[kind]["data"][0]
        assert list(data)[-2:] == ["prevSeqId", "seqId"] and isinstance(data["seqId"], int)
        assert_same_shape({**generated[kind], "data": [without(data, "prevSeqId", "seqId")]}, real_frame(kind), kind)
    assert generated["books/snapshot"]["data"][0]["prevSeqId"] == -1
    assert_same_shape(without(generated["event/subscribe"], "connId"), real_frame("event/subscribe"))
    assert list(generated["event/subscribe"])[-1] == "connId"
    assert_same_shape(generated["event/error"], real_frame("event/error"))
    assert generated["event/error"]["code"] == "60018"
    ticker = generated["tickers"]["data"][0]
    assert Decimal(ticker["low24h"]) <= Decimal(ticker["last"]) <= Decimal(ticker["high24h"])
    assert Decimal(ticker["bidPx"]) < Decimal(ticker["askPx"])
    for row in generated["bbo-tbt"]["data"][0]["asks"] + generated["books/snapshot"]["data"][0]["bids"]:
        assert not row[0].endswith("0") or "." not in row[0]  # OKX trims trailing zeros


def test_books_rebuild_from_snapshot_and_updates_to_the_simulators_book(
    simulator_factory: Callable[..., SimulatorThread],
) -> None:
    simulator = simulator_factory(exchanges=["okx"], clock="manual")
    names = okx_instruments(simulator, 3)

    async def run() -> dict[str, OkxClientBook]:
        books = {name: OkxClientBook() for name in names}
        frames: list[str] = []
        async with connect(public_url(simulator)) as ws:
            await subscribe(ws, [{"channel": "books", "instId": name} for name in names])
            await asyncio.to_thread(simulator.step, 200)
            await subscribe(ws, [{"channel": "books", "instId": names[0]}], passed=frames)  # a new snapshot replaces the book
            await asyncio.to_thread(simulator.step, 300)
            expected = int(simulator.ground_truth.events("okx", "books").fanout.sum())
            frames += await receive_until(ws, lambda fs: len(frames) + len(fs) == expected)
        snapshots = 0
        for frame in frames:
            body = json.loads(frame)
            if "action" in body:
                snapshots += body["action"] == "snapshot"
                books[body["arg"]["instId"]].apply(body)
        assert snapshots == 4
        return books

    books = asyncio.run(run())
    assert all(book.checksums_verified > 20 for book in books.values())

    def simulator_levels() -> dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]]:
        venue = simulator.simulator.venues["okx"]
        result = {}
        for name in names:
            index = venue.instruments.lookup(name)
            book, spec = venue.market.books[index], venue.market.instruments[index]

            tick, lot = spec.tick, spec.lot
            result[name] = tuple(
                {Decimal(p * tick).scaleb(-8): Decimal(q * lot).scaleb(-8) for p, q in side.levels()}
                for side in (book.bids, book.asks)
            )
        return result

    for name, (bids, asks) in simulator.call(simulator_levels).items():
        client = books[name].book
        assert {p: Decimal(s) for p, (_, s) in client.bids.items()} == bids
        assert {p: Decimal(s) for p, (_, s) in client.asks.items()} == asks
        assert not client.crossed()


def test_the_client_book_rejects_a_broken_chain_and_a_wrong_checksum() -> None:
    """The rebuild above would notice a gap or a corrupt level: the client book is strict."""
    checksum = crc32(b"1:1:2:1")
    level = {"asks": [["2", "1", "0", "1"]], "bids": [["1", "1", "0", "1"]], "ts": "1"}
    snapshot = {
        "action": "snapshot",
        "data": [{**level, "checksum": checksum - 2**32 * (checksum >= 2**31), "prevSeqId": -1, "seqId": 5}],
    }
    book = OkxClientBook()
    book.apply(snapshot)
    with pytest.raises(OkxBookError, match="gap"):
        book.apply({"action": "update", "data": [{"asks": [], "bids": [], "ts": "2", "checksum": 0, "prevSeqId": 6, "seqId": 7}]})
    with pytest.raises(OkxBookError, match="checksum"):
        book.apply(
            {
                "action": "update",
                "data": [{"asks": [["2", "3", "0", "1"]], "bids": [], "ts": "2", "checksum": 0, "prevSeqId": 5, "seqId": 7}],
            }
        )


def test_ping_errors_and_unsubscribe(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["okx"], clock="manual", okx={"websocket": {"subscription_requests": 2}})
    inst_id = okx_instruments(simulator, 1)[0]

    async def run() -> None:
        async with connect(public_url(simulator)) as ws:
            await ws.send("ping")
            assert await ws.recv() == "pong"
            await ws.send("{not json")
            assert json.loads(await ws.recv())["code"] == "60012"
            await ws.send(json.dumps({"op": "login", "args": []}))
            assert json.loads(await ws.recv())["code"] == "60019"
            await ws.send("[]")
            conn_id = json.loads(await ws.recv())["connId"]  # every event carries the connection's connId
            await ws.send(json.dumps({"op": "subscribe", "args": [{"channel": "trades", "instId": inst_id}], "id": "7"}))
            ack = {"id": "7", "event": "subscribe", "arg": {"channel": "trades", "instId": inst_id}, "connId": conn_id}
            assert json.loads(await ws.recv()) == ack
            await subscribe(ws, [{"channel": "trades", "instId": inst_id}], "unsubscribe")
            await asyncio.to_thread(simulator.step, 100)
            await ws.send("ping")
            assert await ws.recv() == "pong"  # no trade was queued before it: the unsubscribe took effect
            await ws.send(json.dumps({"op": "subscribe", "args": [{"channel": "trades", "instId": inst_id}]}))
            assert json.loads(await ws.recv())["code"] == "60014"  # the third subscribe/unsubscribe request

    asyncio.run(run())


def test_idle_connections_are_dropped_and_connection_attempts_limited(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(
        exchanges=["okx"],
        clock="manual",
        okx={"websocket": {"idle_timeout_s": 0.3, "connection_attempts": 2, "connection_interval_s": 60}},
    )

    async def run() -> None:
        async with connect(public_url(simulator)) as ws:
            async with asyncio.timeout(10):
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    while True:
                        await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        await (await connect(public_url(simulator))).close()  # the second attempt in the window is allowed
        with pytest.raises(websockets.InvalidStatus) as refused:
            await connect(public_url(simulator))
        assert refused.value.response.status_code == 429

    asyncio.run(run())
