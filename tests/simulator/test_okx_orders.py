"""OKX v5 private REST of the simulator: signing accepted and refused, OKX's error codes, the order life cycle with
clOrdId, fills and balances that agree with the simulator's accounts, order-rate limits and the 429 storm fault."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from platform_streams.simulator import SimulatorThread
from tests.simulator.conftest import make_config
from tests.simulator.okx_rest import iso_timestamp, okx_call


@dataclass(frozen=True)
class Market:
    inst_id: str
    base: str
    tick: Decimal
    lot: Decimal
    min_size: Decimal
    best_bid: Decimal
    best_ask: Decimal

    def size_for(self, notional: Decimal) -> str:
        """The smallest size on the lot grid worth at least ``notional`` quote and at least minSz."""
        lots = max(-(-notional / self.best_ask // self.lot), self.min_size / self.lot)
        return str((lots * self.lot).normalize())

    def price_below(self, fraction: Decimal) -> str:
        return str((self.best_bid * fraction // self.tick * self.tick).normalize())


def market_of(simulator: SimulatorThread, quote: str = "USDT", skip: int = 0) -> Market:
    rest = simulator.urls["okx"].rest
    with urllib.request.urlopen(f"{rest}/api/v5/public/instruments?instType=SPOT", timeout=10) as response:
        entries = [e for e in json.loads(response.read())["data"] if e["quoteCcy"] == quote]
    entry = entries[skip]
    with urllib.request.urlopen(f"{rest}/api/v5/market/books?instId={entry['instId']}&sz=1", timeout=10) as response:
        book = json.loads(response.read())["data"][0]
    return Market(
        entry["instId"],
        entry["baseCcy"],
        Decimal(entry["tickSz"]),
        Decimal(entry["lotSz"]),
        Decimal(entry["minSz"]),
        Decimal(book["bids"][0][0]),
        Decimal(book["asks"][0][0]),
    )


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorThread]:
    with SimulatorThread(make_config(exchanges=["okx"], clock="manual")) as running:
        running.step(300)
        yield running


def account_state(simulator: SimulatorThread, asset: str) -> tuple[int, int]:
    """``(free, locked)`` of the default account in the simulator's own books (scale 8)."""
    venue = simulator.simulator.venues["okx"]
    return simulator.call(lambda: next(iter(venue.accounts)).balance(asset))


def scaled(text: str) -> int:
    return int(Decimal(text) * 10**8)


def test_signed_requests_accepted_and_each_bad_credential_refused(simulator: SimulatorThread) -> None:
    rest = simulator.urls["okx"].rest
    ok = okx_call(rest, "GET", "/api/v5/account/balance", {"ccy": "USDT"})
    assert ok.status == 200 and ok.body["code"] == "0" and [d["ccy"] for d in ok.body["data"][0]["details"]] == ["USDT"]
    refusals = {
        "50113": okx_call(rest, "GET", "/api/v5/account/balance", secret="wrong"),
        "50105": okx_call(rest, "GET", "/api/v5/account/balance", passphrase="wrong"),
        "50111": okx_call(rest, "GET", "/api/v5/account/balance", api_key="unknownKey"),
        "50103": okx_call(rest, "GET", "/api/v5/account/balance", api_key=None),
        "50104": okx_call(rest, "GET", "/api/v5/account/balance", passphrase=None),
        "50102": okx_call(rest, "GET", "/api/v5/account/balance", timestamp=iso_timestamp(time.time() - 60)),
        "50112": okx_call(rest, "GET", "/api/v5/account/balance", timestamp="1700000000000"),
    }
    for code, reply in refusals.items():
        assert (reply.status, reply.body["code"], reply.body["data"]) == (401, code, []), reply.body
    body_signed_wrong = okx_call(rest, "POST", "/api/v5/trade/order", {"instId": "BTC-USDT"}, secret="wrong")
    assert body_signed_wrong.body["code"] == "50113"


