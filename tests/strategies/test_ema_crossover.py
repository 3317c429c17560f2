"""EMA crossover: one target per crossing, after warm-up, on closed bars of its interval only."""

from __future__ import annotations

from strategies.ema_crossover import EmaCrossover
from strategies.intents import TargetPosition
from tests.strategies.market import candle, closes, driver_for, instrument, run

PARAMETERS = {"fast_period": 2, "slow_period": 4, "position_size": "0.5"}


def test_goes_long_on_the_upward_crossing_and_short_on_the_downward_one() -> None:
    driver = driver_for(EmaCrossover, PARAMETERS, [instrument()])
    intents = run(driver, closes([100_00, 100_00, 100_00, 100_00, 101_00, 102_00, 103_00, 99_00, 95_00, 94_00]))
    assert [(i.size, i.limit_price) for i in intents] == [(5000, None), (-5000, None)]
    assert all(type(i) is TargetPosition and i.instrument == "binance:BTC/USDT" for i in intents)
    assert intents[0].reason == "ema2 above ema4" and intents[1].reason == "ema2 below ema4"


def test_nothing_before_the_slow_average_is_warm_and_nothing_on_a_flat_market() -> None:
    driver = driver_for(EmaCrossover, PARAMETERS, [instrument()])
    assert run(driver, closes([100_00, 101_00, 102_00])) == []  # rising, but only 3 bars of 4
    assert run(driver_for(EmaCrossover, PARAMETERS, [instrument()]), closes([100_00] * 20)) == []


def test_repeats_no_target_while_the_trend_holds() -> None:
    driver = driver_for(EmaCrossover, PARAMETERS, [instrument()])
    intents = run(driver, closes([100_00 + 50 * i for i in range(30)]))
    assert [i.size for i in intents] == [5000]


def test_without_shorting_the_downward_crossing_goes_flat() -> None:
    driver = driver_for(EmaCrossover, {**PARAMETERS, "allow_short": False}, [instrument()])
    intents = run(driver, closes([100_00] * 4 + [101_00, 102_00, 90_00, 80_00]))
    assert [i.size for i in intents] == [5000, 0]


def test_ignores_open_bars_other_intervals_and_other_instruments() -> None:
    driver = driver_for(EmaCrossover, PARAMETERS, [instrument(), instrument("okx")], instruments=["binance:BTC/USDT"])
    noise = [candle(100_00 + i * 100, i, closed=False) for i in range(10)]
    noise += [candle(100_00 + i * 100, i, interval_s=1) for i in range(10)]
    noise += [candle(100_00 + i * 100, i, key="okx:BTC/USDT") for i in range(10)]
    assert run(driver, noise) == []


def test_size_is_rounded_down_to_whole_lots() -> None:
    driver = driver_for(EmaCrossover, {**PARAMETERS, "position_size": "0.12345"}, [instrument(lot=100)])
    intents = run(driver, closes([100_00] * 4 + [101_00, 102_00]))
    assert [i.size for i in intents] == [1200]  # 0.12345 at 4 decimals is 1234, down to lots of 100
