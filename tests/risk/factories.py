"""Canonical events for risk tests, with the fields a test does not care about filled in."""

from __future__ import annotations

from platform_streams.risk.client_order_id import client_order_id
from platform_streams.schemas import (
    BestBidOffer,
    Fill,
    Instrument,
    IntentKind,
    Liquidity,
    OrderEvent,
    OrderStatus,
    RiskControl,
    Side,
    StrategyIntent,
)

# prices at 2 decimals (tick 0.01), sizes at 4 (lot 0.001, min 0.001), min notional 5 USDT
BTC = Instrument("binance", "BTC/USDT", "BTCUSDT", "BTC", "USDT", 2, 4, tick_size=1, lot_size=10, min_size=10, min_notional=5)
DAY_NS = 86_400 * 10**9
NOW_NS = 20_000 * DAY_NS + 3_600 * 10**9  # 01:00 UTC on day 20000


def intent(
    intent_id: str,
    target: int,
    price: int | None = 2_000_000,
    *,
    deployment: str = "ema-btc",
    account: str = "main",
    strategy: str = "ema",
    kind: IntentKind = IntentKind.TARGET,
    side: Side = Side.UNKNOWN,
    quote_size: int = 0,
    epoch: int = 0,
) -> StrategyIntent:
    """An intent at BTC's scales: ``target`` in 0.0001 BTC, ``price`` in cents."""
    return StrategyIntent(
        intent_id, strategy, "1", "binance", "BTC/USDT", side, target, price, 2, 4, "test", NOW_NS, NOW_NS - 1_000, [],
        kind=kind, quote_size=quote_size, deployment=deployment, account=account, epoch=epoch,
    )  # fmt: skip


def bbo(bid: int, ask: int, sequence: int = 1) -> BestBidOffer:
    return BestBidOffer("binance", "BTC/USDT", NOW_NS, NOW_NS, sequence, bid, 10_000, ask, 10_000, 2, 4)


def fill(
    fill_id: str,
    side: Side,
    price: int,
    size: int,
    *,
    deployment: str = "ema-btc",
    account: str = "main",
    fee: int = 0,
    ts_ns: int = NOW_NS,
) -> Fill:
    order_id = client_order_id(deployment, f"intent-of-{fill_id}")
    return Fill(
        fill_id,
        order_id,
        "x1",
        account,
        "binance",
        "BTC/USDT",
        side,
        price,
        size,
        2,
        4,
        fee,
        2,
        "USDT",
        Liquidity.TAKER,
        ts_ns,
        ts_ns,
    )


def order_event(
    order_id: str, status: OrderStatus, side: Side, size: int, filled: int, sequence: int = 1, account: str = "main"
) -> OrderEvent:
    return OrderEvent(
        order_id, "x1", account, "binance", "BTC/USDT", status, side, 2_000_000, size, filled, 2, 4, "", NOW_NS, NOW_NS, sequence
    )


def halt(scope: str, halted: bool = True, ts_ns: int = NOW_NS) -> RiskControl:
    return RiskControl(scope, halted, "test halt", "tester", ts_ns)
