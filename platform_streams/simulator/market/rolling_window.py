"""Rolling-window statistics (24 hours, or since a day start) that ticker channels can read many times a second.

A ticker goes out on every trade, so recomputing a day of candles each time would
dominate the server. The part of the window made of finished candles (synthetic
hourly candles from before the start, closed live minutes) only changes when a
minute ends, so it is computed once per instrument, window and minute; each read
adds the candle still open. The synthetic candles never change and are generated
once per instrument; the closed live ones are read once for all the windows an
instrument's ticker reads in a row.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from platform_streams.simulator.market.candle_history import CandleHistory
from platform_streams.simulator.market.candles import (
    CANDLE_FIELDS,
    FIRST_ID,
    HIGH,
    LAST_ID,
    LOW,
    MINUTE_MS,
    OPEN,
    OPEN_TIME,
    QUOTE,
    TRADES,
    VOLUME,
    Candle,
)
from platform_streams.simulator.market.kline_query import DAY_MS, HOUR_MS, RollingStatistics
from platform_streams.simulator.market.venue_market import VenueMarket

_HISTORY_HOURS = 48  # synthetic hourly candles kept: the longest window (a day, or since a day start) fits


@dataclass(frozen=True, slots=True)
class _FinishedPart:
    """Aggregate of the finished candles of one window (``open`` is 0 when there were none)."""

    start_ms: int
    minute_ms: int
    open: int
    high: int
    low: int
    volume_lots: int
    quote_volume: int
    trades: int
    first_trade_id: int


class RollingWindows:
    """Window statistics of one exchange's instruments, cached per instrument, window start and minute."""

    def __init__(self, market: VenueMarket, history: CandleHistory) -> None:
        self._market = market
        self._history = history
        self._finished: dict[tuple[int, int], _FinishedPart] = {}
        self._history_candles: dict[int, array[int]] = {}
        self._closed: tuple[int, int, list[Candle]] = (-1, -1, [])  # the last instrument read: (instrument, minute, candles)

    def last_24h(self, instrument: int, now_ms: int) -> RollingStatistics:
        return self._since(instrument, now_ms - now_ms % MINUTE_MS - DAY_MS, now_ms, -1)

    def today(self, instrument: int, now_ms: int, utc_offset_hours: int = 0) -> RollingStatistics:
        """Since the start of the current day in UTC+``utc_offset_hours``."""
        offset_ms = utc_offset_hours * HOUR_MS
        return self._since(instrument, (now_ms + offset_ms) // DAY_MS * DAY_MS - offset_ms, now_ms, utc_offset_hours)

    def _since(self, instrument: int, start_ms: int, now_ms: int, window: int) -> RollingStatistics:
        """Statistics of the candles opened at or after ``start_ms`` (minute-aligned), up to now."""
        candles = self._market.candles
        candles.roll(instrument, now_ms)
        minute = now_ms - now_ms % MINUTE_MS
        key = (instrument, window)  # one cached part per instrument and kind of window
        part = self._finished.get(key)
        if part is None or part.minute_ms != minute or part.start_ms != start_ms:
            part = self._finished[key] = self._finish(instrument, start_ms, minute)
        current = candles.current(instrument)
        last = candles.last_price(instrument)
        if current[TRADES]:
            open_price = part.open or current[OPEN]
            high = max(part.high, current[HIGH]) if part.open else current[HIGH]
            low = min(part.low, current[LOW]) if part.open else current[LOW]
        else:
            open_price, high, low = (part.open, part.high, part.low) if part.open else (last, last, last)
        first = part.first_trade_id if part.first_trade_id >= 0 else current[FIRST_ID]
        return RollingStatistics(
            open_time_ms=start_ms,
            close_time_ms=now_ms,
            open=open_price,
            high=high,
            low=low,
            last=last,
            last_lots=candles.last_lots(instrument),
            volume_lots=part.volume_lots + current[VOLUME],
            quote_volume=part.quote_volume + current[QUOTE],
            trades=part.trades + current[TRADES],
            first_trade_id=first,
            last_trade_id=current[LAST_ID] if current[LAST_ID] >= 0 else -1,
        )

    def _finish(self, instrument: int, start_ms: int, minute_ms: int) -> _FinishedPart:
        flat = self._history_candles.get(instrument)
        if flat is None:  # kept as one flat array: a few kilobytes per instrument
            flat = array(
                "q", [field for candle in self._history.candles(instrument, HOUR_MS, _HISTORY_HOURS) for field in candle]
            )
            self._history_candles[instrument] = flat
        width = len(CANDLE_FIELDS)
        history = [tuple(flat[i : i + width]) for i in range(0, len(flat), width)]
        past = [c for c in history if c[OPEN_TIME] >= start_ms - HOUR_MS + 1]
        if self._closed[:2] != (instrument, minute_ms):  # a ticker reads its windows one after the other
            self._closed = (instrument, minute_ms, self._market.candles.closed(instrument))
        live = [c for c in self._closed[2] if start_ms <= c[OPEN_TIME] < minute_ms]
        finished = past + live
        if not finished:
            return _FinishedPart(start_ms, minute_ms, 0, 0, 0, 0, 0, 0, -1)
        ids = [c[FIRST_ID] for c in live if c[FIRST_ID] >= 0]
        return _FinishedPart(
            start_ms=start_ms,
            minute_ms=minute_ms,
            open=finished[0][OPEN],
            high=max(c[HIGH] for c in finished),
            low=min(c[LOW] for c in finished),
            volume_lots=sum(c[VOLUME] for c in finished),
            quote_volume=sum(c[QUOTE] for c in finished),
            trades=sum(c[TRADES] for c in finished),
            first_trade_id=min(ids, default=-1),
        )
