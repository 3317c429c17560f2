"""Incremental (the stream's processor, trade by trade) against batch (``compute_indicators`` over a
polars frame of the closed candles) on random and on real recorded data: equal, value for value.
And the kernels' maths against polars' own rolling functions, independently, within float rounding."""

from __future__ import annotations

import functools
import random

import polars as pl
import pytest

from platform_streams.exchanges.binance.parser import BinanceParser
from platform_streams.processing.batch import (
    bbo_frame,
    candles_frame,
    compute_book_indicators,
    compute_indicators,
    indicator_values_frame,
)
from platform_streams.processing.candles import CandleFolder
from platform_streams.processing.indicators import IndicatorSpec, resolve_all
from platform_streams.processing.processor import Processor
from platform_streams.schemas import BestBidOffer, Candle, IndicatorValue, Trade
from tests.exchanges.captures import read_capture
from tests.processing.trade_samples import T0, random_trades

BTCUSDT_2024 = "binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz"
TEN_SYMBOLS = "binance/2021-04-05_cryptofeed_spot_10sym.jsonl"


def candle_specs(interval_s: int) -> list[IndicatorSpec]:
    return [
        IndicatorSpec("sma", {"period": 5}, interval_s),
        IndicatorSpec("ema", {"period": 5}, interval_s),
        IndicatorSpec("rsi", {"period": 4}, interval_s),
        IndicatorSpec("atr", {"period": 4}, interval_s),
        IndicatorSpec("vwap", {"period": 3}, interval_s),
        IndicatorSpec("bollinger", {"period": 5, "k": 2}, interval_s),
        IndicatorSpec("realised_volatility", {"period": 4}, interval_s),
    ]


def stream(trades: list[Trade], specs: list[IndicatorSpec], intervals: list[int]) -> tuple[list[Candle], list[IndicatorValue]]:
    processor = Processor(CandleFolder(intervals, publish_first=True), resolve_all(specs))
    events = [event for trade in trades for event in processor.on_trade(trade)]
    events += processor.on_clock(T0 + 10**18)  # the clock closes the last candles
    return [e for e in events if isinstance(e, Candle)], [e for e in events if isinstance(e, IndicatorValue)]


def sort(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("exchange", "symbol", "indicator", "parameters", "interval_s", "exchange_ts_ns")


def assert_parity(trades: list[Trade], specs: list[IndicatorSpec], intervals: list[int], minimum_values: int) -> None:
    candles, values = stream(trades, specs, intervals)
    streamed = sort(indicator_values_frame(values))
    batch = sort(compute_indicators(candles_frame(candles), specs))
    assert streamed.height >= minimum_values
    assert streamed.equals(batch)


@pytest.mark.parametrize("seed", range(3))
def test_random_trades_stream_equals_batch(seed: int) -> None:
    trades = random_trades(random.Random(seed), 20_000, symbols=("A/USD", "B/USD", "C/USD"), span_s=600)
    specs = candle_specs(1) + candle_specs(60)
    assert_parity(trades, specs, [1, 60], minimum_values=10_000)


@functools.cache
def recorded_binance(capture: str) -> tuple[list[Trade], list[BestBidOffer]]:
    parser = BinanceParser()
    trades: list[Trade] = []
    quotes: list[BestBidOffer] = []
    for record in read_capture(capture):
        if record.direction != "in":
            continue
        for event in parser.parse(record.frame, record.receive_ts_ns):
            if isinstance(event, Trade):
                trades.append(event)
            elif isinstance(event, BestBidOffer):
                quotes.append(event)
    return trades, quotes


@pytest.mark.parametrize("capture", [BTCUSDT_2024, TEN_SYMBOLS])
def test_recorded_trades_stream_equals_batch(capture: str) -> None:
    trades, _quotes = recorded_binance(capture)
    assert_parity(trades, candle_specs(1) + candle_specs(60), [1, 60], minimum_values=100)


def test_recorded_tops_of_book_stream_equals_batch() -> None:
    _trades, quotes = recorded_binance(BTCUSDT_2024)
    specs = [IndicatorSpec("book_imbalance")]
    processor = Processor(CandleFolder([1]), resolve_all(specs))
    streamed = indicator_values_frame(value for quote in quotes for value in processor.on_bbo(quote))
    assert streamed.height == len(quotes) > 70_000
    assert streamed.equals(compute_book_indicators(bbo_frame(quotes), specs))
    assert streamed["value"].min() >= -(10**8) and streamed["value"].max() <= 10**8


def test_cross_spread_stream_equals_batch_on_interleaved_exchanges() -> None:
    rng = random.Random(3)
    quotes = []
    for n in range(5_000):
        exchange = rng.choice(("binance", "okx", "kraken"))
        bid = rng.randint(9_990, 10_010)
        quotes.append(BestBidOffer(exchange, "BTC/USDT", T0 + n, T0 + n, n, bid, 1, bid + rng.randint(0, 3), 1, 2, 3))
    specs = [IndicatorSpec("cross_spread", {"symbol": "BTC/USDT", "base": "binance", "other": "okx"})]
    processor = Processor(CandleFolder([1]), resolve_all(specs))
    streamed = indicator_values_frame(value for quote in quotes for value in processor.on_bbo(quote))
    assert streamed.height > 2_000
    assert streamed.equals(compute_book_indicators(bbo_frame(quotes), specs))


def test_kernels_agree_with_polars_rolling_functions() -> None:
    """An independent check of the maths (not of parity): polars' own rolling mean, population
    standard deviation and EWM over the same closes, within float rounding."""
    trades, _ = recorded_binance(BTCUSDT_2024)
    candles, _ = stream(trades, [], [1])
    frame = candles_frame(candles).with_columns(pl.col("close").cast(pl.Float64))
    specs = [
        IndicatorSpec("sma", {"period": 10}, 1),
        IndicatorSpec("bollinger", {"period": 10, "k": 2}, 1),
        IndicatorSpec("ema", {"period": 10}, 1),
    ]
    ours = compute_indicators(candles_frame(candles), specs)

    def series(name: str) -> list[float]:
        return (ours.filter(pl.col("indicator") == name)["value"] / 10**4).to_list()  # price mantissa units

    expected_sma = frame["close"].rolling_mean(10).drop_nulls().to_list()
    expected_sd = frame["close"].rolling_std(10, ddof=0).drop_nulls().to_list()
    assert series("sma") == pytest.approx(expected_sma, rel=1e-12, abs=1e-4)
    assert series("bollinger.upper") == pytest.approx(
        [m + 2 * s for m, s in zip(expected_sma, expected_sd, strict=True)], rel=1e-9, abs=1e-3
    )
    closes = frame["close"].to_list()
    seeded = [sum(closes[:10]) / 10]
    for close in closes[10:]:
        seeded.append(seeded[-1] + 2 / 11 * (close - seeded[-1]))
    # polars' ewm_mean(adjust=False) from the seed onwards is the same recurrence
    polars_ewm = pl.Series([seeded[0], *closes[10:]]).ewm_mean(alpha=2 / 11, adjust=False).to_list()
    assert series("ema") == pytest.approx(polars_ewm, rel=1e-12, abs=1e-4)
    assert len(expected_sma) > 100
