"""Indicators in batch over polars frames, for the control plane's recomputation from stored candles.

The batch form runs the very kernels the stream runs (``IndicatorEngine``), row by row over each
instrument's rows in time order, so its values equal the stream's exactly, bit for bit: one
definition, no second implementation to drift. A frame is the events' own fields as columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from platform_streams.processing.indicator_engine import IndicatorEngine
from platform_streams.processing.indicators.registry import IndicatorSpec, ResolvedSpec, resolve
from platform_streams.schemas import BestBidOffer, Candle, IndicatorValue

CANDLE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "exchange": pl.String,
    "symbol": pl.String,
    "interval_s": pl.Int64,
    "open_ts_ns": pl.Int64,
    "open": pl.Int64,
    "high": pl.Int64,
    "low": pl.Int64,
    "close": pl.Int64,
    "volume": pl.Int64,
    "trade_count": pl.Int64,
    "price_scale": pl.Int64,
    "size_scale": pl.Int64,
}
BBO_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "exchange": pl.String,
    "symbol": pl.String,
    "exchange_ts_ns": pl.Int64,
    "receive_ts_ns": pl.Int64,
    "sequence": pl.Int64,
    "bid_price": pl.Int64,
    "bid_size": pl.Int64,
    "ask_price": pl.Int64,
    "ask_size": pl.Int64,
    "price_scale": pl.Int64,
    "size_scale": pl.Int64,
}
INDICATOR_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "exchange": pl.String,
    "symbol": pl.String,
    "indicator": pl.String,
    "parameters": pl.String,
    "interval_s": pl.Int64,
    "exchange_ts_ns": pl.Int64,
    "value": pl.Int64,
    "value_scale": pl.Int64,
}


def candles_frame(candles: Iterable[Candle]) -> pl.DataFrame:
    """Candles as a frame with ``CANDLE_SCHEMA``'s columns (mantissas with their scales)."""
    return pl.DataFrame([{name: getattr(candle, name) for name in CANDLE_SCHEMA} for candle in candles], schema=CANDLE_SCHEMA)


def bbo_frame(quotes: Iterable[BestBidOffer]) -> pl.DataFrame:
    """Tops of book as a frame with ``BBO_SCHEMA``'s columns."""
    return pl.DataFrame([{name: getattr(quote, name) for name in BBO_SCHEMA} for quote in quotes], schema=BBO_SCHEMA)


def indicator_values_frame(values: Iterable[IndicatorValue]) -> pl.DataFrame:
    """Indicator values (from the stream) as a frame with ``INDICATOR_SCHEMA``'s columns."""
    return pl.DataFrame([{name: getattr(value, name) for name in INDICATOR_SCHEMA} for value in values], schema=INDICATOR_SCHEMA)


def compute_indicators(frame: pl.DataFrame, specs: Sequence[IndicatorSpec | ResolvedSpec]) -> pl.DataFrame:
    """The candle indicators of ``specs`` over a frame of closed candles (``CANDLE_SCHEMA``; any row
    order, several instruments and intervals): one row per published value, ``INDICATOR_SCHEMA``."""
    engine = IndicatorEngine(_resolved(specs))
    ordered = frame.sort("exchange", "symbol", "interval_s", "open_ts_ns")
    values: list[IndicatorValue] = []
    on_candle = engine.on_candle
    for row in ordered.select(*CANDLE_SCHEMA).iter_rows():
        values.extend(on_candle(Candle(row[0], row[1], 0, 0, 0, *row[2:9], row[9], True, row[10], row[11])))
    return indicator_values_frame(values)


def compute_book_indicators(frame: pl.DataFrame, specs: Sequence[IndicatorSpec | ResolvedSpec]) -> pl.DataFrame:
    """The top-of-book indicators of ``specs`` (imbalance, cross-exchange spread) over a frame of tops
    of book (``BBO_SCHEMA``) in the order given, which must be the order they happened in (the stream's
    order, or sorted by receive time): a spread depends on how the two exchanges' quotes interleave."""
    engine = IndicatorEngine(_resolved(specs))
    values: list[IndicatorValue] = []
    for row in frame.select(*BBO_SCHEMA).iter_rows():
        values.extend(engine.on_bbo(BestBidOffer(*row)))
    return indicator_values_frame(values)


def _resolved(specs: Sequence[IndicatorSpec | ResolvedSpec]) -> list[ResolvedSpec]:
    return [spec if isinstance(spec, ResolvedSpec) else resolve(spec) for spec in specs]
