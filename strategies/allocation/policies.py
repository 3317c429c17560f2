"""Allocation policies: each turns an account's total capital into per-strategy budgets.

Capital and budgets are integer mantissas at the capital's scale (the account's quote asset),
never floats: a policy computes exact fractional shares and hands out the units left after
flooring by largest remainder (ties by strategy name), so the budgets add up to exactly what the
policy allocates and the same inputs always give the same budgets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import msgspec
from quicktions import Fraction


class AllocationError(ValueError):
    """A policy's inputs cannot give budgets (a missing volatility, more fixed budget than capital)."""


class Volatility(msgspec.Struct, frozen=True):
    """A strategy's realised volatility as fixed point (``value × 10^-scale``), as the realised
    volatility indicator publishes it (``IndicatorValue.value`` / ``value_scale``)."""

    value: int
    scale: int

    def as_fraction(self) -> Fraction:
        return Fraction(self.value, 10**self.scale)


class Allocation(msgspec.Struct, frozen=True):
    """The budgets of one account's strategies, mantissas at ``scale`` (the capital's)."""

    account: str
    capital: int
    scale: int
    budgets: dict[str, int]

    def budget(self, strategy: str) -> int:
        """The strategy's budget; a strategy the allocation does not name gets nothing."""
        return self.budgets.get(strategy, 0)

    @property
    def unallocated(self) -> int:
        return self.capital - sum(self.budgets.values())


class AllocationPolicy(Protocol):
    """Splits ``capital`` among ``strategies``; ``volatilities`` only for policies that use them."""

    def budgets(self, capital: int, strategies: Sequence[str], volatilities: Mapping[str, Volatility]) -> dict[str, int]: ...


class FixedAllocation(msgspec.Struct, frozen=True):
    """Each strategy gets the amount set for it (mantissas at the capital's scale); a strategy
    without one gets nothing, and the amounts together may not exceed the capital."""

    amounts: dict[str, int]

    def budgets(self, capital: int, strategies: Sequence[str], volatilities: Mapping[str, Volatility]) -> dict[str, int]:
        for strategy, amount in self.amounts.items():
            if amount < 0:
                raise AllocationError(f"fixed budget of {strategy!r} is negative: {amount}")
        budgets = {strategy: self.amounts.get(strategy, 0) for strategy in strategies}
        total = sum(budgets.values())
        if total > capital:
            raise AllocationError(f"fixed budgets total {total}, more than the capital {capital}")
        return budgets


class EqualWeightAllocation(msgspec.Struct, frozen=True):
    """Every strategy gets the same share of the capital."""

    def budgets(self, capital: int, strategies: Sequence[str], volatilities: Mapping[str, Volatility]) -> dict[str, int]:
        return apportion(capital, dict.fromkeys(strategies, Fraction(1)))


class VolatilityTargetedAllocation(msgspec.Struct, frozen=True):
    """Volatility-targeted: budgets inversely proportional to each strategy's realised volatility,
    so every strategy carries the same volatility in money (budget × volatility is equal across
    them). ``floor`` bounds a volatility from below, so a strategy that has barely moved yet does
    not take the whole capital."""

    floor: Volatility = Volatility(1, 6)

    def budgets(self, capital: int, strategies: Sequence[str], volatilities: Mapping[str, Volatility]) -> dict[str, int]:
        floor = self.floor.as_fraction()
        if floor <= 0:
            raise AllocationError(f"volatility floor must be positive, got {floor}")
        weights: dict[str, Fraction] = {}
        for strategy in strategies:
            volatility = volatilities.get(strategy)
            if volatility is None:
                raise AllocationError(f"no realised volatility for strategy {strategy!r}")
            if volatility.value < 0:
                raise AllocationError(f"realised volatility of {strategy!r} is negative: {volatility.as_fraction()}")
            weights[strategy] = 1 / max(volatility.as_fraction(), floor)
        return apportion(capital, weights)


def apportion(total: int, weights: Mapping[str, Fraction]) -> dict[str, int]:
    """Split ``total`` units in proportion to ``weights`` exactly: floor every share, then give the
    units left one each to the largest remainders (ties by name)."""
    if total < 0:
        raise AllocationError(f"capital is negative: {total}")
    weight_sum = sum(weights.values(), Fraction(0))
    if not weights or weight_sum == 0:
        return dict.fromkeys(weights, 0)
    shares = {name: total * weight / weight_sum for name, weight in weights.items()}
    budgets = {name: share.numerator // share.denominator for name, share in shares.items()}
    left = total - sum(budgets.values())
    by_remainder = sorted(shares, key=lambda name: (-(shares[name] - budgets[name]), name))
    for name in by_remainder[:left]:
        budgets[name] += 1
    return budgets


def allocate(
    policy: AllocationPolicy,
    account: str,
    capital: int,
    scale: int,
    strategies: Sequence[str],
    volatilities: Mapping[str, Volatility] | None = None,
) -> Allocation:
    """Rebalance: the budgets ``policy`` gives ``strategies`` out of ``account``'s ``capital`` now."""
    if capital < 0:
        raise AllocationError(f"capital of account {account!r} is negative: {capital}")
    if len(set(strategies)) != len(strategies):
        raise AllocationError(f"strategies named twice in account {account!r}: {sorted(strategies)}")
    budgets = policy.budgets(capital, strategies, volatilities or {})
    return Allocation(account=account, capital=capital, scale=scale, budgets=budgets)
