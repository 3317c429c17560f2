"""Kraken private REST of the simulator: API-Sign and nonce accepted and refused, Kraken's error strings, the order
life cycle with cl_ord_id and userref, trades and balances that agree with the simulator's accounts, the order rate
counter and the 429-storm fault."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from platform_streams.simulator import SimulatorThread
from platform_streams.simulator.kraken.auth import client_secret
from platform_streams.simulator.kraken.order_json import order_id_of
from tests.simulator.conftest import make_config
from tests.simulator.kraken_rest import kraken_call


@dataclass(frozen=True)
class Pair:
    altname: str
    base: str
    tick: Decimal
    lot: Decimal
    min_volume: Decimal
    best_bid: Decimal
    best_ask: Decimal

    def volume_for(self, notional: Decimal) -> str:
        lots = max(-(-notional / self.best_ask // self.lot), -(-self.min_volume // self.lot))
        return str((lots * self.lot).normalize())

    def price_below(self, fraction: Decimal) -> str:
        return str((self.best_bid * fraction // self.tick * self.tick).normalize())


def pair_of(simulator: SimulatorThread, skip: int = 0) -> Pair:
    """A USDT pair with its tick and lot steps (read from the simulator's instrument: Kraken lists 8 lot decimals)."""
    venue = simulator.simulator.venues["kraken"]
    index = [i for i, spec in enumerate(venue.market.instruments) if spec.quote == "USDT"][skip]
    spec, pair = venue.market.instruments[index], venue.pairs.pairs[index]
    rest = simulator.urls["kraken"].rest
    with urllib.request.urlopen(f"{rest}/0/public/Depth?pair={pair.altname}&count=1", timeout=10) as response:
        book = next(iter(json.loads(response.read())["result"].values()))
    with urllib.request.urlopen(f"{rest}/0/public/AssetPairs?pair={pair.altname}", timeout=10) as response:
        ordermin = next(iter(json.loads(response.read())["result"].values()))["ordermin"]
    scale = Decimal(10**8)
    return Pair(
        pair.altname, spec.base, spec.tick / scale, spec.lot / scale, Decimal(ordermin), Decimal(book["bids"][0][0]), Decimal(book["asks"][0][0])
    )  # fmt: skip


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorThread]:
    # the API counter (15 calls, decaying 0.33/s) is raised so these functional tests are not rate limited
    config = make_config(exchanges=["kraken"], clock="manual", kraken={"rest": {"api_counter_max": 1000}})
    with SimulatorThread(config) as running:
        running.step(300)
        yield running


def account_state(simulator: SimulatorThread, asset: str) -> tuple[int, int]:
    venue = simulator.simulator.venues["kraken"]
    return simulator.call(lambda: next(iter(venue.accounts)).balance(asset))


def scaled(text: str) -> int:
    return int(Decimal(text) * 10**8)


def test_signature_and_nonce_rules(simulator: SimulatorThread) -> None:
    rest = simulator.urls["kraken"].rest
    assert kraken_call(rest, "Balance")["error"] == []
    assert kraken_call(rest, "Balance", secret=client_secret("wrong"))["error"] == ["EAPI:Invalid signature"]
    assert kraken_call(rest, "Balance", api_key="unknown")["error"] == ["EAPI:Invalid key"]
    assert kraken_call(rest, "Balance", nonce=5)["error"] == ["EAPI:Invalid nonce"]  # below the last one used
    token = kraken_call(rest, "GetWebSocketsToken")["result"]
    assert len(token["token"]) > 20 and token["expires"] == 900


