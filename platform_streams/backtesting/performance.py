"""A replay's performance: total return, Sharpe, Sortino, maximum drawdown, turnover, hit rate and
fees, from its equity samples and fills. Pure; ratios are floats (not money), amounts exact."""

from __future__ import annotations

import math
from decimal import Decimal

import msgspec
from quicktions import Fraction

from platform_streams.backtesting.replay_chain import EquitySample, ReplayRecord

SECONDS_PER_YEAR = 365 * 86_400  # crypto trades every day
AMOUNT_DIGITS = Decimal("0.00000001")


class Performance(msgspec.Struct, frozen=True):
    """The figures a backtest is judged by (and a promotion gate compares against thresholds)."""

    total_return: float  # final equity / capital − 1
    sharpe: float  # annualised: mean / stdev of the per-sample returns × √(samples a year)
    sortino: float  # the same over the downside deviation (returns below zero)
    max_drawdown: float  # the largest fall from a running peak of equity, as a fraction of the peak
    turnover: float  # traded notional / capital
    hit_rate: float  # of the fills that closed a position, the share that realised a gain
    fees: Decimal  # quote asset, to 8 decimals
    pnl: Decimal  # final equity − capital, fees included, to 8 decimals
    fills: int
    orders: int
    rejections: int


def returns(samples: list[EquitySample]) -> list[float]:
    """Each sample's return over the one before (samples with no equity before are skipped)."""
    return [float(b.equity / a.equity - 1) for a, b in zip(samples, samples[1:], strict=False) if a.equity > 0]


def drawdowns(samples: list[EquitySample]) -> list[float]:
    """At each sample, how far equity is below its running peak, as a fraction of the peak."""
    peak, found = Fraction(0), []
    for sample in samples:
        peak = max(peak, sample.equity)
        found.append(float((peak - sample.equity) / peak) if peak > 0 else 0.0)
    return found


def performance(record: ReplayRecord, sample_interval_s: int) -> Performance:
    """The figures of ``record`` whose equity was sampled every ``sample_interval_s``."""
    found = returns(record.samples)
    per_year = math.sqrt(SECONDS_PER_YEAR / sample_interval_s)
    mean = sum(found) / len(found) if found else 0.0
    deviation = math.sqrt(sum((r - mean) ** 2 for r in found) / (len(found) - 1)) if len(found) > 1 else 0.0
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in found) / len(found)) if found else 0.0
    final = record.samples[-1].equity if record.samples else record.capital
    return Performance(
        total_return=float(final / record.capital - 1),
        sharpe=mean / deviation * per_year if deviation else 0.0,
        sortino=mean / downside * per_year if downside else 0.0,
        max_drawdown=max(drawdowns(record.samples), default=0.0),
        turnover=float(record.traded_notional / record.capital),
        hit_rate=record.winning_fills / record.closing_fills if record.closing_fills else 0.0,
        fees=exact_amount(record.fees),
        pnl=exact_amount(final - record.capital),
        fills=len(record.fills),
        orders=record.orders,
        rejections=sum(record.rejections.values()),
    )


def exact_amount(value: Fraction) -> Decimal:
    """An exact amount shown to 8 decimals (an average entry price may have no finite decimal form)."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(AMOUNT_DIGITS)
