"""Declared parameters: values converted and checked, a bad one named in a clear error."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from strategies.catalog import STRATEGIES, UnknownStrategy, strategy_class
from strategies.cross_exchange_arbitrage import CrossExchangeArbitrage
from strategies.ema_crossover import EmaCrossover
from strategies.parameters import ParameterError


def test_defaults_fill_in_and_decimals_stay_exact() -> None:
    values = EmaCrossover.validate({"position_size": "0.1"})
    assert values.fast_period == 12 and values.slow_period == 26 and values.allow_short is True
    assert values.position_size == Decimal("0.1") and type(values.position_size) is Decimal


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"position_size": "0.1", "fast_period": 0}, "'fast_period' = 0 is below its minimum 1"),
        ({"position_size": "0.1", "slow_period": 20_000}, "'slow_period' = 20000 is above its maximum 10000"),
        ({"position_size": "0.1", "fast_period": "12"}, "'fast_period' must be an integer, got '12'"),
        ({"position_size": 0.1}, "'position_size' must be a decimal string or an integer"),
        ({"position_size": "0"}, "'position_size' = 0 must be above 0"),
        ({"position_size": "abc"}, "'position_size' must be a decimal number"),
        ({}, "'position_size' is required"),
        ({"position_size": "1", "fast_perod": 3}, "'fast_perod' is not a parameter of this strategy"),
        ({"position_size": "1", "allow_short": "yes"}, "'allow_short' must be true or false"),
        ({"position_size": "1", "fast_period": 30, "slow_period": 20}, "'fast_period' = 30 must be below slow_period = 20"),
    ],
)
def test_a_bad_parameter_is_an_error_naming_it(given: dict, message: str) -> None:
    with pytest.raises(ParameterError, match="^ema-crossover: parameter " + re.escape(message)) as caught:
        EmaCrossover.validate(given)
    assert caught.value.strategy == "ema-crossover"


def test_parameter_values_are_read_only() -> None:
    values = EmaCrossover.validate({"position_size": "1"})
    with pytest.raises(AttributeError):
        values.fast_period = 3  # type: ignore[misc]


def test_every_shipped_strategy_declares_a_name_version_and_documented_parameters() -> None:
    assert set(STRATEGIES) == {"ema-crossover", "mean-reversion", "cross-exchange-arbitrage", "inventory-market-maker"}
    for name, cls in STRATEGIES.items():
        assert cls.name == name and cls.version
        assert all(parameter.doc for parameter in cls.parameters.values())


def test_a_strategy_can_be_named_by_import_path_and_a_wrong_name_is_refused() -> None:
    assert strategy_class("strategies.ema_crossover:EmaCrossover") is EmaCrossover
    with pytest.raises(UnknownStrategy, match="unknown strategy 'nope'"):
        strategy_class("nope")
    with pytest.raises(UnknownStrategy, match="is not a Strategy subclass"):
        strategy_class("strategies.parameters:ParameterError")


def test_arbitrage_needs_two_instruments_on_two_exchanges() -> None:
    CrossExchangeArbitrage.check_instruments(["binance:BTC/USDT", "okx:BTC/USDT"])
    with pytest.raises(ValueError, match="exactly two instruments on two exchanges"):
        CrossExchangeArbitrage.check_instruments(["binance:BTC/USDT", "binance:ETH/USDT"])
