"""OKX's private WebSocket of the simulator: login accepted and refused, the ``orders`` channel pushing placement,
fills and cancels of the account's orders (and only its own), recorded in the ground truth."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from decimal import Decimal

import websockets

from platform_streams.simulator import DEFAULT_API_KEY, DEFAULT_API_PASSPHRASE, DEFAULT_API_SECRET, SimulatorThread
from tests.simulator.okx_rest import okx_call, sign
from tests.simulator.test_okx_orders import market_of


def login_frame(secret: str = DEFAULT_API_SECRET, passphrase: str = DEFAULT_API_PASSPHRASE, api_key: str = DEFAULT_API_KEY, skew_s: float = 0) -> str:  # fmt: skip
    stamp = str(int(time.time() + skew_s))
    signature = sign(secret, f"{stamp}GET/users/self/verify")
    return json.dumps(
        {"op": "login", "args": [{"apiKey": api_key, "passphrase": passphrase, "timestamp": stamp, "sign": signature}]}
    )


async def request(connection: websockets.ClientConnection, frame: str) -> dict:
    await connection.send(frame)
    return json.loads(await asyncio.wait_for(connection.recv(), 10))


def test_login_and_order_pushes_of_the_account_only(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(
        exchanges=["okx"],
        clock="manual",
        accounts=[
            {
                "api_key": DEFAULT_API_KEY,
                "secret": DEFAULT_API_SECRET,
                "passphrase": DEFAULT_API_PASSPHRASE,
                "balances": {"USDT": "100000"},
            },
            {"api_key": "otherKey", "secret": "otherSecret", "passphrase": "otherPass", "balances": {"USDT": "1000"}},
        ],
    )
    simulator.step(300)
    rest, url = simulator.urls["okx"].rest, simulator.urls["okx"].websocket + "/ws/v5/private"
    market = market_of(simulator)
    size = market.size_for(Decimal(20))

    async def scenario() -> tuple[list[dict], list[dict]]:
        async with websockets.connect(url) as mine, websockets.connect(url) as theirs:
            early = await request(mine, json.dumps({"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]}))
            assert (early["event"], early["code"]) == ("error", "60011")
            assert (await request(mine, login_frame(secret="wrong")))["code"] == "60007"
            assert (await request(mine, login_frame(passphrase="wrong")))["code"] == "60024"
            assert (await request(mine, login_frame(skew_s=-120)))["code"] == "60004"
            assert (await request(mine, login_frame(api_key="nobody")))["code"] == "60005"
            logged_in = await request(mine, login_frame())
            assert (logged_in["event"], logged_in["code"]) == ("login", "0") and logged_in["connId"]
            assert (await request(theirs, login_frame("otherSecret", "otherPass", "otherKey")))["code"] == "0"
            bad = await request(mine, json.dumps({"op": "subscribe", "args": [{"channel": "balance_and_position"}]}))
            assert bad["code"] == "60018"
            for connection in (mine, theirs):
                ack = await request(
                    connection, json.dumps({"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}]})
                )
                assert ack == {"event": "subscribe", "arg": {"channel": "orders", "instType": "SPOT"}, "connId": ack["connId"]}
            await mine.send("ping")
            assert await asyncio.wait_for(mine.recv(), 10) == "pong"

            limit = {"instId": market.inst_id, "tdMode": "cash", "side": "buy", "ordType": "limit", "px": market.price_below(Decimal("0.9")), "sz": size, "clOrdId": "ws1"}  # fmt: skip
            placed = (await asyncio.to_thread(okx_call, rest, "POST", "/api/v5/trade/order", limit)).body["data"][0]
            await asyncio.to_thread(
                okx_call, rest, "POST", "/api/v5/trade/cancel-order", {"instId": market.inst_id, "ordId": placed["ordId"]}
            )
            market_buy = {"instId": market.inst_id, "tdMode": "cash", "side": "buy", "ordType": "market", "sz": size, "tgtCcy": "base_ccy", "clOrdId": "ws2"}  # fmt: skip
            filled = (await asyncio.to_thread(okx_call, rest, "POST", "/api/v5/trade/order", market_buy)).body["data"][0]
            pushes: list[dict] = []
            while not pushes or pushes[-1]["data"][0]["state"] != "filled":
                pushes.append(json.loads(await asyncio.wait_for(mine.recv(), 10)))
            assert filled["ordId"] == pushes[-1]["data"][0]["ordId"]
            await theirs.send("ping")  # the other account's first frame since subscribing is the pong: none of these orders
            return pushes, str(await asyncio.wait_for(theirs.recv(), 10))

    pushes, theirs_first = asyncio.run(scenario())
    assert theirs_first == "pong"
    entries = [p["data"][0] for p in pushes]
    assert {p["arg"]["channel"] for p in pushes} == {"orders"} and all(p["arg"]["uid"] for p in pushes)
    assert [(e["clOrdId"], e["state"]) for e in entries[:2]] == [("ws1", "live"), ("ws1", "canceled")]
    fills = entries[2:]
    assert fills[0]["clOrdId"] == "ws2" and fills[0]["state"] == "live" and fills[0]["tradeId"] == ""
    trades = [e for e in fills if e["tradeId"]]
    assert trades and all(e["execType"] == "T" and e["fillFeeCcy"] == market.base for e in trades)
    assert sum(Decimal(e["fillSz"]) for e in trades) == Decimal(size) == Decimal(trades[-1]["accFillSz"])
    recorded = simulator.ground_truth.events("okx", "orders")
    assert len(recorded) == len(pushes) and set(recorded.first_id[recorded.first_id >= 0]) == {int(e["tradeId"]) for e in trades}
