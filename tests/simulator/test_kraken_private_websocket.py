"""Kraken's authenticated WebSocket v2 of the simulator: tokens accepted and refused, the executions snapshot, and
updates for placement, fills, completion and cancels of the account's orders, recorded in the ground truth."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal

import websockets

from platform_streams.simulator import SimulatorThread
from tests.simulator.kraken_rest import kraken_call
from tests.simulator.test_kraken_orders import pair_of


async def send(connection: websockets.ClientConnection, body: dict) -> dict:
    await connection.send(json.dumps(body))
    return json.loads(await asyncio.wait_for(connection.recv(), 10))


def test_executions_snapshot_and_updates(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["kraken"], clock="manual")
    simulator.step(300)
    rest, url = simulator.urls["kraken"].rest, simulator.urls["kraken"].websocket + "/auth/v2"
    pair = pair_of(simulator)
    resting = {"pair": pair.altname, "type": "buy", "ordertype": "limit", "price": pair.price_below(Decimal("0.9")), "volume": pair.volume_for(Decimal(20)), "cl_ord_id": "rest-1"}  # fmt: skip
    resting_txid = kraken_call(rest, "AddOrder", resting)["result"]["txid"][0]
    token = kraken_call(rest, "GetWebSocketsToken")["result"]["token"]

    async def scenario() -> tuple[list[dict], list[dict]]:
        async with websockets.connect(url) as connection:
            greeting = json.loads(await connection.recv())
            assert greeting["channel"] == "status" and greeting["data"][0]["api_version"] == "v2"
            refused = await send(
                connection, {"method": "subscribe", "params": {"channel": "executions", "token": "nope"}, "req_id": 1}
            )
            assert (refused["success"], refused["error"], refused["req_id"]) == (False, "Token(s) not found", 1)
            pong = await send(connection, {"method": "ping", "req_id": 2})
            assert (pong["method"], pong["req_id"]) == ("pong", 2)
            ack = await send(connection, {"method": "subscribe", "params": {"channel": "executions", "token": token, "snap_trades": True}, "req_id": 3})  # fmt: skip
            assert ack["success"] is True and ack["result"]["channel"] == "executions"
            snapshots = [json.loads(await asyncio.wait_for(connection.recv(), 10)) for _ in range(2)]
            market_buy = {"pair": pair.altname, "type": "buy", "ordertype": "market", "volume": pair.volume_for(Decimal(20)), "userref": "77"}  # fmt: skip
            await asyncio.to_thread(kraken_call, rest, "AddOrder", market_buy)
            await asyncio.to_thread(kraken_call, rest, "CancelOrder", {"txid": resting_txid})
            updates: list[dict] = []
            while not updates or updates[-1]["data"][0]["exec_type"] != "canceled":
                updates.append(json.loads(await asyncio.wait_for(connection.recv(), 10)))
            return snapshots, updates

    snapshots, updates = asyncio.run(scenario())
    assert [s["type"] for s in snapshots] == ["snapshot", "snapshot"] and snapshots[0]["data"] == []
    assert [(o["order_id"], o["cl_ord_id"], o["order_status"]) for o in snapshots[1]["data"]] == [(resting_txid, "rest-1", "new")]
    assert [u["sequence"] for u in updates] == list(range(3, 3 + len(updates)))
    kinds = [u["data"][0]["exec_type"] for u in updates]
    assert kinds[0] == "new" and set(kinds[1:-2]) == {"trade"} and kinds[-2:] == ["filled", "canceled"]
    trades = [u["data"][0] for u in updates if u["data"][0]["exec_type"] == "trade"]
    assert all(t["order_userref"] == 77 and t["liquidity_ind"] == "t" and t["fees"][0]["asset"] == "USDT" for t in trades)
    assert sum(Decimal(str(t["last_qty"])) for t in trades) == Decimal(pair.volume_for(Decimal(20)))
    assert updates[-1]["data"][0]["order_id"] == resting_txid
    recorded = simulator.ground_truth.events("kraken", "executions")
    assert len(recorded) == len(updates) and {int(t["trade_id"]) for t in trades} == set(
        recorded.first_id[recorded.first_id >= 0].tolist()
    )
