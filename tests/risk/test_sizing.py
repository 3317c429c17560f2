"""Sizing: tick rounding in the safe direction, whole lots, minimum size and notional, the budget,
and a target position as the difference from the expected position; exact integers throughout."""

from __future__ import annotations

from fractions import Fraction

import msgspec

from platform_streams.risk.rules import Breach
from platform_streams.risk.sizing import SizedOrder, size_intent
from platform_streams.schemas import Instrument, IntentKind, OrderType, Side, StrategyIntent, TimeInForce

# BTC/USDT: prices at 2 decimals with a 0.10 tick, sizes at 5 decimals in lots of 0.001, min 0.002, min notional 10 USDT
BTC = Instrument(
    "binance",
    "BTC/USDT",
    "BTCUSDT",
    "BTC",
    "USDT",
    2,
    5,
    tick_size=10,
    lot_size=100,
    min_size=200,
    min_notional=10,
    min_notional_scale=0,
)


def intent(
    target: int = 0,
    price: int | None = 2_000_005,
    *,
    kind: IntentKind = IntentKind.TARGET,
    side: Side = Side.UNKNOWN,
    quote_size: int = 0,
    price_scale: int = 3,
    size_scale: int = 5,
) -> StrategyIntent:
    return StrategyIntent(
        "i-1", "ema", "1", "binance", "BTC/USDT", side, target, price, price_scale, size_scale, "test", 1, 1, [],
        kind=kind, quote_size=quote_size, deployment="ema-btc", account="main",
    )  # fmt: skip


def sized(result: object) -> SizedOrder:
    assert isinstance(result, SizedOrder), result
    return result


def breach(result: object) -> str:
    assert isinstance(result, Breach), result
    return result.rule


def test_a_buy_rounds_its_price_down_to_the_tick_and_a_sell_up() -> None:
    # 2000.005 at scale 3 → 2000.00 for a buy, 2000.10 for a sell on a 0.10 tick
    buy = sized(size_intent(intent(target=1_000), BTC, Fraction(0), None, None))
    assert (buy.side, buy.price, buy.size, buy.order_type, buy.time_in_force) == (
        Side.BUY,
        200_000,
        1_000,
        OrderType.LIMIT,
        TimeInForce.GTC,
    )
    sell = sized(size_intent(intent(target=-1_000), BTC, Fraction(0), None, None))
    assert (sell.side, sell.price, sell.size) == (Side.SELL, 200_010, 1_000)
    assert sell.notional == Fraction(200_010 * 1_000, 10**7)


def test_a_price_already_on_the_tick_is_kept() -> None:
    order = sized(size_intent(intent(target=1_000, price=2_000_100), BTC, Fraction(0), None, None))
    assert order.price == 200_010


def test_a_target_is_the_difference_from_the_expected_position() -> None:
    order = sized(size_intent(intent(target=1_000), BTC, Fraction(300, 10**5), None, None))
    assert (order.side, order.size) == (Side.BUY, 700)
    order = sized(size_intent(intent(target=0), BTC, Fraction(1_500, 10**5), None, None))
    assert (order.side, order.size) == (Side.SELL, 1_500)
    assert size_intent(intent(target=1_000), BTC, Fraction(1_000, 10**5), None, None) is None


def test_size_rounds_down_to_whole_lots() -> None:
    assert sized(size_intent(intent(target=1_099), BTC, Fraction(0), None, None)).size == 1_000


def test_less_than_a_lot_or_the_minimum_size_is_refused() -> None:
    assert breach(size_intent(intent(target=99), BTC, Fraction(0), None, None)) == "below_lot"
    assert breach(size_intent(intent(target=199), BTC, Fraction(0), None, None)) == "min_size"  # one lot of 0.001
    no_min_notional = msgspec.structs.replace(BTC, min_notional=0)
    assert sized(size_intent(intent(target=200), no_min_notional, Fraction(0), None, None)).size == 200


def test_min_notional_exactly_passes_and_a_lot_less_fails() -> None:
    # at 2000.00, 0.005 BTC is exactly 10 USDT; 0.004 is 8
    assert sized(size_intent(intent(target=500, price=2_000_000), BTC, Fraction(0), None, None)).notional == 10
    assert breach(size_intent(intent(target=400, price=2_000_000), BTC, Fraction(0), None, None)) == "min_notional"


def test_a_market_order_is_valued_at_the_mid_and_needs_one() -> None:
    order = sized(size_intent(intent(target=1_000, price=None), BTC, Fraction(0), Fraction(2_000), None))
    assert (order.order_type, order.time_in_force, order.price, order.notional) == (OrderType.MARKET, TimeInForce.IOC, None, 20)
    assert breach(size_intent(intent(target=1_000, price=None), BTC, Fraction(0), None, None)) == "no_market_price"


def test_the_budget_clips_the_size_to_whole_lots() -> None:
    # budget 25 USDT at 2000.00: at most 0.0125 BTC → 0.012 in lots
    order = sized(size_intent(intent(target=5_000, price=2_000_000), BTC, Fraction(0), None, Fraction(25)))
    assert order.size == 1_200
    # budget 100 and already long 0.0405: room for 0.0095 more → 0.009 in lots
    order = sized(size_intent(intent(target=9_000, price=2_000_000), BTC, Fraction(405, 10**4), None, Fraction(100)))
    assert order.size == 900
    # at the budget already: no room to buy, but selling is never limited by it
    assert breach(size_intent(intent(target=5_000, price=2_000_000), BTC, Fraction(125, 10**4), None, Fraction(25))) == "budget"
    assert (
        sized(size_intent(intent(target=0, price=2_000_000), BTC, Fraction(125, 10**4), None, Fraction(25))).size == 1_200
    )  # whole lots


def test_a_quote_is_its_own_size_on_its_side() -> None:
    quote = intent(kind=IntentKind.QUOTE, side=Side.SELL, quote_size=1_000, price=2_000_005)
    order = sized(size_intent(quote, BTC, Fraction(5), None, None))
    assert (order.side, order.size, order.price) == (Side.SELL, 1_000, 200_010)
    assert (
        breach(size_intent(intent(kind=IntentKind.QUOTE, side=Side.UNKNOWN, quote_size=300), BTC, Fraction(0), None, None))
        == "bad_intent"
    )


def test_a_non_positive_price_is_refused() -> None:
    assert breach(size_intent(intent(target=1_000, price=5), BTC, Fraction(0), None, None)) == "bad_price"
