"""The backtest's input: canonical market events in event-time order, from lists of events or from
polars DataFrames of stored trades and candles (the ``trades`` and ``candles`` tables' columns)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping

import polars as pl

from platform_streams.schemas import BestBidOffer, Candle, IndicatorValue, Instrument, Side, Trade
from platform_streams.schemas.fixed_point import parse_at_scale

MarketEvent = Trade | BestBidOffer | Candle | IndicatorValue

SECOND_NS = 1_000_000_000


def merge_by_time(*streams: Iterable[MarketEvent]) -> Iterator[MarketEvent]:
    """Several time-ordered streams (trades, tops of book, candles) as one, by receive time; ties
    keep the order of the arguments, so a merge is deterministic."""
    return heapq.merge(*streams, key=lambda event: event.receive_ts_ns)


def trades_from_frame(frame: pl.DataFrame, instruments: Mapping[str, Instrument]) -> Iterator[Trade]:
    """Rows of a DataFrame with the ``trades`` table's columns (``exchange``, ``symbol``, ``trade_id``,
    ``exchange_ts_ns``, ``receive_ts_ns``, ``side``, ``price``, ``size``; price and size as decimals or
    decimal strings) as canonical trades at their instrument's scales, in receive-time order."""
    ordered = frame.sort("receive_ts_ns", maintain_order=True)
    columns = ("exchange", "symbol", "trade_id", "exchange_ts_ns", "receive_ts_ns", "side", "price", "size")
    for exchange, symbol, trade_id, exchange_ts_ns, receive_ts_ns, side, price, size in ordered.select(columns).iter_rows():
        instrument = instruments[f"{exchange}:{symbol}"]
        yield Trade(
            exchange,
            symbol,
            exchange_ts_ns,
            receive_ts_ns,
            int(trade_id) if str(trade_id).isdigit() else 0,
            str(trade_id),
            Side(side),
            parse_at_scale(str(price), instrument.price_scale),
            parse_at_scale(str(size), instrument.size_scale),
            instrument.price_scale,
            instrument.size_scale,
        )


def candles_from_frame(frame: pl.DataFrame, instruments: Mapping[str, Instrument]) -> Iterator[Candle]:
    """Rows of a DataFrame with the ``candles`` table's columns (``exchange``, ``symbol``, ``interval_s``,
    ``open_time`` (a datetime) or ``open_ts_ns``, ``open``, ``high``, ``low``, ``close``, ``volume``,
    ``trade_count``, and ``closed``, true if absent) as canonical candles. A bar is received at its
    close (``open + interval``), never earlier, so a backtest cannot look ahead; in that order."""
    if "open_ts_ns" not in frame.columns:
        frame = frame.with_columns(pl.col("open_time").dt.epoch("ns").alias("open_ts_ns"))
    if "closed" not in frame.columns:
        frame = frame.with_columns(pl.lit(True).alias("closed"))
    ordered = frame.with_columns((pl.col("open_ts_ns") + pl.col("interval_s") * SECOND_NS).alias("close_ts_ns")).sort(
        "close_ts_ns", maintain_order=True
    )
    columns = (
        "exchange",
        "symbol",
        "interval_s",
        "open_ts_ns",
        "close_ts_ns",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "trade_count",
        "closed",
    )
    for row in ordered.select(columns).iter_rows():
        exchange, symbol, interval_s, open_ts_ns, close_ts_ns, open_, high, low, close, volume, trade_count, closed = row
        instrument = instruments[f"{exchange}:{symbol}"]
        price = instrument.price_scale
        yield Candle(
            exchange,
            symbol,
            close_ts_ns,
            close_ts_ns,
            0,
            interval_s,
            open_ts_ns,
            parse_at_scale(str(open_), price),
            parse_at_scale(str(high), price),
            parse_at_scale(str(low), price),
            parse_at_scale(str(close), price),
            parse_at_scale(str(volume), instrument.size_scale),
            trade_count,
            closed,
            price,
            instrument.size_scale,
        )
