"""Kill-switch scopes are validated; budgets come from each account's allocation policy."""

from __future__ import annotations

from fractions import Fraction

import pytest

from platform_streams.risk.budgets import AccountAllocationSettings, BudgetError, PolicyName, deployment_budgets
from platform_streams.risk.kill_switch import KillSwitchError, KillSwitches
from tests.risk.factories import halt


def test_an_unknown_scope_is_refused() -> None:
    switches = KillSwitches()
    with pytest.raises(KillSwitchError, match="'desk:fx'"):
        switches.apply(halt("desk:fx"))
    with pytest.raises(KillSwitchError):
        switches.apply(halt("account:"))


def test_covering_finds_the_widest_halt() -> None:
    switches = KillSwitches()
    assert switches.covering("main", "ema-btc", "ema") is None
    switches.apply(halt("strategy:ema"))
    covering = switches.covering("main", "ema-btc", "ema")
    assert covering is not None and covering.scope == "strategy:ema"
    assert switches.covering("main", "mm-btc", "mm") is None


def test_equal_weight_and_fixed_budgets() -> None:
    budgets = deployment_budgets(
        {
            "main": AccountAllocationSettings(capital="1000.5", deployments=["a", "b"]),
            "side": AccountAllocationSettings(capital="100", policy=PolicyName.FIXED, deployments=["c"], fixed={"c": "12.25"}),
        }
    )
    assert budgets == {("main", "a"): Fraction(5003, 10), ("main", "b"): Fraction(5002, 10), ("side", "c"): Fraction(49, 4)}


def test_volatility_targeted_budgets() -> None:
    settings = AccountAllocationSettings(
        capital="900", policy=PolicyName.VOLATILITY_TARGETED, deployments=["a", "b"], volatilities={"a": "0.1", "b": "0.2"}
    )
    assert deployment_budgets({"main": settings}) == {("main", "a"): 600, ("main", "b"): 300}


def test_bad_allocations_name_the_account() -> None:
    with pytest.raises(BudgetError, match="allocations.main.capital"):
        deployment_budgets({"main": AccountAllocationSettings(capital="lots", deployments=["a"])})
    with pytest.raises(BudgetError, match="allocations.main: fixed budgets total"):
        deployment_budgets(
            {"main": AccountAllocationSettings(capital="1", policy=PolicyName.FIXED, deployments=["a"], fixed={"a": "2"})}
        )
