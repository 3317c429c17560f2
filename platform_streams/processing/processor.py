"""The processing stage's pure logic: trades fold into candles, closed candles and tops of book feed
the indicators. No I/O; the daemon wraps it and the tests drive it directly."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

from platform_streams.processing.candles import CandleFolder
from platform_streams.processing.indicator_engine import IndicatorEngine
from platform_streams.processing.indicators.registry import ResolvedSpec
from platform_streams.schemas import BestBidOffer, Candle, IndicatorValue, Trade

ProcessedEvent = Candle | IndicatorValue


class Processor:
    """Candles at every configured interval and the configured indicators, for the instruments
    matching ``instruments`` (shell patterns on ``exchange:symbol``)."""

    def __init__(self, folder: CandleFolder, specs: Sequence[ResolvedSpec], instruments: Iterable[str] = ("*",)) -> None:
        self.folder = folder
        self.engine = IndicatorEngine(specs)
        self._patterns = tuple(instruments)
        self._selected: dict[str, bool] = {}
        self.candles_closed = 0
        self.indicator_values = 0

    def selected(self, key: str) -> bool:
        chosen = self._selected.get(key)
        if chosen is None:
            chosen = self._selected[key] = any(fnmatch.fnmatchcase(key, pattern) for pattern in self._patterns)
        return chosen

    def on_trade(self, trade: Trade, now_ns: int | None = None) -> list[ProcessedEvent]:
        """Fold a trade (at wall time ``now_ns``); the candles it closed, each followed by its
        indicator values."""
        if not self.selected(trade.key):
            return []
        closed = self.folder.add(trade, now_ns)
        return self._with_indicators(closed) if closed else []

    def on_bbo(self, bbo: BestBidOffer) -> list[IndicatorValue]:
        """The top-of-book indicators' values of one top of book (the pair's spread included)."""
        values = self.engine.on_bbo(bbo)
        self.indicator_values += len(values)
        return values

    def on_clock(self, now_ns: int) -> list[ProcessedEvent]:
        """Close the candles of quiet instruments whose time has passed (see ``CandleFolder``)."""
        closed = self.folder.advance_clock(now_ns)
        return self._with_indicators(closed) if closed else []

    def _with_indicators(self, candles: list[Candle]) -> list[ProcessedEvent]:
        events: list[ProcessedEvent] = []
        on_candle = self.engine.on_candle
        for candle in candles:
            events.append(candle)
            values = on_candle(candle)
            events.extend(values)
            self.indicator_values += len(values)
        self.candles_closed += len(candles)
        return events

    def forget(self, keys: set[str]) -> None:
        """Drop the state of instruments whose partitions another replica now reads."""
        self.folder.forget(keys)
        self.engine.forget(keys)
