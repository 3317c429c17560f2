"""The market maker: quotes on the tick grid around the mid, skewed against its inventory, sized
within max_inventory, re-quoted when the mid moves or a fill changes the position."""

from __future__ import annotations

from platform_streams.schemas import Side
from strategies.intents import CancelQuotes, Quote
from strategies.market_maker import InventorySkewedMarketMaker
from tests.strategies.market import bbo, driver_for, fill, instrument, run

KEY = "binance:BTC/USDT"
REFERENCE = [instrument(tick=5, lot=10)]  # ticks of 0.05, lots of 0.001
PARAMETERS = {"half_spread_bps": "10", "skew_bps": "10", "requote_bps": "2", "quote_size": "0.1", "max_inventory": "0.2"}


def maker():  # type: ignore[no-untyped-def]
    return driver_for(InventorySkewedMarketMaker, PARAMETERS, REFERENCE)


def prices(intents: list) -> list:
    return [(i.side, i.price, i.size) if type(i) is Quote else (i.side, "cancel") for i in intents]


def test_quotes_both_sides_around_the_mid_on_the_tick_grid() -> None:
    intents = run(maker(), [bbo(100_00, 100_10, 1)])
    # mid 100.05 ± 10 bps = 99.949.. / 100.150..: the bid rounds down, the ask up, to 0.05 ticks
    assert prices(intents) == [(Side.BUY, 99_90, 1000), (Side.SELL, 100_20, 1000)]
    assert all(i.price % 5 == 0 and i.size % 10 == 0 for i in intents)


def test_requotes_only_when_the_mid_moves_by_requote_bps() -> None:
    mm = maker()
    run(mm, [bbo(100_00, 100_10, 1)])
    assert run(mm, [bbo(100_00, 100_10, 2), bbo(100_01, 100_11, 3)]) == []  # 1 bp: stays
    assert prices(run(mm, [bbo(100_10, 100_20, 4)])) == [(Side.BUY, 100_00, 1000), (Side.SELL, 100_30, 1000)]


def test_inventory_skews_both_quotes_down_and_stops_buying_at_the_limit() -> None:
    mm = maker()
    run(mm, [bbo(100_00, 100_10, 1)])
    after_one = run(mm, [fill(Side.BUY, 99_90, 1000, 2)])  # long 0.1 of 0.2: reservation 5 bps lower
    assert prices(after_one) == [(Side.BUY, 99_85, 1000), (Side.SELL, 100_10, 1000)]
    after_two = run(mm, [fill(Side.BUY, 99_85, 1000, 3)])  # long 0.2: full, no more bids; 10 bps lower
    # the ask (99.95 × 1.001 = 100.05) sits one tick over the best bid; quote_size, though 0.4 could be sold
    assert after_two == [CancelQuotes(KEY, Side.BUY, "inventory full"), Quote(KEY, Side.SELL, 100_05, 1000, after_two[1].reason)]


def test_quotes_never_cross_the_book() -> None:
    # a 1-tick-wide book and a wide skew: the bid stays under the ask and the ask over the bid
    mm = driver_for(InventorySkewedMarketMaker, {**PARAMETERS, "half_spread_bps": "0.1"}, REFERENCE)
    intents = run(mm, [bbo(100_00, 100_05, 1)])
    bid, ask = intents[0].price, intents[1].price
    assert bid <= 100_00 and ask >= 100_05 and bid < ask


def test_a_one_sided_book_withdraws_the_quotes() -> None:
    mm = maker()
    run(mm, [bbo(100_00, 100_10, 1)])
    assert run(mm, [bbo(100_00, 0, 2)]) == [CancelQuotes(KEY, Side.UNKNOWN, "one-sided book")]
    assert run(mm, [bbo(0, 0, 3)]) == []