def test_order_life_cycle_by_cl_ord_id_and_userref(simulator: SimulatorThread) -> None:
    rest, pair = simulator.urls["kraken"].rest, pair_of(simulator)
    order = {"pair": pair.altname, "type": "buy", "ordertype": "limit", "price": pair.price_below(Decimal("0.9")), "volume": pair.volume_for(Decimal(20)), "cl_ord_id": "life-1"}  # fmt: skip
    placed = kraken_call(rest, "AddOrder", order)
    assert placed["error"] == [] and placed["result"]["descr"]["order"].startswith(
        f"buy {order['volume']} {pair.altname} @ limit"
    )
    (txid,) = placed["result"]["txid"]
    assert kraken_call(rest, "AddOrder", order)["error"] == ["EOrder:Duplicate cl_ord_id"]
    info = kraken_call(rest, "QueryOrders", {"txid": txid, "trades": "true"})["result"][txid]
    assert (info["status"], info["cl_ord_id"], info["vol_exec"], info["descr"]["pair"]) == (
        "open",
        "life-1",
        "0.00000000",
        pair.altname,
    )
    assert Decimal(info["vol"]) == Decimal(order["volume"]) and Decimal(info["descr"]["price"]) == Decimal(order["price"])
    by_client_id = kraken_call(rest, "QueryOrders", {"cl_ord_id": "life-1"})["result"]
    assert list(by_client_id) == [txid]
    assert list(kraken_call(rest, "OpenOrders")["result"]["open"]) == [txid]
    assert account_state(simulator, "USDT")[1] > 0

    assert kraken_call(rest, "CancelOrder", {"cl_ord_id": "life-1"})["result"] == {"count": 1}
    assert kraken_call(rest, "QueryOrders", {"txid": txid})["result"][txid]["status"] == "canceled"
    assert kraken_call(rest, "CancelOrder", {"txid": txid})["error"] == ["EOrder:Unknown order"]
    assert account_state(simulator, "USDT")[1] == 0
    closed = kraken_call(rest, "ClosedOrders")["result"]
    assert txid in closed["closed"] and closed["count"] >= 1

    tagged = kraken_call(rest, "AddOrder", {**order, "cl_ord_id": "", "userref": "4242"})["result"]["txid"][0]
    assert list(kraken_call(rest, "OpenOrders", {"userref": "4242"})["result"]["open"]) == [tagged]
    assert kraken_call(rest, "CancelOrder", {"txid": "4242"})["result"] == {"count": 1}  # a userref cancels its orders
    assert kraken_call(rest, "QueryOrders", {"txid": "OAAAAA-AAAAA-AAAAAB"})["error"] == ["EOrder:Invalid order"]


