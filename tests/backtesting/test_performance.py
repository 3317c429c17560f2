"""A replay's performance figures and the gate, on equity curves whose figures are known by hand."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from platform_streams.backtesting.gate import GateThresholds, gate_failures
from platform_streams.backtesting.performance import drawdowns, performance, returns
from platform_streams.backtesting.replay_chain import EquitySample, ReplayRecord


def record(equities: list[int | Fraction], **counts: object) -> ReplayRecord:
    fields: dict = dict(
        capital=Fraction(100), quote="USDT", events=10, intents=4, orders=4, rejections={"price_band": 1}, fills=[],
        traded_notional=Fraction(250), fees=Fraction(3, 7), realized=Fraction(0), closing_fills=4, winning_fills=3,
        snapshot=b"",
    )  # fmt: skip
    fields.update(counts)
    return ReplayRecord(samples=[EquitySample(i * 60 * 10**9, Fraction(e)) for i, e in enumerate(equities)], **fields)


def test_returns_drawdown_and_ratios_of_a_known_curve() -> None:
    curve = record([100, 110, 99, 120, 108])
    assert returns(curve.samples) == [0.1, -0.1, float(Fraction(120, 99) - 1), -0.1]  # each exact, then rounded once
    assert drawdowns(curve.samples) == [0.0, 0.0, 0.1, 0.0, 0.1]
    found = performance(curve, 60)
    rs = returns(curve.samples)
    mean = sum(rs) / 4
    stdev = math.sqrt(sum((r - mean) ** 2 for r in rs) / 3)
    downside = math.sqrt(sum(min(r, 0) ** 2 for r in rs) / 4)
    per_year = math.sqrt(365 * 86_400 / 60)
    assert found.total_return == 0.08 and found.max_drawdown == 0.1
    assert math.isclose(found.sharpe, mean / stdev * per_year) and math.isclose(found.sortino, mean / downside * per_year)
    assert found.turnover == 2.5 and found.hit_rate == 0.75 and found.rejections == 1
    assert found.fees == Decimal("0.42857143") and found.pnl == Decimal("8.00000000")


def test_a_flat_or_rising_curve_has_no_drawdown_and_no_ratio_from_nothing() -> None:
    flat = performance(record([100, 100, 100], closing_fills=0, winning_fills=0), 60)
    assert (flat.sharpe, flat.sortino, flat.max_drawdown, flat.hit_rate, flat.total_return) == (0.0, 0.0, 0.0, 0.0, 0.0)
    rising = performance(record([100, 101, 103]), 60)
    assert rising.sortino == 0.0 and rising.sharpe > 0 and rising.max_drawdown == 0.0


def test_the_gate_names_each_threshold_missed() -> None:
    found = performance(record([100, 110, 99, 120, 108]), 60)
    assert gate_failures(found, GateThresholds()) == []
    assert gate_failures(found, GateThresholds(min_total_return=0.05, max_drawdown=0.2, min_fills=0)) == []
    missed = gate_failures(found, GateThresholds(min_total_return=0.1, max_drawdown=0.05, min_hit_rate=0.8, max_rejections=0))
    assert missed == [
        "total_return 0.08 < min_total_return 0.1",
        "hit_rate 0.75 < min_hit_rate 0.8",
        "max_drawdown 0.1 > max_drawdown 0.05",
        "rejections 1 > max_rejections 0",
    ]
