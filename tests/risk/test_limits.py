"""Risk limits: validated at start with errors that name the field; the most specific scope wins."""

from __future__ import annotations

from fractions import Fraction

import msgspec
import pytest

from platform_streams.risk.limits import Limits, RiskLimits, RiskLimitsError, RiskLimitsSettings


def test_most_specific_scope_wins_field_by_field() -> None:
    limits = RiskLimits(
        RiskLimitsSettings(
            default=Limits(max_order_notional="100", max_open_orders=10, price_band_bps=100, max_daily_loss="50"),
            accounts={"main": Limits(max_order_notional="200", max_open_orders=3)},
            deployments={"ema": Limits(max_order_notional="300", max_daily_loss="7.5", max_open_orders=2)},
            instruments={"binance:BTC/USDT": Limits(max_position="0.5", price_band_bps=20)},
        )
    )
    order = limits.for_order("main", "ema", "binance:BTC/USDT")
    assert order.max_order_notional == 300
    assert order.max_daily_loss == Fraction(15, 2)
    assert order.max_position == Fraction(1, 2)
    assert order.price_band_bps == 20
    assert order.account_max_open_orders == 3
    assert order.deployment_max_open_orders == 2
    other = limits.for_order("other", "mm", "okx:ETH/USDT")
    assert (other.max_order_notional, other.max_daily_loss, other.max_position, other.price_band_bps) == (100, 50, None, 100)
    assert other.account_max_open_orders == 10 and other.deployment_max_open_orders is None


def test_a_strategy_s_limits_apply_to_each_of_its_deployments_unless_the_deployment_has_its_own() -> None:
    limits = RiskLimits(
        RiskLimitsSettings(
            default=Limits(max_daily_loss="50", max_order_notional="100"),
            strategies={"mm": Limits(max_daily_loss="20", max_open_orders=4, max_order_notional="60")},
            deployments={"mm-eth": Limits(max_daily_loss="5")},
        )
    )
    btc = limits.for_order("main", "mm-btc", "binance:BTC/USDT", "mm")
    eth = limits.for_order("main", "mm-eth", "binance:ETH/USDT", "mm")
    assert (btc.max_daily_loss, btc.deployment_max_open_orders, btc.max_order_notional) == (20, 4, 60)
    assert (eth.max_daily_loss, eth.deployment_max_open_orders) == (5, 4)
    assert limits.for_order("main", "ema-btc", "binance:BTC/USDT", "ema").max_daily_loss == 50


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (RiskLimitsSettings(accounts={"main": Limits(max_order_notional="ten")}), "accounts.main.max_order_notional"),
        (RiskLimitsSettings(deployments={"ema": Limits(max_daily_loss="-5")}), "deployments.ema.max_daily_loss must be positive"),
        (RiskLimitsSettings(default=Limits(price_band_bps=0)), "default.price_band_bps must be in 1..10000"),
        (RiskLimitsSettings(default=Limits(max_open_orders=-1)), "default.max_open_orders"),
        (RiskLimitsSettings(instruments={"BTCUSDT": Limits(max_position="1")}), "instruments.BTCUSDT"),
    ],
)
def test_bad_limits_are_refused_naming_the_field(settings: RiskLimitsSettings, message: str) -> None:
    with pytest.raises(RiskLimitsError, match=message):
        RiskLimits(settings)


def test_an_unknown_field_is_refused_when_settings_are_read() -> None:
    with pytest.raises(msgspec.ValidationError, match="max_positon"):
        msgspec.convert({"default": {"max_positon": "1"}}, RiskLimitsSettings)


def test_defaults_are_set() -> None:
    order = RiskLimits(RiskLimitsSettings()).for_order("a", "d", "x:y")
    assert order.max_order_notional is not None and order.max_daily_loss is not None
    assert order.price_band_bps is not None and order.account_max_open_orders is not None