def test_market_order_trades_and_balances_agree_with_the_account(simulator: SimulatorThread) -> None:
    rest, pair = simulator.urls["kraken"].rest, pair_of(simulator, skip=1)
    base_before, quote_before = account_state(simulator, pair.base)[0], account_state(simulator, "USDT")[0]
    volume = pair.volume_for(Decimal(60))
    placed = kraken_call(rest, "AddOrder", {"pair": pair.altname, "type": "buy", "ordertype": "market", "volume": volume})
    (txid,) = placed["result"]["txid"]
    info = kraken_call(rest, "QueryOrders", {"txid": txid, "trades": "true"})["result"][txid]
    assert info["status"] == "closed" and Decimal(info["vol_exec"]) == Decimal(volume) and info["oflags"] == "fciq"
    trades = kraken_call(rest, "TradesHistory")["result"]["trades"]
    mine = {k: t for k, t in trades.items() if t["ordertxid"] == txid}
    assert set(mine) == set(info["trades"]) and all(t["type"] == "buy" and t["maker"] is False for t in mine.values())
    fees = sum(scaled(t["fee"]) for t in mine.values())
    cost = sum(scaled(t["cost"]) for t in mine.values())
    assert account_state(simulator, pair.base)[0] - base_before == scaled(volume)  # the fee is in the quote
    assert quote_before - account_state(simulator, "USDT")[0] == cost + fees and cost == scaled(info["cost"])
    assert account_state(simulator, "USDT")[1] == 0 and fees == scaled(info["fee"]) > 0
    half = str((Decimal(volume) / 2 // pair.lot * pair.lot).normalize())
    sell = {"pair": pair.altname, "type": "sell", "ordertype": "market", "volume": half, "oflags": "fcib"}  # fee in the base
    (sold,) = kraken_call(rest, "AddOrder", sell)["result"]["txid"]
    sold_info = kraken_call(rest, "QueryOrders", {"txid": sold})["result"][sold]
    assert sold_info["oflags"] == "fcib" and scaled(sold_info["fee"]) > 0
    assert account_state(simulator, pair.base) == (base_before + scaled(volume) - scaled(half) - scaled(sold_info["fee"]), 0)
    balance_ex = kraken_call(rest, "BalanceEx")["result"]
    assert scaled(balance_ex["USDT"]["balance"]) == sum(account_state(simulator, "USDT"))
    assert kraken_call(rest, "Balance")["result"]["USDT"] == balance_ex["USDT"]["balance"]
    arrival = next(a for a in simulator.ground_truth.orders("kraken") if a.order_id == order_id_of(txid))
    assert (arrival.symbol, arrival.side, arrival.order_type, arrival.error) == (pair.altname, "buy", "market", "")


def test_refusals_carry_kraken_strings(simulator: SimulatorThread) -> None:
    rest, pair = simulator.urls["kraken"].rest, pair_of(simulator)
    base = {"pair": pair.altname, "type": "buy", "ordertype": "limit", "price": str(pair.best_bid), "volume": pair.volume_for(Decimal(20))}  # fmt: skip

    def add(**changes: str) -> list[str]:
        return kraken_call(rest, "AddOrder", {**base, **changes})["error"]

    too_big = str((Decimal(2_000_000) / pair.best_bid // pair.lot * pair.lot).normalize())
    assert add(volume=too_big) == ["EOrder:Insufficient funds"]
    assert add(pair="NOPEUSD") == ["EQuery:Unknown asset pair"]
    assert add(ordertype="stop-loss") == ["EGeneral:Invalid arguments:ordertype"]
    assert add(volume="abc") == ["EGeneral:Invalid arguments:volume"]
    assert add(price="") == ["EGeneral:Invalid arguments:price"]
    assert add(volume=str(pair.lot / 2)) == ["EGeneral:Invalid arguments:volume"]  # off the lot grid
    assert kraken_call(rest, "AddOrder", {**base, "validate": "true"})["result"] == {"descr": {"order": f"buy {base['volume']} {pair.altname} @ limit {base['price']}"}}  # fmt: skip
    failed = [a for a in simulator.ground_truth.orders("kraken") if a.error == "EOrder:Insufficient funds"]
    assert failed and failed[-1].order_id == -1 and failed[-1].error_code == 1


def test_order_rate_counter_and_the_429_storm_fault(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["kraken"], clock="manual", kraken={"rest": {"order_counter_max": 3, "order_counter_decay_per_s": 0.001}})  # fmt: skip
    simulator.step(300)
    rest, first, second = simulator.urls["kraken"].rest, pair_of(simulator), pair_of(simulator, skip=1)

    def add(pair: Pair) -> list[str]:
        order = {"pair": pair.altname, "type": "buy", "ordertype": "limit", "price": pair.price_below(Decimal("0.9")), "volume": pair.volume_for(Decimal(20))}  # fmt: skip
        return kraken_call(rest, "AddOrder", order)["error"]

    assert [add(first) for _ in range(4)] == [[], [], [], ["EOrder:Rate limit exceeded"]]
    assert add(second) == []  # the counter is per pair
    storm = simulator.inject_fault(kind="rate_limit", exchange="kraken", count=2)
    assert [add(second), add(second), add(second)] == [["EOrder:Rate limit exceeded"]] * 2 + [[]]
    assert {r.fault_id for r in simulator.ground_truth.faults("kraken", "rate_limit")} == {storm}
