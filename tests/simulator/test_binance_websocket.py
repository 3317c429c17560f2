"""The simulated Binance stream protocol: live subscriptions, error replies, and the WebSocket limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import aiohttp
import pytest
import websockets

from platform_streams.simulator import SimulatorThread
from tests.simulator.stream_client import connect, receive_until, request


def first_symbol(simulator: SimulatorThread) -> str:
    return simulator.call(lambda: simulator.simulator.venues["binance"].symbols.names[0]).lower()


def test_subscribe_list_and_unsubscribe(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(clock="manual", binance={"websocket": {"max_incoming_per_second": 50}})
    symbol = first_symbol(simulator)

    async def scenario() -> None:
        async with connect(simulator.urls["binance"].websocket + "/ws/0") as ws:
            assert await request(ws, {"method": "SUBSCRIBE", "params": [f"{symbol}@trade", f"{symbol}@bookTicker"], "id": 1}) == {
                "result": None,
                "id": 1,
            }
            assert await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 2}) == {
                "result": [f"{symbol}@trade", f"{symbol}@bookTicker"],
                "id": 2,
            }
            await asyncio.to_thread(simulator.step, 50)
            frames = await receive_until(ws, lambda fs: any('"e":"trade"' in f for f in fs) and any('"u":' in f for f in fs))
            assert all(not f.startswith('{"stream"') for f in frames)  # /ws payloads are not wrapped
            assert await request(
                ws, {"method": "UNSUBSCRIBE", "params": [f"{symbol}@trade", f"{symbol}@bookTicker"], "id": "ab12"}
            ) == {"result": None, "id": "ab12"}
            await asyncio.to_thread(simulator.step, 50)
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 3}))
            while (message := json.loads(await ws.recv())).get("id") != 3:
                assert "e" in message or "u" in message  # only frames queued before the unsubscribe
            assert message == {"result": [], "id": 3}
            assert await request(ws, {"method": "SET_PROPERTY", "params": ["combined", True], "id": 4}) == {
                "result": None,
                "id": 4,
            }
            assert await request(ws, {"method": "GET_PROPERTY", "params": ["combined"], "id": 5}) == {"result": True, "id": 5}
            assert await request(ws, {"method": "SUBSCRIBE", "params": [f"{symbol}@aggTrade"], "id": 6}) == {
                "result": None,
                "id": 6,
            }
            await asyncio.to_thread(simulator.step, 50)
            wrapped = json.loads((await receive_until(ws, lambda fs: len(fs) >= 1))[0])
            assert wrapped["stream"] == f"{symbol}@aggTrade" and wrapped["data"]["e"] == "aggTrade"

    asyncio.run(scenario())


def test_bad_requests_get_binance_error_replies(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(clock="manual", binance={"websocket": {"max_incoming_per_second": 50}})

    async def reply(ws: websockets.ClientConnection, text: str) -> dict:
        await ws.send(text)
        return json.loads(await ws.recv())

    async def scenario() -> None:
        async with connect(simulator.urls["binance"].websocket + "/ws") as ws:
            assert await reply(ws, "{not json") == {
                "error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 2"},
                "id": None,
            }
            missing = await reply(ws, '{"params":[],"id":1}')
            assert missing["error"]["code"] == 2 and missing["error"]["msg"].startswith("Invalid request: missing field `method`")
            unknown = await reply(ws, '{"method":"SUBSCRIBES","params":[],"id":1}')
            assert unknown["error"]["code"] == 2 and "unknown variant `SUBSCRIBES`" in unknown["error"]["msg"]
            assert await reply(ws, '{"method":"SUBSCRIBE","params":["nosuchcoin@trade"],"id":7}') == {
                "error": {"code": 2, "msg": "Invalid request: invalid stream"},
                "id": 7,
            }
            assert await reply(ws, '{"method":"SUBSCRIBE","params":[],"id":[1]}') == {
                "error": {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"},
                "id": None,
            }
            assert await reply(ws, '{"method":"SET_PROPERTY","params":["colour",true],"id":8}') == {
                "error": {"code": 0, "msg": "Unknown property"},
                "id": 8,
            }
            assert await reply(ws, '{"method":"SET_PROPERTY","params":["combined","yes"],"id":9}') == {
                "error": {"code": 1, "msg": "Invalid value type: expected Boolean"},
                "id": 9,
            }

    asyncio.run(scenario())


async def closed_with(ws: websockets.ClientConnection, timeout_s: float = 5.0) -> int | None:
    """Read until the server closes the connection; its close code."""
    with pytest.raises(websockets.ConnectionClosed):
        async with asyncio.timeout(timeout_s):
            while True:
                await ws.recv()
    return ws.close_code


def test_more_than_five_messages_a_second_disconnects(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(clock="manual")

    async def scenario() -> int | None:
        async with connect(simulator.urls["binance"].websocket + "/ws") as ws:
            for n in range(6):
                await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": n}))
            return await closed_with(ws)

    assert asyncio.run(scenario()) == 1008


def test_too_many_streams_disconnects(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(clock="manual", binance={"websocket": {"max_streams_per_connection": 3}})
    symbol = first_symbol(simulator)

    async def scenario() -> int | None:
        async with connect(simulator.urls["binance"].websocket + f"/stream?streams={symbol}@trade/{symbol}@aggTrade") as ws:
            assert await request(ws, {"method": "SUBSCRIBE", "params": [f"{symbol}@bookTicker"], "id": 1}) == {
                "result": None,
                "id": 1,
            }
            await ws.send(json.dumps({"method": "SUBSCRIBE", "params": [f"{symbol}@depth"], "id": 2}))
            return await closed_with(ws)

    assert asyncio.run(scenario()) == 1008


def test_connection_attempts_over_the_limit_are_refused(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(clock="manual", binance={"websocket": {"connection_attempts": 2}})
    url = simulator.urls["binance"].websocket + "/ws"

    async def scenario() -> int:
        async with connect(url), connect(url):
            with pytest.raises(websockets.InvalidStatus) as refused:
                await connect(url)
            return refused.value.response.status_code

    assert asyncio.run(scenario()) == 429


def test_unanswered_pings_disconnect_and_answered_ones_keep_the_connection(
    simulator_factory: Callable[..., SimulatorThread],
) -> None:
    simulator = simulator_factory(
        clock="manual", binance={"websocket": {"ping_interval_s": 0.1, "pong_timeout_s": 0.4, "max_incoming_per_second": 100}}
    )
    url = simulator.urls["binance"].websocket + "/ws"

    async def scenario() -> tuple[int, int | None]:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url, autoping=False) as silent, session.ws_connect(url, autoping=False) as polite:
                pings = 0
                async with asyncio.timeout(5):
                    while pings < 8:  # eight pings answered: twice the pong timeout, still connected
                        message = await polite.receive()
                        assert message.type is aiohttp.WSMsgType.PING
                        await polite.pong(message.data)
                        pings += 1
                    while (closing := await silent.receive()).type is aiohttp.WSMsgType.PING:
                        continue
                assert not polite.closed
                assert closing.type is aiohttp.WSMsgType.CLOSE
                return pings, closing.data

    pings, silent_code = asyncio.run(scenario())
    assert pings == 8 and silent_code == 1008


def test_connections_are_dropped_at_their_maximum_age(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(clock="manual", binance={"websocket": {"max_connection_age_s": 0.3}})

    async def scenario() -> int | None:
        async with connect(simulator.urls["binance"].websocket + "/ws") as ws:
            return await closed_with(ws)

    assert asyncio.run(scenario()) == 1001
