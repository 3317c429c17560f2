"""Capital allocation: how an account's capital is split into per-strategy budgets (fixed,
equal-weight, volatility-targeted), recomputed on demand; pure, no Kafka or Dagster."""

from strategies.allocation.policies import (
    Allocation,
    AllocationError,
    AllocationPolicy,
    EqualWeightAllocation,
    FixedAllocation,
    Volatility,
    VolatilityTargetedAllocation,
    allocate,
)

__all__ = [
    "Allocation",
    "AllocationError",
    "AllocationPolicy",
    "EqualWeightAllocation",
    "FixedAllocation",
    "Volatility",
    "VolatilityTargetedAllocation",
    "allocate",
]
