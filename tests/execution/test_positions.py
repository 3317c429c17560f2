"""Positions from fills: exact weighted-average cost, realised and unrealised PnL, fees, dedupe."""

from __future__ import annotations

import random
from fractions import Fraction

from platform_streams.execution.positions import AVERAGE_PRICE_EXTRA_DIGITS, MAX_PNL_SCALE, PositionBook, PositionState
from platform_streams.schemas import Fill, Liquidity, Position, Side, TypedDecoder, encode


def fill(fill_id: str, side: Side, price: int, size: int, fee: int = 0, *, price_scale: int = 2, size_scale: int = 3,
         account: str = "acct", fee_asset: str = "USDT", fee_scale: int = 5) -> Fill:  # fmt: skip
    return Fill(
        fill_id=fill_id, client_order_id=f"c-{fill_id}", exchange_order_id=f"x-{fill_id}", account=account,
        exchange="binance", symbol="BTC/USDT", side=side, price=price, size=size, price_scale=price_scale,
        size_scale=size_scale, fee=fee, fee_scale=fee_scale, fee_asset=fee_asset, liquidity=Liquidity.TAKER,
        exchange_ts_ns=int(fill_id) if fill_id.isdigit() else 0, receive_ts_ns=0,
    )  # fmt: skip


def test_adding_averages_and_reducing_realises_against_the_average() -> None:
    book = PositionBook()
    book.apply(fill("1", Side.BUY, 10_000, 1_000))  # 1 @ 100.00
    book.apply(fill("2", Side.BUY, 10_100, 2_000))  # 2 @ 101.00: average 100.666…
    position = book.apply(fill("3", Side.SELL, 10_200, 1_500))  # 1.5 @ 102.00
    assert position is not None
    # realised (102 - 302/3) × 1.5 = 2 exactly; 1.5 stays open at the same average
    assert (position.size, position.size_scale) == (1_500, 3)
    assert (position.realized_pnl, position.pnl_scale) == (2 * 10**5, 5)
    assert position.price_scale == 2 + AVERAGE_PRICE_EXTRA_DIGITS
    assert position.average_price == 100_666_667  # 100.666667, rounded half to even at 6 digits
    assert position.version == 3


def test_a_fill_through_zero_closes_and_opens_the_other_side_at_its_price() -> None:
    state = PositionState("acct", "binance", "BTC/USDT")
    state.apply(fill("1", Side.BUY, 10_000, 1_000))
    state.apply(fill("2", Side.SELL, 11_000, 3_000))  # closes 1 (+10), opens 2 short at 110
    assert (state.size, state.average_price, state.realized) == (Fraction(-2), Fraction(110), Fraction(10))
    state.apply(fill("3", Side.BUY, 10_500, 1_000))  # buys back 1 of the short at 105: +5
    assert (state.size, state.average_price, state.realized) == (Fraction(-1), Fraction(110), Fraction(15))
    state.set_mark(10_000, 2)
    assert state.unrealized == Fraction(10)  # short 1 from 110, marked at 100
    assert state.snapshot().unrealized_pnl == 10 * 10**5


def test_the_same_fill_twice_is_applied_once_and_fees_add_up_per_asset() -> None:
    book = PositionBook()
    assert book.apply(fill("1", Side.BUY, 10_000, 1_000, fee=10_000)) is not None  # 0.1 USDT
    assert book.apply(fill("1", Side.BUY, 10_000, 1_000, fee=10_000)) is None
    position = book.apply(fill("2", Side.BUY, 10_000, 1_000, fee=75, fee_asset="BNB", fee_scale=8))
    assert position is not None and position.size == 2_000 and position.version == 2
    assert [(f.asset, f.amount, f.scale) for f in position.fees] == [("BNB", 75, 8), ("USDT", 10_000, 5)]


def test_accounts_are_kept_apart_and_marks_reach_every_holder() -> None:
    book = PositionBook()
    book.apply(fill("1", Side.BUY, 10_000, 1_000, account="a"))
    book.apply(fill("2", Side.SELL, 10_000, 1_000, account="b"))
    moved = book.mark("binance", "BTC/USDT", 10_100, 2)
    assert {(s.account, s.unrealized) for s in moved} == {("a", Fraction(1)), ("b", Fraction(-1))}
    assert len(book) == 2 and book.get("a", "binance", "BTC/USDT") is not None


def test_pnl_is_exact_over_many_random_fills() -> None:
    """Realised + unrealised equals the cash the fills moved plus the open size at the mark, exactly."""
    rng = random.Random(7)
    state = PositionState("acct", "binance", "ETH/USDT")
    cash = Fraction(0)
    for i in range(2_000):
        side = rng.choice((Side.BUY, Side.SELL))
        price, size = rng.randint(150_000, 250_000), rng.randint(1, 5_000)  # 1500.00-2500.00, 0.001-5.000
        state.apply(fill(str(i), side, price, size))
        cash += Fraction(price * size, 10**5) * (-1 if side is Side.BUY else 1)
    state.set_mark(200_000, 2)
    assert state.realized + state.unrealized == cash + state.size * 2000


def test_a_large_pnl_at_fine_scales_still_fits_the_wire_rounded_half_to_even_at_the_pnl_scale() -> None:
    """Binance quotes 8 price and 8 size decimals: at 16 decimals a PnL past 922 USDT would not fit
    a 64-bit mantissa, so the published PnL stops at MAX_PNL_SCALE digits."""
    book = PositionBook()
    book.apply(fill("1", Side.BUY, 100_000_00000001, 10 * 10**8, price_scale=8, size_scale=8))  # 10 @ 100000.00000001
    position = book.apply(fill("2", Side.SELL, 112_000_00000000, 5 * 10**8 + 3, price_scale=8, size_scale=8))
    assert position is not None and position.pnl_scale == MAX_PNL_SCALE
    # (112000 − 100000.00000001) × 5.00000003 = 60000.0003599499999997 exactly: 60000.00035995 at 8 digits
    assert position.realized_pnl == 60_000_00035995
    assert TypedDecoder(Position).decode(encode(position)) == position


def test_the_two_fills_of_a_self_trade_both_count_and_each_only_once() -> None:
    """A buy and a sell of the account that traded with each other: one trade id, two fills."""
    book = PositionBook()
    book.apply(fill("7", Side.SELL, 10_000, 1_000))
    position = book.apply(fill("7", Side.BUY, 10_000, 1_000))
    assert position is not None and position.size == 0 and position.version == 2
    assert book.apply(fill("7", Side.BUY, 10_000, 1_000)) is None  # heard again: nothing changes