def test_order_life_cycle_by_client_order_id(simulator: SimulatorThread) -> None:
    rest, market = simulator.urls["okx"].rest, market_of(simulator)
    order = {
        "instId": market.inst_id,
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "px": market.price_below(Decimal("0.9")),
        "sz": market.size_for(Decimal(20)),
        "clOrdId": "lifecycle1",
        "tag": "strategyA",
    }
    placed = okx_call(rest, "POST", "/api/v5/trade/order", order)
    assert placed.body["code"] == "0", placed.body
    entry = placed.body["data"][0]
    assert (entry["clOrdId"], entry["sCode"], entry["sMsg"], entry["tag"]) == ("lifecycle1", "0", "Order placed", "strategyA")
    order_id = entry["ordId"]

    duplicate = okx_call(rest, "POST", "/api/v5/trade/order", order)
    assert duplicate.body["code"] == "1" and duplicate.body["data"][0]["sCode"] == "51016"

    found = okx_call(rest, "GET", "/api/v5/trade/order", {"instId": market.inst_id, "clOrdId": "lifecycle1"}).body["data"][0]
    assert (found["ordId"], found["state"], found["px"], found["sz"], found["accFillSz"]) == (
        order_id, "live", order["px"], order["sz"], "0"
    )  # fmt: skip
    assert found["tag"] == "strategyA" and found["tdMode"] == "cash" and found["side"] == "buy"
    pending = okx_call(rest, "GET", "/api/v5/trade/orders-pending", {"instId": market.inst_id}).body["data"]
    assert [p["ordId"] for p in pending] == [order_id]
    locked = account_state(simulator, "USDT")[1]
    assert locked >= scaled(order["px"]) * scaled(order["sz"]) // 10**8

    canceled = okx_call(rest, "POST", "/api/v5/trade/cancel-order", {"instId": market.inst_id, "clOrdId": "lifecycle1"})
    assert canceled.body["code"] == "0" and canceled.body["data"][0]["ordId"] == order_id
    assert (
        okx_call(rest, "GET", "/api/v5/trade/order", {"instId": market.inst_id, "ordId": order_id}).body["data"][0]["state"]
        == "canceled"
    )
    again = okx_call(rest, "POST", "/api/v5/trade/cancel-order", {"instId": market.inst_id, "ordId": order_id})
    assert again.body["code"] == "1" and again.body["data"][0]["sCode"] == "51400"
    assert account_state(simulator, "USDT")[1] == 0

    reused = okx_call(rest, "POST", "/api/v5/trade/order", order).body  # a client id is free again once its order is done
    assert reused["code"] == "0" and reused["data"][0]["ordId"] != order_id
    latest = okx_call(rest, "GET", "/api/v5/trade/order", {"instId": market.inst_id, "clOrdId": "lifecycle1"}).body["data"][0]
    assert latest["ordId"] == reused["data"][0]["ordId"] and latest["state"] == "live"
    okx_call(rest, "POST", "/api/v5/trade/cancel-order", {"instId": market.inst_id, "clOrdId": "lifecycle1"})


