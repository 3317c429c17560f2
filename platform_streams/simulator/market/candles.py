"""One-minute candles of every instrument of one exchange, built from the trades the simulator prints.

A candle is a tuple of integers (see :data:`CANDLE_FIELDS`): prices in ticks,
volumes in lots, quote volumes in ticks×lots (the protocol layer multiplies by
tick and lot and renders them). Closed candles are kept in one flat ``array('q')``
per instrument, bounded to ``history_minutes``, so hours of history for thousands
of instruments stay compact. A minute without trades closes as a flat candle at
the previous close, like the exchanges do.
"""

from __future__ import annotations

from array import array

MINUTE_MS = 60_000
MINUTE_NS = MINUTE_MS * 1_000_000

CANDLE_FIELDS = (
    "open_time_ms",
    "open",
    "high",
    "low",
    "close",
    "volume_lots",
    "quote_volume",
    "trades",
    "taker_buy_lots",
    "taker_buy_quote",
    "first_trade_id",
    "last_trade_id",
)
_WIDTH = len(CANDLE_FIELDS)
OPEN_TIME, OPEN, HIGH, LOW, CLOSE, VOLUME, QUOTE, TRADES, TAKER_BUY, TAKER_BUY_QUOTE, FIRST_ID, LAST_ID = range(_WIDTH)

Candle = tuple[int, ...]


class CandleBook:
    """The open candle and the recent closed candles of each instrument."""

    def __init__(self, start_prices: list[int], start_ms: int, history_minutes: int) -> None:
        minute = start_ms - start_ms % MINUTE_MS
        self.history_minutes = history_minutes
        self._current = [self._empty(minute, price) for price in start_prices]
        self._history = [array("q") for _ in start_prices]
        self._last_lots = [0] * len(start_prices)

    @staticmethod
    def _empty(minute_ms: int, close: int) -> list[int]:
        return [minute_ms, close, close, close, close, 0, 0, 0, 0, 0, -1, -1]

    def on_trade(self, instrument: int, price: int, lots: int, taker_is_buy: bool, trade_id: int, ts_ns: int) -> None:
        candle = self._current[instrument]
        minute = ts_ns // MINUTE_NS * MINUTE_MS
        if minute > candle[OPEN_TIME]:
            self.roll(instrument, minute)
            candle = self._current[instrument]
        if candle[TRADES] == 0:
            candle[OPEN] = candle[HIGH] = candle[LOW] = price
            candle[FIRST_ID] = trade_id
        elif price > candle[HIGH]:
            candle[HIGH] = price
        elif price < candle[LOW]:
            candle[LOW] = price
        candle[CLOSE] = price
        quote = price * lots
        candle[VOLUME] += lots
        candle[QUOTE] += quote
        candle[TRADES] += 1
        if taker_is_buy:
            candle[TAKER_BUY] += lots
            candle[TAKER_BUY_QUOTE] += quote
        candle[LAST_ID] = trade_id
        self._last_lots[instrument] = lots

    def roll(self, instrument: int, now_ms: int) -> list[Candle]:
        """Close the open candle if its minute is over; returns the candles closed now (oldest first)."""
        candle = self._current[instrument]
        minute = now_ms - now_ms % MINUTE_MS
        if minute <= candle[OPEN_TIME]:
            return []
        closed = [tuple(candle)]
        close = candle[CLOSE]
        first_flat = max(candle[OPEN_TIME] + MINUTE_MS, minute - self.history_minutes * MINUTE_MS)
        closed.extend(tuple(self._empty(t, close)) for t in range(first_flat, minute, MINUTE_MS))
        history = self._history[instrument]
        for done in closed:
            history.extend(done)
        excess = len(history) - 2 * self.history_minutes * _WIDTH
        if excess > 0:
            del history[: len(history) - self.history_minutes * _WIDTH]
        self._current[instrument] = self._empty(minute, close)
        return closed

    def current(self, instrument: int) -> Candle:
        """The open candle (call :meth:`roll` first to be sure its minute is not over)."""
        return tuple(self._current[instrument])

    def closed(self, instrument: int) -> list[Candle]:
        """Closed candles still kept, oldest first."""
        flat = self._history[instrument]
        return [tuple(flat[i : i + _WIDTH]) for i in range(0, len(flat), _WIDTH)]

    def last_price(self, instrument: int) -> int:
        return self._current[instrument][CLOSE]

    def last_lots(self, instrument: int) -> int:
        """Quantity of the last trade (0 before the first one)."""
        return self._last_lots[instrument]
