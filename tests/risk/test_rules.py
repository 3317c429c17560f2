"""Each pre-trade rule at its boundary: exactly at the limit passes, one tick beyond fails."""

from __future__ import annotations

from fractions import Fraction

from platform_streams.risk.rules import (
    check_daily_loss,
    check_kill_switch,
    check_open_orders,
    check_order_notional,
    check_position,
    check_position_notional,
    check_price_band,
)

TICK = Fraction(1, 100)  # one cent
LOT = Fraction(1, 1000)


def test_kill_switch() -> None:
    assert check_kill_switch(None) is None
    breach = check_kill_switch("account:main", "manual")
    assert breach is not None and breach.rule == "kill_switch" and "account:main: manual" in breach.detail


def test_order_notional_at_the_limit_passes_and_a_cent_over_fails() -> None:
    assert check_order_notional(Fraction(1000), Fraction(1000)) is None
    breach = check_order_notional(Fraction(1000) + TICK, Fraction(1000))
    assert breach is not None and breach.rule == "max_order_notional"
    assert check_order_notional(Fraction(10**9), None) is None


def test_open_orders_counts_this_order() -> None:
    assert check_open_orders(4, 5, "account main") is None
    breach = check_open_orders(5, 5, "account main")
    assert breach is not None and breach.rule == "max_open_orders" and "account main has 5" in breach.detail
    assert check_open_orders(0, 0, "deployment ema") is not None
    assert check_open_orders(10**6, None, "x") is None


def test_price_band_at_its_edge_passes_and_one_tick_beyond_fails() -> None:
    mid = Fraction(100)
    band = 50  # 0.5 % of 100 = 0.50
    assert check_price_band(Fraction(10050, 100), mid, band) is None
    assert check_price_band(Fraction(9950, 100), mid, band) is None
    above = check_price_band(Fraction(10050, 100) + TICK, mid, band)
    below = check_price_band(Fraction(9950, 100) - TICK, mid, band)
    assert above is not None and above.rule == "price_band"
    assert below is not None and below.rule == "price_band"


def test_price_band_needs_a_mid_but_not_a_price() -> None:
    no_mid = check_price_band(Fraction(100), None, 50)
    assert no_mid is not None and no_mid.rule == "no_market_price"
    assert check_price_band(None, Fraction(100), 50) is None  # a market order
    assert check_price_band(Fraction(1), None, None) is None


def test_position_at_the_limit_passes_and_one_lot_beyond_fails_either_way() -> None:
    limit = Fraction(1, 2)
    assert check_position(Fraction(0), limit, limit) is None
    assert check_position(Fraction(0), -limit, limit) is None
    over = check_position(Fraction(0), limit + LOT, limit)
    under = check_position(Fraction(0), -limit - LOT, limit)
    assert over is not None and over.rule == "max_position"
    assert under is not None and under.rule == "max_position"


def test_an_order_towards_flat_passes_even_above_the_limit() -> None:
    assert check_position(Fraction(2), Fraction(3, 2), Fraction(1, 2)) is None
    assert check_position(Fraction(2), Fraction(2) + LOT, Fraction(1, 2)) is not None


def test_position_notional_at_the_limit_passes() -> None:
    price = Fraction(20_000)
    assert check_position_notional(Fraction(0), Fraction(1, 2), price, Fraction(10_000)) is None
    breach = check_position_notional(Fraction(0), Fraction(1, 2) + LOT, price, Fraction(10_000))
    assert breach is not None and breach.rule == "max_position_notional"
    assert check_position_notional(Fraction(1), Fraction(-1, 2), price, Fraction(1)) is None


def test_daily_loss_exactly_at_the_limit_passes_a_cent_more_fails_unless_reducing() -> None:
    limit = Fraction(100)
    assert check_daily_loss(Fraction(-100), limit, reduces_position=False) is None
    breach = check_daily_loss(Fraction(-100) - TICK, limit, reduces_position=False)
    assert breach is not None and breach.rule == "max_daily_loss"
    assert check_daily_loss(Fraction(-100) - TICK, limit, reduces_position=True) is None
    assert check_daily_loss(Fraction(-(10**6)), None, reduces_position=False) is None