def test_market_orders_fill_and_fills_and_balance_agree_with_the_account(simulator: SimulatorThread) -> None:
    rest, market = simulator.urls["okx"].rest, market_of(simulator, skip=1)
    base_before = account_state(simulator, market.base)[0]
    quote_before = account_state(simulator, "USDT")[0]
    # a spot market buy is sized in the quote currency by default (tgtCcy quote_ccy)
    buy = {"instId": market.inst_id, "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "50", "clOrdId": "mkt1"}
    placed = okx_call(rest, "POST", "/api/v5/trade/order", buy).body
    assert placed["code"] == "0", placed
    order = okx_call(rest, "GET", "/api/v5/trade/order", {"instId": market.inst_id, "ordId": placed["data"][0]["ordId"]}).body[
        "data"
    ][0]
    assert (
        order["state"] == "filled" and order["tgtCcy"] == "quote_ccy" and order["sz"] == "50" and order["feeCcy"] == market.base
    )
    fills = okx_call(rest, "GET", "/api/v5/trade/fills", {"instType": "SPOT", "ordId": order["ordId"]}).body["data"]
    assert fills and {f["clOrdId"] for f in fills} == {"mkt1"} and all(f["execType"] == "T" for f in fills)
    assert sum(scaled(f["fillSz"]) for f in fills) == scaled(order["accFillSz"])
    spent = sum(scaled(f["fillPx"]) * scaled(f["fillSz"]) // 10**8 for f in fills)
    fees = sum(-scaled(f["fee"]) for f in fills)
    assert spent <= scaled("50") and fees > 0
    assert account_state(simulator, market.base)[0] - base_before == scaled(order["accFillSz"]) - fees
    assert quote_before - account_state(simulator, "USDT")[0] == spent
    history = okx_call(rest, "GET", "/api/v5/trade/fills-history", {"instType": "SPOT", "instId": market.inst_id}).body["data"]
    assert [f["tradeId"] for f in history][: len(fills)] == [f["tradeId"] for f in fills]
    balance = okx_call(rest, "GET", "/api/v5/account/balance", {"ccy": market.base}).body["data"][0]["details"][0]
    assert scaled(balance["availBal"]) == account_state(simulator, market.base)[0] and balance["frozenBal"] == "0"

    sell_size = str((Decimal(order["accFillSz"]) / 2 // market.lot * market.lot).normalize())
    sell = {"instId": market.inst_id, "tdMode": "cash", "side": "sell", "ordType": "market", "sz": sell_size}
    sold = okx_call(rest, "POST", "/api/v5/trade/order", sell).body
    assert sold["code"] == "0" and sold["data"][0]["clOrdId"] == ""
    arrivals = simulator.ground_truth.orders("okx")
    assert [a.order_id for a in arrivals if a.client_order_id == "mkt1"] == [int(order["ordId"])]

    with urllib.request.urlopen(f"{simulator.control_url}/accounts", timeout=10) as response:
        report = json.loads(response.read())["okx"][0]  # the simulator's own books, over the control API
    logged = next(o for o in report["orders"] if o["client_order_id"] == "mkt1")
    assert logged["status"] == "FILLED" and [str(f["trade_id"]) for f in reversed(logged["fills"])] == [
        f["tradeId"] for f in fills
    ]
    assert scaled(report["balances"][market.base]["free"]) == account_state(simulator, market.base)[0]

    with urllib.request.urlopen(f"{simulator.control_url}/ground_truth/orders?exchange=okx", timeout=10) as response:
        logged_arrival = next(o for o in json.loads(response.read())["orders"] if o["client_order_id"] == "mkt1")
    assert logged_arrival["order_id"] == int(order["ordId"]) and logged_arrival["arrival_ns"] > 0
    now_ns = time.time_ns()
    sent = simulator.ground_truth.events("okx", symbol=market.inst_id).emit_ns
    query = json.dumps([["okx", market.inst_id, now_ns], ["okx", market.inst_id, 0]]).encode()
    asked = urllib.request.Request(f"{simulator.control_url}/ground_truth/emits_before", data=query, method="POST")
    with urllib.request.urlopen(asked, timeout=10) as response:
        emitted = json.loads(response.read())["emit_ns"]
    assert emitted == [int(sent[sent <= now_ns][-1]) if (sent <= now_ns).any() else None, None]


def test_refusals_carry_okx_codes(simulator: SimulatorThread) -> None:
    rest, market = simulator.urls["okx"].rest, market_of(simulator)
    base = {"instId": market.inst_id, "tdMode": "cash", "side": "buy", "ordType": "limit", "px": str(market.best_bid)}

    def place(**changes: str | None) -> dict:
        order = {k: v for k, v in {**base, "sz": market.size_for(Decimal(20)), **changes}.items() if v is not None}
        return okx_call(rest, "POST", "/api/v5/trade/order", order).body

    too_big = str((Decimal(2_000_000) / market.best_bid // market.lot * market.lot).normalize())
    insufficient = place(sz=too_big)
    assert insufficient["code"] == "1" and insufficient["data"][0]["sCode"] == "51008"
    assert "Insufficient USDT balance" in insufficient["data"][0]["sMsg"]
    assert place(tdMode=None)["code"] == "50014"
    assert place(tdMode="cross")["code"] == "51000"
    assert place(instId="NOPE-USDT")["code"] == "51001"
    assert place(sz="1e-3")["code"] == "51000"
    assert place(ordType="stop")["code"] == "51000"
    assert place(clOrdId="has-dash")["code"] == "51000"
    off_grid = place(sz=str(market.lot / 2))
    assert off_grid["code"] == "1" and off_grid["data"][0]["sCode"] == "51121"
    missing = okx_call(rest, "GET", "/api/v5/trade/order", {"instId": market.inst_id, "ordId": "42"}).body
    assert (missing["code"], missing["msg"]) == ("51603", "Order does not exist")
    assert okx_call(rest, "GET", "/api/v5/trade/order", {"instId": market.inst_id}).body["code"] == "50014"
    refused = [a for a in simulator.ground_truth.orders("okx") if a.error_code == 51008]
    assert refused and refused[-1].order_id == -1


def test_batch_orders_answer_each_order(simulator: SimulatorThread) -> None:
    rest, market = simulator.urls["okx"].rest, market_of(simulator, skip=2)
    good = {"instId": market.inst_id, "tdMode": "cash", "side": "buy", "ordType": "limit", "px": market.price_below(Decimal("0.9")), "sz": market.size_for(Decimal(20))}  # fmt: skip
    reply = okx_call(rest, "POST", "/api/v5/trade/batch-orders", [{**good, "clOrdId": "b1"}, {**good, "clOrdId": "b1"}]).body
    assert reply["code"] == "2" and [e["sCode"] for e in reply["data"]] == ["0", "51016"]
    okx_call(rest, "POST", "/api/v5/trade/cancel-order", {"instId": market.inst_id, "clOrdId": "b1"})


def test_order_rate_limit_per_instrument_and_the_429_storm_fault(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(exchanges=["okx"], clock="manual", okx={"rest": {"orders": 3}})
    simulator.step(300)
    rest, first, second = simulator.urls["okx"].rest, market_of(simulator), market_of(simulator, skip=1)

    def place(market: Market) -> tuple[int, str]:
        order = {"instId": market.inst_id, "tdMode": "cash", "side": "buy", "ordType": "limit", "px": market.price_below(Decimal("0.9")), "sz": market.size_for(Decimal(20))}  # fmt: skip
        reply = okx_call(rest, "POST", "/api/v5/trade/order", order)
        return reply.status, reply.body["code"]

    answers = [place(first) for _ in range(4)]
    if answers[-1] == (200, "0"):  # the 2 s window turned between the requests: one more fills it
        answers.append(place(first))
    assert answers[0] == (200, "0") and answers[-1] == (429, "50011")
    assert place(second) == (200, "0")  # the limit is per instrument

    storm = simulator.inject_fault(kind="rate_limit", exchange="okx", count=2)
    assert [place(second)[0] for _ in range(2)] == [429, 429]
    refused = simulator.ground_truth.faults("okx", "rate_limit")
    assert len(refused) == 2 and {r.fault_id for r in refused} == {storm}
    assert [a.error_code for a in simulator.ground_truth.orders("okx")[-2:]] == [50011, 50011]
    assert not simulator.call(simulator.simulator.faults.armed)


def test_the_order_flow_rate_is_changed_over_the_control_api(simulator: SimulatorThread) -> None:
    flow = simulator.simulator.world.venues["okx"].flow
    before = flow.rate_per_s

    def put(body: bytes) -> tuple[int, dict]:
        request = urllib.request.Request(f"{simulator.control_url}/order_flow", data=body, method="PUT")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())

    try:
        assert put(b'{"rate": 1234.5}') == (200, {"rate": 1234.5}) and flow.rate_per_s == 1234.5  # okx is the only exchange
        status, answer = put(b'{"rate": -1}')
        assert status == 400 and "not negative" in answer["error"] and flow.rate_per_s == 1234.5
        assert put(b"{}")[0] == 400
        with urllib.request.urlopen(f"{simulator.control_url}/order_flow", timeout=10) as response:
            state = json.loads(response.read())
        assert state["rate"] == 1234.5 and state["lag_s"] >= 0 and state["max_lag_s"] >= state["lag_s"]
    finally:
        simulator.simulator.world.set_order_flow_rate(before)
