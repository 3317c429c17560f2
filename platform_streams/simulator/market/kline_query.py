"""Candle queries any protocol's REST API answers: klines of an interval, and rolling 24-hour statistics.

Candles before the simulation started come from :class:`CandleHistory`; from the
start minute on they are the live one-minute candles, aggregated to the interval,
ending with the candle still open.
"""

from __future__ import annotations

from dataclasses import dataclass

from platform_streams.simulator.market.candle_history import CandleHistory, aggregate
from platform_streams.simulator.market.candles import Candle
from platform_streams.simulator.market.venue_market import VenueMarket

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def live_candles(market: VenueMarket, instrument: int, now_ms: int) -> list[Candle]:
    """Every live one-minute candle still kept, the open one last."""
    market.candles.roll(instrument, now_ms)
    return [*market.candles.closed(instrument), market.candles.current(instrument)]


def klines(
    market: VenueMarket,
    history: CandleHistory,
    instrument: int,
    interval_ms: int,
    start_ms: int | None,
    end_ms: int | None,
    limit: int,
    now_ms: int,
) -> list[Candle]:
    """Up to ``limit`` candles open within [start_ms, end_ms]: the oldest ones from ``start_ms`` if given, else the newest."""
    live = aggregate(live_candles(market, instrument, now_ms), interval_ms)
    boundary = history.boundary_ms(interval_ms)
    if start_ms is not None:
        count = -(-(boundary - start_ms) // interval_ms)  # every past candle from start_ms on
    else:
        count = limit + max(0, (boundary - (end_ms if end_ms is not None else now_ms)) // interval_ms)
    past = history.candles(instrument, interval_ms, count)
    candles = [c for c in past + live if (start_ms is None or c[0] >= start_ms) and (end_ms is None or c[0] <= end_ms)]
    return candles[:limit] if start_ms is not None else candles[-limit:]


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs several times more, and tickers build two
class RollingStatistics:
    """24-hour window statistics of one instrument (prices in ticks, volumes in lots, quote in ticks×lots)."""

    open_time_ms: int
    close_time_ms: int
    open: int
    high: int
    low: int
    last: int
    last_lots: int
    volume_lots: int
    quote_volume: int
    trades: int
    first_trade_id: int
    last_trade_id: int


def rolling_24h(market: VenueMarket, history: CandleHistory, instrument: int, now_ms: int) -> RollingStatistics:
    """Statistics of the last 24 hours: hourly pre-start candles plus the live minutes."""
    window_start = now_ms - DAY_MS
    boundary = history.boundary_ms(HOUR_MS)
    past_count = max(0, min(24, -(-(boundary - window_start) // HOUR_MS)))
    candles = [c for c in history.candles(instrument, HOUR_MS, past_count) if c[0] >= window_start - HOUR_MS]
    candles += [c for c in live_candles(market, instrument, now_ms) if c[0] >= window_start]
    last = market.candles.last_price(instrument)
    trades = sum(c[7] for c in candles)
    live_ids = [c[10] for c in candles if c[10] >= 0] + [c[11] for c in candles if c[11] >= 0]  # pre-start candles have no ids
    return RollingStatistics(
        open_time_ms=window_start,
        close_time_ms=now_ms,
        open=candles[0][1] if candles else last,
        high=max((c[2] for c in candles), default=last),
        low=min((c[3] for c in candles), default=last),
        last=last,
        last_lots=market.candles.last_lots(instrument),
        volume_lots=sum(c[5] for c in candles),
        quote_volume=sum(c[6] for c in candles),
        trades=trades,
        first_trade_id=min(live_ids, default=-1),
        last_trade_id=max(live_ids, default=-1),
    )
