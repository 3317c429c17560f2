"""The backtest's input: canonical market events in event-time order, from lists of events or from
a polars DataFrame of stored trades (the ``trades`` table's columns)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping

import polars as pl

from platform_streams.schemas import BestBidOffer, Candle, IndicatorValue, Instrument, Side, Trade
from platform_streams.schemas.fixed_point import parse_at_scale

MarketEvent = Trade | BestBidOffer | Candle | IndicatorValue


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
