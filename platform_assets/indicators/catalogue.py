"""Which indicators the control plane recomputes, and the code version of each one's definition.

The catalogue is the candle indicators the processing daemons of ``deployments/market-data.yaml``
run on one-minute candles: the stream and the assets recompute the same set, from one definition.
An indicator's code version is a digest of the source its values depend on (its kernel class and
parameters, the indicator base, the engine that publishes values, and the batch driver), so editing
EMA's kernel stales the EMA asset in the Dagster UI and leaves the others fresh.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from pathlib import Path

import msgspec

from platform_streams.embedded.paths import REPOSITORY_ROOT
from platform_streams.processing import batch, indicator_engine
from platform_streams.processing.indicators import base
from platform_streams.processing.indicators.base import CandleIndicator
from platform_streams.processing.indicators.registry import IndicatorSpec, ResolvedSpec, resolve
from platform_streams.supervisor.spec import load_spec

MARKET_DATA_DEPLOYMENT = REPOSITORY_ROOT / "deployments" / "market-data.yaml"
STORED_INTERVAL_S = 60
"""The interval of the candles the sinks store (``candles``): the only one recomputed from."""
WINDOW_KINDS = frozenset({"sma", "vwap", "bollinger", "realised_volatility"})
"""Indicators whose value depends on their last ``period`` candles only (plus one close for a
return): ``period + 1`` candles before a day make a partition's values exact."""
RECURSIVE_WARMUP_PERIODS = 30
"""Candles per unit of ``period`` read before a day for every other indicator (EMA, RSI, ATR: their
value depends on all history, decaying by (1 − α) per candle): after 30 periods what the start
contributes is below 1e-13 of it (Wilder, α = 1/14: (13/14)^420), far under the published digits,
so the values equal those of a stream that ran from the start."""
_PIPELINE_VERSION = "1"  # the asset's own reading and storing; bump when it changes what is stored


def stream_indicator_specs(deployment: Path = MARKET_DATA_DEPLOYMENT) -> list[IndicatorSpec]:
    """The candle indicators of ``deployment``'s processing daemons at the stored interval, once each."""
    specs: list[IndicatorSpec] = []
    for daemon in load_spec(deployment).daemons:
        if daemon.kind != "processing":
            continue
        # load_spec validated the daemon's settings (ProcessingSettings), indicators included
        for entry in msgspec.convert(daemon.config.get("indicators", []), list[IndicatorSpec]):
            resolved = resolve(entry)
            if issubclass(resolved.kind, CandleIndicator) and entry.interval_s == STORED_INTERVAL_S and entry not in specs:
                specs.append(entry)
    return specs


def asset_name(spec: ResolvedSpec) -> str:
    """``ema_period20_60s``: the indicator, its parameters and interval, as an asset name."""
    parameters = "_".join(f"{field}{_name_text(getattr(spec.parameters, field))}" for field in spec.parameters.__struct_fields__)
    return "_".join(part for part in (spec.kind.name, parameters, f"{spec.interval_s}s") if part)


def _name_text(value: object) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in (format(value, "g") if isinstance(value, float) else str(value)))


@functools.cache
def _shared_sources() -> tuple[str, ...]:
    """What every indicator's values depend on beside its own kernel (read once per process)."""
    return inspect.getsource(base), inspect.getsource(indicator_engine), inspect.getsource(batch), _PIPELINE_VERSION


def code_version(spec: ResolvedSpec) -> str:
    """A digest of everything ``spec``'s values depend on; changes when its definition does."""
    sources = [inspect.getsource(spec.kind), inspect.getsource(spec.kind.parameters_type), *_shared_sources()]
    return hashlib.sha256("\0".join(sources).encode()).hexdigest()[:12]


def warmup_candles(spec: ResolvedSpec) -> int:
    """How many candles before a day a partition reads to warm ``spec`` up."""
    period = int(getattr(spec.parameters, "period", 20))
    return period + 1 if spec.kind.name in WINDOW_KINDS else RECURSIVE_WARMUP_PERIODS * period + 1
