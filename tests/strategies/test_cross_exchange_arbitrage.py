"""Cross-exchange arbitrage: both legs at once when the edge beats fees and threshold, sized by the
touch and by each leg's inventory room, across exchanges with different scales."""

from __future__ import annotations

from platform_streams.schemas import Side
from strategies.cross_exchange_arbitrage import CrossExchangeArbitrage
from strategies.intents import TargetPosition
from tests.strategies.market import bbo, driver_for, fill, instrument, run

BINANCE, OKX = "binance:BTC/USDT", "okx:BTC/USDT"
# binance: prices at 2 decimals, sizes at 4, lots of 0.001; okx: prices at 1 decimal, sizes at 3, lots of 0.001
REFERENCE = [instrument("binance", price_scale=2, size_scale=4, lot=10), instrument("okx", price_scale=1, size_scale=3, lot=1)]
PARAMETERS = {"fee_bps": "10", "threshold_bps": "5", "trade_size": "0.5", "max_inventory": "1"}


def okx_bbo(bid: int, ask: int, i: int, **sizes: int):  # type: ignore[no-untyped-def]
    return bbo(bid, ask, i, key=OKX, price_scale=1, size_scale=3, **sizes)


def driver():  # type: ignore[no-untyped-def]
    return driver_for(CrossExchangeArbitrage, PARAMETERS, REFERENCE, instruments=[BINANCE, OKX])


def test_buys_the_cheap_leg_and_sells_the_rich_one_at_their_touches() -> None:
    arbitrage = driver()
    intents = run(arbitrage, [bbo(100_00, 100_10, 1), okx_bbo(101_0, 101_2, 2)])  # 100.10 vs 101.0: 89.9 bps
    assert intents == [
        TargetPosition(BINANCE, 5000, 100_10, intents[0].reason),  # +0.5 at 4 decimals
        TargetPosition(OKX, -500, 101_0, intents[0].reason),  # -0.5 at 3 decimals
    ]
    assert intents[0].reason.startswith("edge 89.91 bps > 25 bps")


def test_the_other_direction() -> None:
    intents = run(driver(), [bbo(102_00, 102_10, 1), okx_bbo(100_0, 100_5, 2)])
    assert [(i.instrument, i.size, i.limit_price) for i in intents] == [(OKX, 500, 100_5), (BINANCE, -5000, 102_00)]


def test_no_trade_when_the_edge_does_not_beat_fees_and_threshold() -> None:
    # 100.10 → 100.3 is 19.98 bps, under 2 × 10 + 5
    assert run(driver(), [bbo(100_00, 100_10, 1), okx_bbo(100_3, 100_4, 2)]) == []


def test_quantity_is_limited_by_the_touch_and_rounded_to_both_lots() -> None:
    intents = run(driver(), [bbo(100_00, 100_10, 1, ask_size=1234), okx_bbo(101_0, 101_2, 2)])  # 0.1234 offered
    assert [(i.instrument, i.size) for i in intents] == [(BINANCE, 1230), (OKX, -123)]


def test_inventory_room_bounds_the_legs_and_repeating_the_signal_repeats_the_targets() -> None:
    arbitrage = driver()
    first = run(arbitrage, [bbo(100_00, 100_10, 1), okx_bbo(101_0, 101_2, 2)])
    again = run(arbitrage, [bbo(100_00, 100_10, 3)])  # no fill yet: the same targets, nothing added
    assert [(i.instrument, i.size) for i in again] == [(i.instrument, i.size) for i in first]
    # the test's fills are at 4 decimals: okx's is rescaled to its 3
    run(arbitrage, [fill(Side.BUY, 100_10, 5000, 4, key=BINANCE), fill(Side.SELL, 101_00, 5000, 4, key=OKX)])
    assert arbitrage.context.position(OKX) == -500 and arbitrage.context.position(BINANCE) == 5000
    more = run(arbitrage, [bbo(100_00, 100_10, 5)])
    assert [(i.instrument, i.size) for i in more] == [(BINANCE, 10000), (OKX, -1000)]  # up to max_inventory 1
    run(arbitrage, [fill(Side.BUY, 100_10, 5000, 6, key=BINANCE), fill(Side.SELL, 101_00, 5000, 6, key=OKX)])
    assert run(arbitrage, [bbo(100_00, 100_10, 7)]) == []  # both legs full


def test_an_empty_side_forgets_the_leg() -> None:
    arbitrage = driver()
    assert run(arbitrage, [okx_bbo(101_0, 101_2, 1), bbo(100_00, 0, 2), bbo(0, 0, 3)]) == []
