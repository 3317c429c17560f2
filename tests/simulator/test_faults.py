"""Each fault injects what it says: a client observes the gap, duplicate, reordering, corrupt frame, stall, drop,
latency or maintenance, and the ground truth records exactly what was done to which connection and message."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import websockets

from platform_streams.simulator import SimulatorThread
from platform_streams.simulator.faults import FaultError, FaultSpec
from tests.simulator.book_checksums import KrakenClientBook, OkxBookError, OkxClientBook
from tests.simulator.okx_client import okx_instruments, public_url, subscribe
from tests.simulator.stream_client import connect, receive_until
from tests.waiting import wait_until


def binance_url(simulator: SimulatorThread, *channels: str) -> str:
    symbol = simulator.call(lambda: simulator.simulator.venues["binance"].symbols.names[0]).lower()
    return simulator.urls["binance"].websocket + "/stream?streams=" + "/".join(f"{symbol}@{c}" for c in channels)


def emitted(simulator: SimulatorThread, exchange: str, channel: str | None = None) -> int:
    return int(simulator.ground_truth.events(exchange, channel).fanout.sum())


def test_a_gap_skips_one_binance_diff_and_the_client_sees_it(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(clock="manual")

    async def run() -> list[dict[str, Any]]:
        async with connect(binance_url(simulator, "depth@100ms")) as ws:
            await asyncio.to_thread(simulator.step, 50)
            simulator.inject_fault(kind="gap", exchange="binance", channel="depth@100ms")
            await asyncio.to_thread(simulator.step, 100)
            frames = await receive_until(ws, lambda fs: len(fs) == emitted(simulator, "binance") - 1)
            return [json.loads(f)["data"] for f in frames]

    diffs = asyncio.run(run())
    gaps = [(a["u"], b["U"]) for a, b in zip(diffs, diffs[1:], strict=False) if b["U"] != a["u"] + 1]
    assert len(gaps) == 1
    (record,) = simulator.ground_truth.faults("binance", "gap")
    assert record.channel == "depth@100ms" and record.connection.startswith("binance-")
    assert gaps[0][0] < record.event_id < gaps[0][1]  # the u of the diff that was not sent lies in the hole


def test_a_gap_breaks_the_okx_seq_chain_and_a_kraken_checksum(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["okx", "kraken"], clock="manual")
    inst_id = okx_instruments(simulator, 1)[0]
    pair = simulator.call(lambda: simulator.simulator.venues["kraken"].pairs.wsnames[0])

    async def run() -> tuple[str, str]:
        async with connect(public_url(simulator)) as okx, connect(simulator.urls["kraken"].websocket + "/") as kraken:
            await subscribe(okx, [{"channel": "books", "instId": inst_id}])
            await kraken.send(json.dumps({"event": "subscribe", "pair": [pair], "subscription": {"name": "book", "depth": 25}}))
            kraken_frames = await receive_until(kraken, lambda fs: any('"subscriptionStatus"' in f for f in fs))
            await asyncio.to_thread(simulator.step, 30)
            simulator.inject_fault(kind="gap", exchange="okx", symbol=inst_id)
            simulator.inject_fault(kind="gap", exchange="kraken", channel="book")
            await asyncio.to_thread(simulator.step, 200)
            okx_frames = await receive_until(okx, lambda fs: len(fs) == emitted(simulator, "okx") - 1)
            kraken_frames += await receive_until(
                kraken, lambda fs: sum(f.startswith("[") for f in kraken_frames + fs) == emitted(simulator, "kraken") - 1
            )
        okx_book, kraken_book = OkxClientBook(), KrakenClientBook(25)
        okx_error = kraken_error = ""
        for frame in okx_frames:
            try:
                okx_book.apply(json.loads(frame))
            except OkxBookError as exc:
                okx_error = okx_error or str(exc)
        for frame in (json.loads(f) for f in kraken_frames if f.startswith("[")):
            try:
                kraken_book.apply(frame)
            except AssertionError as exc:
                kraken_error = kraken_error or str(exc)
        return okx_error, kraken_error

    okx_error, kraken_error = asyncio.run(run())
    (okx_record,) = simulator.ground_truth.faults("okx", "gap")
    assert okx_error.startswith("gap: prevSeqId") and str(okx_record.event_id) in okx_error  # the next update names it
    (kraken_record,) = simulator.ground_truth.faults("kraken", "gap")
    assert kraken_error.startswith("checksum") and kraken_record.symbol == pair


def test_duplicates_reordering_and_malformed_frames(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["okx"], clock="manual")
    inst_id = okx_instruments(simulator, 1)[0]

    async def run() -> list[str]:
        async with connect(public_url(simulator)) as ws:
            await subscribe(ws, [{"channel": "trades", "instId": inst_id}])
            simulator.inject_fault(kind="duplicate", exchange="okx", channel="trades", count=2)
            simulator.inject_fault(kind="reorder", exchange="okx", channel="trades")
            for variant in ("invalid_json", "truncated", "wrong_types"):
                simulator.inject_fault(kind="malformed", exchange="okx", channel="trades", malformed=variant)
            await asyncio.to_thread(simulator.step, 100)
            return await receive_until(ws, lambda fs: len(fs) == emitted(simulator, "okx") + 2)

    frames = asyncio.run(run())
    trade_ids, broken, wrong_types = [], [], []
    for frame in frames:
        try:
            body = json.loads(frame)
        except json.JSONDecodeError:
            broken.append(frame)
            continue
        trade = body["data"][0]
        (wrong_types if not isinstance(trade["px"], str) else trade_ids).append(trade["tradeId"])
    assert len(broken) == 2 and len(wrong_types) == 1
    ids = [int(i) for i in trade_ids]
    assert ids[0] == ids[1] and ids[2] == ids[3]  # the first two trades, each twice
    assert ids[4] > ids[5]  # the fifth trade was held back and sent after the sixth
    truth = simulator.ground_truth.faults("okx")
    assert [r.kind for r in truth] == ["duplicate", "duplicate", "reorder", "malformed", "malformed", "malformed"]
    assert [r.event_id for r in truth[:2]] == [ids[0], ids[2]] and truth[2].event_id == ids[5]
    assert simulator.call(simulator.simulator.faults.armed) == []  # one-shot faults end when used


def test_a_stall_holds_frames_on_an_open_socket_then_releases_them(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(clock="manual")

    async def run() -> tuple[float, float, int]:
        async with connect(binance_url(simulator, "trade")) as ws:
            started = time.monotonic()
            simulator.inject_fault(kind="stall", exchange="binance", duration_s=0.4)
            await asyncio.to_thread(simulator.step, 100)
            first = await receive_until(ws, lambda fs: len(fs) == 1)
            arrived = time.monotonic()
            rest = await receive_until(ws, lambda fs: len(fs) + 1 == emitted(simulator, "binance"))
            return started, arrived, len(first + rest)

    started, arrived, received = asyncio.run(run())
    assert arrived - started >= 0.4 - 0.01  # nothing came out before the stall ended
    assert received == emitted(simulator, "binance") > 0  # and nothing was lost
    stall = simulator.ground_truth.faults("binance", "stall")
    assert [r.detail.split(",")[0] for r in stall] == ["stalled for 0.4 s", "stall ended (expired)"]


def test_added_latency_delays_every_frame(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["kraken"], clock="manual")
    pair = simulator.call(lambda: simulator.simulator.venues["kraken"].pairs.wsnames[0])

    async def run() -> list[tuple[int, str]]:
        async with connect(simulator.urls["kraken"].websocket + "/") as ws:
            await ws.send(json.dumps({"event": "subscribe", "pair": [pair], "subscription": {"name": "trade"}}))
            await receive_until(ws, lambda fs: len(fs) == 2)
            fault_id = simulator.inject_fault(kind="latency", exchange="kraken", latency_ms=150)
            await asyncio.to_thread(simulator.step, 60)
            arrivals: list[tuple[int, str]] = []
            async with asyncio.timeout(10):
                while len(arrivals) < emitted(simulator, "kraken", "trade"):
                    frame = str(await ws.recv())
                    if frame.startswith("["):
                        arrivals.append((time.time_ns(), frame))
            assert simulator.clear_faults(fault_id) == [fault_id]
            return arrivals

    arrivals = asyncio.run(run())
    trades = simulator.ground_truth.events("kraken", "trade")
    assert len(arrivals) == len(trades) > 3
    for (arrival_ns, _), emit_ns in zip(arrivals, trades.emit_ns.tolist(), strict=True):
        assert arrival_ns - emit_ns >= 150_000_000 - 2_000_000  # each frame left at least the added latency late
    assert simulator.ground_truth.faults("kraken", "latency")[0].detail == "+150.0 ms on every frame"


def test_drops_abort_or_close_connections(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["binance", "okx"], clock="manual")

    async def run() -> tuple[int | None, int | None]:
        async with connect(binance_url(simulator, "trade")) as binance, connect(public_url(simulator)) as okx:
            wait_until(lambda: len(simulator.connections()) == 2, what="both connections attached")
            okx_id = next(c["connection"] for c in simulator.connections() if c["exchange"] == "okx")
            simulator.inject_fault(kind="drop", exchange="binance")
            simulator.inject_fault(kind="drop", exchange="okx", connection=okx_id, close_code=4001)
            codes = []
            for ws in (binance, okx):
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    async with asyncio.timeout(10):
                        while True:
                            await ws.recv()
                codes.append(closed.value.rcvd.code if closed.value.rcvd else None)
            return codes[0], codes[1]

    aborted, closed = asyncio.run(run())
    assert aborted is None and closed == 4001  # an abort has no close frame; a close carries the code
    assert [r.detail for r in simulator.ground_truth.faults(kind="drop")] == ["TCP connection aborted", "closed with code 4001"]


def test_maintenance_answers_503_refuses_upgrades_and_closes_connections(
    simulator_factory: Callable[..., SimulatorThread],
) -> None:
    simulator = simulator_factory(exchanges=["binance", "okx", "kraken"], clock="manual")
    paths = {"binance": "/api/v3/time", "okx": "/api/v5/public/time", "kraken": "/0/public/Time"}

    def status(exchange: str) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(simulator.urls[exchange].rest + paths[exchange], timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    async def run() -> None:
        async with connect(public_url(simulator)) as open_connection:
            wait_until(lambda: simulator.connections(), what="the connection attached")
            fault_id = simulator.inject_fault(kind="maintenance")
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with asyncio.timeout(10):
                    await open_connection.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
            with pytest.raises(websockets.InvalidStatus) as refused:
                await connect(simulator.urls["kraken"].websocket + "/")
            assert refused.value.response.status_code == 503
            assert status("binance") == (
                503,
                {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."},
            )
            assert status("okx") == (
                503,
                {"code": "50001", "data": [], "msg": "Service temporarily unavailable. Please try again later."},
            )
            assert status("kraken") == (503, {"error": ["EService:Unavailable"]})
            simulator.clear_faults(fault_id)
            assert all(status(exchange)[0] == 200 for exchange in paths)

    asyncio.run(run())
    details = [r.detail for r in simulator.ground_truth.faults(kind="maintenance")]
    assert details.count("exchange in maintenance") == 3 and "closed for maintenance" in details
    assert details.count("maintenance ended (cleared)") == 3


def test_a_fault_for_a_duration_ends_by_itself(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(clock="manual")
    simulator.inject_fault(kind="duplicate", exchange="binance", duration_s=0.2)
    assert len(simulator.call(simulator.simulator.faults.armed)) == 1
    wait_until(lambda: not simulator.call(simulator.simulator.faults.armed), what="the fault to expire")
    with pytest.raises(FaultError):
        simulator.inject_fault(FaultSpec(kind="stall", exchange="binance"))  # a stall needs a duration
    with pytest.raises(FaultError):
        simulator.inject_fault(kind="gap", exchange="nowhere")


def test_the_http_control_api(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["binance", "okx"], clock="manual")
    control = simulator.control_url

    def call(method: str, path: str, body: object = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(control + path, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, created = call("POST", "/faults", {"kind": "latency", "exchange": "okx", "latency_ms": 50, "duration_s": 30})
    assert status == 200 and created["id"] == 1
    armed = call("GET", "/faults")[1]["armed"]
    assert [(f["id"], f["kind"], f["exchanges"]) for f in armed] == [(1, "latency", ["okx"])]
    assert call("POST", "/faults", {"kind": "stall"})[0] == 400
    assert call("POST", "/faults", {"kind": "explode"})[0] == 400
    assert call("DELETE", "/faults/1") == (200, {"cleared": [1]})
    assert call("DELETE", "/faults/1")[0] == 404
    simulator.step(50)
    summary = call("GET", "/ground_truth/summary")[1]
    assert set(summary["exchanges"]) == {"binance", "okx"} and summary["fault_actions"] == {}
    assert call("GET", "/connections") == (200, {"connections": []})
    assert set(call("GET", "/urls")[1]) == {"binance", "okx"}
    assert call("GET", "/ground_truth/faults?kind=latency") == (200, {"faults": []})
