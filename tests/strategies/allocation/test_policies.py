"""Allocation policies: exact integer budgets that add up, for fixed, equal-weight and
volatility-targeted splits."""

from __future__ import annotations

import pytest

from strategies.allocation import (
    AllocationError,
    EqualWeightAllocation,
    FixedAllocation,
    Volatility,
    VolatilityTargetedAllocation,
    allocate,
)


def test_fixed_gives_each_strategy_its_amount_and_leaves_the_rest() -> None:
    allocation = allocate(FixedAllocation({"ema": 4_000, "mm": 1_000}), "acc", 10_000, 2, ["ema", "mm", "arb"])
    assert allocation.budgets == {"ema": 4_000, "mm": 1_000, "arb": 0}
    assert allocation.unallocated == 5_000
    assert allocation.budget("unknown") == 0


def test_fixed_may_allocate_exactly_the_capital_but_not_one_unit_more() -> None:
    assert allocate(FixedAllocation({"a": 6_000, "b": 4_000}), "acc", 10_000, 2, ["a", "b"]).unallocated == 0
    with pytest.raises(AllocationError, match="more than the capital"):
        allocate(FixedAllocation({"a": 6_000, "b": 4_001}), "acc", 10_000, 2, ["a", "b"])


def test_fixed_refuses_a_negative_amount() -> None:
    with pytest.raises(AllocationError, match="negative"):
        allocate(FixedAllocation({"a": -1}), "acc", 10, 0, ["a"])


def test_equal_weight_splits_exactly_with_remainder_to_names_in_order() -> None:
    allocation = allocate(EqualWeightAllocation(), "acc", 100, 0, ["c", "a", "b"])
    assert allocation.budgets == {"a": 34, "b": 33, "c": 33}
    assert sum(allocation.budgets.values()) == 100


def test_equal_weight_of_no_strategies_is_empty() -> None:
    assert allocate(EqualWeightAllocation(), "acc", 100, 0, []).budgets == {}


def test_volatility_targeted_is_inverse_to_volatility() -> None:
    volatilities = {"calm": Volatility(10, 2), "wild": Volatility(40, 2)}  # 0.10 and 0.40
    allocation = allocate(VolatilityTargetedAllocation(), "acc", 1_000_000, 2, ["calm", "wild"], volatilities)
    assert allocation.budgets == {"calm": 800_000, "wild": 200_000}
    # the same money volatility each: budget × volatility equal
    assert allocation.budgets["calm"] * 10 == allocation.budgets["wild"] * 40


def test_volatility_targeted_budgets_add_up_to_the_capital_exactly() -> None:
    volatilities = {"a": Volatility(3, 1), "b": Volatility(7, 1), "c": Volatility(11, 1)}
    allocation = allocate(VolatilityTargetedAllocation(), "acc", 1_000_003, 0, ["a", "b", "c"], volatilities)
    assert sum(allocation.budgets.values()) == 1_000_003
    assert allocation.budgets["a"] > allocation.budgets["b"] > allocation.budgets["c"]


def test_volatility_targeted_floors_a_zero_volatility() -> None:
    volatilities = {"flat": Volatility(0, 0), "other": Volatility(1, 6)}
    allocation = allocate(VolatilityTargetedAllocation(floor=Volatility(1, 6)), "acc", 100, 0, ["flat", "other"], volatilities)
    assert allocation.budgets == {"flat": 50, "other": 50}


def test_volatility_targeted_needs_every_volatility() -> None:
    with pytest.raises(AllocationError, match="no realised volatility for strategy 'b'"):
        allocate(VolatilityTargetedAllocation(), "acc", 100, 0, ["a", "b"], {"a": Volatility(1, 1)})


def test_rebalancing_on_new_volatilities_moves_the_budgets() -> None:
    policy = VolatilityTargetedAllocation()
    before = allocate(policy, "acc", 1_000, 0, ["a", "b"], {"a": Volatility(1, 1), "b": Volatility(1, 1)})
    after = allocate(policy, "acc", 1_000, 0, ["a", "b"], {"a": Volatility(1, 1), "b": Volatility(3, 1)})
    assert before.budgets == {"a": 500, "b": 500}
    assert after.budgets == {"a": 750, "b": 250}


def test_allocate_refuses_negative_capital_and_duplicate_names() -> None:
    with pytest.raises(AllocationError, match="negative"):
        allocate(EqualWeightAllocation(), "acc", -1, 0, ["a"])
    with pytest.raises(AllocationError, match="named twice"):
        allocate(EqualWeightAllocation(), "acc", 10, 0, ["a", "a"])
