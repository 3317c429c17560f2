"""A backtest's gate: thresholds its performance must meet before a strategy version goes further
(to paper, then live). Pure: the promotion pipeline and the backtest asset's check use it."""

from __future__ import annotations

import msgspec

from platform_streams.backtesting.performance import Performance


class GateThresholds(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a backtest must show; a threshold left None is not checked."""

    min_total_return: float | None = None
    min_sharpe: float | None = None
    min_sortino: float | None = None
    max_drawdown: float | None = None
    min_hit_rate: float | None = None
    min_fills: int | None = None
    max_rejections: int | None = None


def gate_failures(found: Performance, thresholds: GateThresholds) -> list[str]:
    """Each threshold ``found`` misses, as ``"sharpe 0.41 < min_sharpe 1.0"``; empty when it passes."""
    failures: list[str] = []
    minimums = {
        "total_return": thresholds.min_total_return, "sharpe": thresholds.min_sharpe,
        "sortino": thresholds.min_sortino, "hit_rate": thresholds.min_hit_rate, "fills": thresholds.min_fills,
    }  # fmt: skip
    for name, minimum in minimums.items():
        value = getattr(found, name)
        if minimum is not None and value < minimum:
            failures.append(f"{name} {value:.6g} < min_{name} {minimum:g}")
    if thresholds.max_drawdown is not None and found.max_drawdown > thresholds.max_drawdown:
        failures.append(f"max_drawdown {found.max_drawdown:.6g} > max_drawdown {thresholds.max_drawdown:g}")
    if thresholds.max_rejections is not None and found.rejections > thresholds.max_rejections:
        failures.append(f"rejections {found.rejections} > max_rejections {thresholds.max_rejections}")
    return failures
