"""Every indicator by its configuration name, and the spec that configures one in a deployment."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from platform_streams.processing.indicators.averages import (
    ExponentialMovingAverage,
    SimpleMovingAverage,
    VolumeWeightedAveragePrice,
)
from platform_streams.processing.indicators.base import (
    BookIndicator,
    CandleIndicator,
    Indicator,
    IndicatorParameterError,
    Parameters,
)
from platform_streams.processing.indicators.book import CrossExchangeSpread, OrderBookImbalance
from platform_streams.processing.indicators.momentum import RelativeStrengthIndex
from platform_streams.processing.indicators.volatility import AverageTrueRange, BollingerBands, RealisedVolatility

INDICATORS: Mapping[str, type[Indicator]] = {
    kind.name: kind
    for kind in (
        SimpleMovingAverage,
        ExponentialMovingAverage,
        VolumeWeightedAveragePrice,
        RelativeStrengthIndex,
        AverageTrueRange,
        BollingerBands,
        RealisedVolatility,
        OrderBookImbalance,
        CrossExchangeSpread,
    )
}


class IndicatorSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One configured indicator: ``{indicator: ema, params: {period: 20}, interval_s: 60}``.

    Candle indicators run on closed candles of ``interval_s`` of every instrument matching one of
    ``instruments`` (shell patterns on ``exchange:symbol``); book indicators on each top of book of
    those instruments (``interval_s`` 0); ``cross_spread`` names its pair in its parameters."""

    indicator: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    interval_s: int = 0
    instruments: list[str] = msgspec.field(default_factory=lambda: ["*"])


class ResolvedSpec(msgspec.Struct, frozen=True):
    """A spec checked against the library: its class and validated parameters."""

    kind: type[Indicator]
    parameters: Parameters
    parameters_text: str
    interval_s: int
    instruments: tuple[str, ...]

    def matches(self, key: str) -> bool:
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in self.instruments)

    def build(self) -> Indicator:
        return self.kind(self.parameters)


def resolve(spec: IndicatorSpec) -> ResolvedSpec:
    """Check a spec: a known indicator, valid parameters, an interval that fits its input."""
    kind = INDICATORS.get(spec.indicator)
    if kind is None:
        raise IndicatorParameterError(f"unknown indicator {spec.indicator!r}; known: {', '.join(sorted(INDICATORS))}")
    parameters = kind.parse_parameters(spec.params)
    if issubclass(kind, CandleIndicator) and spec.interval_s <= 0:
        raise IndicatorParameterError(f"indicator {spec.indicator!r} runs on candles: interval_s must be positive")
    if not issubclass(kind, CandleIndicator) and spec.interval_s != 0:
        raise IndicatorParameterError(f"indicator {spec.indicator!r} runs on every top of book: interval_s must be 0")
    return ResolvedSpec(kind, parameters, parameters.text(), spec.interval_s, tuple(spec.instruments))


def resolve_all(specs: Sequence[IndicatorSpec]) -> list[ResolvedSpec]:
    return [resolve(spec) for spec in specs]


__all__ = ["INDICATORS", "BookIndicator", "CandleIndicator", "IndicatorSpec", "ResolvedSpec", "resolve", "resolve_all"]
