"""Streaming candles: trades folded incrementally into closed OHLCV candles at several intervals.

The definition is ``candle_definition``'s (the sink's too). Time is the trades' exchange time: each
instrument has a watermark, the latest exchange time it has seen, and a candle closes once the
watermark is ``lateness`` past its end. A quiet instrument's watermark is advanced by the clock
(:meth:`CandleFolder.advance_clock`): the wall time minus the offset between the wall time its last
trade was folded at and that trade's exchange time, minus a quiet grace. An instrument whose trades
keep being folded is never closed by the clock, however old its data (a replay, a backlog after a
restart): only time passing without its trades does.

Only closed candles are published (a bar is final once; strategies and indicators act on final
bars, and per-trade partial updates would multiply the topic's traffic by the trade rate).
Duplicates (same trade id within an open candle) change nothing; a trade whose candle already
closed is late there and dropped from it (counted), though a longer interval's open candle still
takes it. A process starting mid-interval has not seen that
interval's earlier trades (they were before its committed offset), so an instrument's first
candle at each interval is not published unless ``publish_first`` says the input starts at the
beginning.
"""

from __future__ import annotations

from collections.abc import Iterable

from platform_streams.processing.candle_definition import NS_PER_SECOND, OrderKey, interval_open_ns, order_key
from platform_streams.schemas import Candle, Trade


class CandleScaleMismatch(ValueError):
    """A trade's price or size scale differs from its open candle's: it cannot be folded exactly."""


class CandleBuilder:
    """One open candle: its aggregate so far and the ids of the trades folded into it."""

    __slots__ = (
        "close",
        "close_key",
        "close_sequence",
        "high",
        "interval_s",
        "low",
        "open",
        "open_key",
        "open_ns",
        "price_scale",
        "receive_ts_ns",
        "size_scale",
        "trade_ids",
        "volume",
    )

    def __init__(self, trade: Trade, interval_s: int, open_ns: int) -> None:
        self.interval_s = interval_s
        self.open_ns = open_ns
        self.open = self.high = self.low = self.close = trade.price
        self.open_key = self.close_key = order_key(trade)
        self.close_sequence = trade.sequence
        self.volume = trade.size
        self.receive_ts_ns = trade.receive_ts_ns
        self.price_scale, self.size_scale = trade.price_scale, trade.size_scale
        self.trade_ids = {trade.trade_id}

    def check(self, trade: Trade) -> None:
        if trade.price_scale != self.price_scale or trade.size_scale != self.size_scale:
            raise CandleScaleMismatch(
                f"trade {trade.trade_id} of {trade.key} has scales {trade.price_scale}/{trade.size_scale},"
                f" its open {self.interval_s} s candle {self.price_scale}/{self.size_scale}"
            )

    def add(self, trade: Trade, key: OrderKey) -> bool:
        """Fold ``trade`` in; False (and nothing changed) when its id is already in."""
        if trade.trade_id in self.trade_ids:
            return False
        self.trade_ids.add(trade.trade_id)
        price = trade.price
        if price > self.high:
            self.high = price
        if price < self.low:
            self.low = price
        if key < self.open_key:
            self.open, self.open_key = price, key
        if key > self.close_key:
            self.close, self.close_key, self.close_sequence = price, key, trade.sequence
        self.volume += trade.size
        if trade.receive_ts_ns > self.receive_ts_ns:
            self.receive_ts_ns = trade.receive_ts_ns
        return True

    def closed_candle(self, exchange: str, symbol: str) -> Candle:
        return Candle(
            exchange=exchange,
            symbol=symbol,
            exchange_ts_ns=self.close_key[0],
            receive_ts_ns=self.receive_ts_ns,
            sequence=self.close_sequence,
            interval_s=self.interval_s,
            open_ts_ns=self.open_ns,
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
            trade_count=len(self.trade_ids),
            closed=True,
            price_scale=self.price_scale,
            size_scale=self.size_scale,
        )


class InstrumentCandles:
    """The open candles of one instrument at every interval, and its event-time watermark."""

    __slots__ = ("clock_offset_ns", "exchange", "first_complete_ns", "open", "symbol", "watermark_ns")

    def __init__(self, exchange: str, symbol: str, intervals_s: Iterable[int]) -> None:
        self.exchange, self.symbol = exchange, symbol
        self.watermark_ns: int | None = None
        self.clock_offset_ns = 0
        self.open: dict[int, dict[int, CandleBuilder]] = {interval: {} for interval in intervals_s}
        self.first_complete_ns: dict[int, int] = {}  # per interval: candles opening before this may miss trades


