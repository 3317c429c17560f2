"""Z-score mean reversion: against a stretched price, flat once it is back near its mean."""

from __future__ import annotations

from strategies.intents import TargetPosition
from strategies.mean_reversion import MeanReversion
from tests.strategies.market import closes, driver_for, instrument, run

PARAMETERS = {"window": 5, "entry_z": "1.5", "exit_z": "0.6", "position_size": "1"}


def test_shorts_a_spike_and_flattens_when_the_price_comes_back() -> None:
    driver = driver_for(MeanReversion, PARAMETERS, [instrument()])
    intents = run(driver, closes([100_00, 101_00, 99_00, 100_00, 101_00, 130_00, 100_00]))
    assert [i.size for i in intents] == [-10000, 0]  # z ≈ +2.0 at 130, then ≈ -0.5
    assert all(type(i) is TargetPosition for i in intents)
    assert intents[0].reason == "z=2.00"


def test_buys_a_dip() -> None:
    driver = driver_for(MeanReversion, PARAMETERS, [instrument()])
    assert [i.size for i in run(driver, closes([100_00, 101_00, 99_00, 100_00, 101_00, 70_00]))] == [10000]


def test_holds_between_exit_and_entry_and_waits_for_a_full_window() -> None:
    driver = driver_for(MeanReversion, PARAMETERS, [instrument()])
    assert run(driver, closes([100_00, 101_00, 99_00, 130_00])) == []  # window not full yet
    driver = driver_for(MeanReversion, PARAMETERS, [instrument()])
    intents = run(driver, closes([100_00, 101_00, 99_00, 100_00, 101_00, 130_00, 118_00]))
    assert [i.size for i in intents] == [-10000]  # 118 is still rich: hold the short


def test_a_flat_market_has_no_deviation_and_no_signal() -> None:
    assert run(driver_for(MeanReversion, PARAMETERS, [instrument()]), closes([100_00] * 12)) == []


def test_without_shorting_a_spike_means_flat() -> None:
    driver = driver_for(MeanReversion, {**PARAMETERS, "allow_short": False}, [instrument()])
    assert run(driver, closes([100_00, 101_00, 99_00, 100_00, 101_00, 130_00])) == []
