"""Per-deployment budgets from each account's capital and allocation policy, as configured for the
risk daemon (the policies themselves are in :mod:`strategies.allocation`)."""

from __future__ import annotations

import enum

import msgspec
from quicktions import Fraction

from platform_streams.schemas.fixed_point import FixedPointError, parse_at_scale, parse_decimal
from strategies.allocation import (
    AllocationError,
    AllocationPolicy,
    EqualWeightAllocation,
    FixedAllocation,
    Volatility,
    VolatilityTargetedAllocation,
    allocate,
)


class PolicyName(enum.Enum):
    FIXED = "fixed"
    EQUAL_WEIGHT = "equal_weight"
    VOLATILITY_TARGETED = "volatility_targeted"


class AccountAllocationSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One account's capital (quote units, decimal text) and how it is split among its deployments.

    ``fixed`` holds each deployment's amount (policy ``fixed``); ``volatilities`` each deployment's
    realised volatility as decimal text (policy ``volatility_targeted``; a restart with new values
    rebalances)."""

    capital: str
    policy: PolicyName = PolicyName.EQUAL_WEIGHT
    deployments: list[str]
    fixed: dict[str, str] = {}
    volatilities: dict[str, str] = {}


class BudgetError(ValueError):
    """An account's allocation cannot be computed; the message names the account and field."""


def _policy(account: str, settings: AccountAllocationSettings, scale: int) -> tuple[AllocationPolicy, dict[str, Volatility]]:
    try:
        if settings.policy is PolicyName.FIXED:
            return FixedAllocation({name: parse_at_scale(text, scale) for name, text in settings.fixed.items()}), {}
        if settings.policy is PolicyName.VOLATILITY_TARGETED:
            return VolatilityTargetedAllocation(), {
                name: Volatility(*parse_decimal(text)) for name, text in settings.volatilities.items()
            }
    except FixedPointError as exc:
        raise BudgetError(f"allocations.{account}: {exc}") from None
    return EqualWeightAllocation(), {}


def deployment_budgets(allocations: dict[str, AccountAllocationSettings]) -> dict[tuple[str, str], Fraction]:
    """(account, deployment) → budget in quote units; a deployment not named has no budget limit."""
    budgets: dict[tuple[str, str], Fraction] = {}
    for account, settings in allocations.items():
        try:
            _, scale = parse_decimal(settings.capital)
        except FixedPointError as exc:
            raise BudgetError(f"allocations.{account}.capital: {exc}") from None
        fixed_scales = [parse_decimal(text)[1] for text in settings.fixed.values() if text]
        scale = max([scale, *fixed_scales])
        capital = parse_at_scale(settings.capital, scale)
        policy, volatilities = _policy(account, settings, scale)
        try:
            allocation = allocate(policy, account, capital, scale, settings.deployments, volatilities)
        except AllocationError as exc:
            raise BudgetError(f"allocations.{account}: {exc}") from None
        for deployment, amount in allocation.budgets.items():
            budgets[(account, deployment)] = Fraction(amount, 10**scale)
    return budgets