class CandleFolder:
    """Folds trades of any number of instruments into closed candles at ``intervals_s``."""

    def __init__(
        self,
        intervals_s: Iterable[int],
        lateness_ns: int = 250_000_000,
        quiet_grace_ns: int = NS_PER_SECOND,
        *,
        publish_first: bool = False,
    ) -> None:
        self.intervals_s = tuple(sorted(set(intervals_s)))
        if not self.intervals_s or any(interval <= 0 for interval in self.intervals_s):
            raise ValueError(f"candle intervals must be positive whole seconds, got {list(intervals_s)}")
        if lateness_ns < 0 or quiet_grace_ns < 0:
            raise ValueError("lateness and quiet grace must not be negative")
        self.lateness_ns = lateness_ns
        self.quiet_grace_ns = quiet_grace_ns
        self.publish_first = publish_first
        self.instruments: dict[str, InstrumentCandles] = {}
        self.late_trades = 0
        self.duplicate_trades = 0
        self.unpublished_first_candles = 0

    def add(self, trade: Trade, now_ns: int | None = None) -> list[Candle]:
        """Fold one trade at wall time ``now_ns`` (default: its receive time); returns the candles it
        closed (every interval, oldest first)."""
        state = self.instruments.get(trade.key)
        if state is None:
            state = self.instruments[trade.key] = InstrumentCandles(trade.exchange, trade.symbol, self.intervals_s)
        ts = trade.exchange_ts_ns
        watermark = state.watermark_ns
        targets: list[tuple[dict[int, CandleBuilder], int, int]] = []
        for interval, builders in state.open.items():
            open_ns = interval_open_ns(ts, interval)
            if watermark is not None and open_ns + interval * NS_PER_SECOND + self.lateness_ns <= watermark:
                continue  # this interval's candle has closed; a longer interval's may still take the trade
            builder = builders.get(open_ns)
            if builder is not None:
                builder.check(trade)
            targets.append((builders, interval, open_ns))
        if len(targets) < len(state.open):
            self.late_trades += 1
        if not targets:
            return []
        self._fold(state, trade, targets)
        state.clock_offset_ns = (trade.receive_ts_ns if now_ns is None else now_ns) - ts
        if watermark is None or ts > watermark:
            return self._advance(state, ts)
        return []

    def _fold(self, state: InstrumentCandles, trade: Trade, targets: list[tuple[dict[int, CandleBuilder], int, int]]) -> None:
        key = order_key(trade)
        duplicate = False
        for builders, interval, open_ns in targets:
            builder = builders.get(open_ns)
            if builder is None:
                builders[open_ns] = CandleBuilder(trade, interval, open_ns)
                state.first_complete_ns.setdefault(interval, open_ns + interval * NS_PER_SECOND)
            elif not builder.add(trade, key):
                duplicate = True
        if duplicate:
            self.duplicate_trades += 1

    def advance_clock(self, now_ns: int) -> list[Candle]:
        """Close what the clock says has ended: each instrument's event time is estimated as
        ``now_ns`` minus its last fold-minus-exchange-time offset minus the quiet grace."""
        closed: list[Candle] = []
        for state in self.instruments.values():
            if state.watermark_ns is None:
                continue
            estimate = now_ns - state.clock_offset_ns - self.quiet_grace_ns
            if estimate > state.watermark_ns:
                closed.extend(self._advance(state, estimate))
        return closed

    def _advance(self, state: InstrumentCandles, watermark_ns: int) -> list[Candle]:
        state.watermark_ns = watermark_ns
        horizon = watermark_ns - self.lateness_ns
        closed: list[Candle] = []
        for interval, builders in state.open.items():
            if not builders:
                continue
            interval_ns = interval * NS_PER_SECOND
            due = sorted(open_ns for open_ns in builders if open_ns + interval_ns <= horizon)
            for open_ns in due:
                builder = builders.pop(open_ns)
                if self.publish_first or open_ns >= state.first_complete_ns[interval]:
                    closed.append(builder.closed_candle(state.exchange, state.symbol))
                else:
                    self.unpublished_first_candles += 1
        if len(state.open) > 1:
            closed.sort(key=lambda candle: (candle.open_ts_ns + candle.interval_s * NS_PER_SECOND, candle.interval_s))
        return closed

    def forget(self, keys: Iterable[str]) -> None:
        """Drop instruments' state (their partitions moved to another replica)."""
        for key in keys:
            self.instruments.pop(key, None)
