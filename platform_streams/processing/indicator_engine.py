"""Runs the configured indicators per instrument: closed candles and tops of book in, fixed-point
``IndicatorValue`` events out. Pure; the daemon and the tests drive it."""

from __future__ import annotations

from collections.abc import Sequence

from platform_streams.processing.candle_definition import NS_PER_SECOND
from platform_streams.processing.indicators.base import BookIndicator, CandleIndicator, Indicator, to_mantissa
from platform_streams.processing.indicators.book import CrossExchangeSpread
from platform_streams.processing.indicators.registry import ResolvedSpec
from platform_streams.schemas import BestBidOffer, Candle, IndicatorValue


class RunningIndicator:
    """One indicator instance with what its values are published as."""

    __slots__ = ("indicator", "multipliers", "names", "parameters_text", "scales")

    def __init__(self, spec: ResolvedSpec) -> None:
        self.indicator: Indicator = spec.build()
        self.names = spec.kind.output_names()
        self.parameters_text = spec.parameters_text
        self.multipliers = tuple(output.multiplier() for output in spec.kind.outputs)
        self.scales = spec.kind.outputs

    def values(
        self, outputs: tuple[float, ...], exchange: str, symbol: str, at: MarketTime, interval_s: int, price_scale: int
    ) -> list[IndicatorValue]:
        return [
            IndicatorValue(
                exchange=exchange,
                symbol=symbol,
                exchange_ts_ns=at.exchange_ts_ns,
                receive_ts_ns=at.receive_ts_ns,
                sequence=at.sequence,
                indicator=name,
                parameters=self.parameters_text,
                interval_s=interval_s,
                value=to_mantissa(value, multiplier),
                value_scale=output.value_scale(price_scale),
            )
            for name, value, multiplier, output in zip(self.names, outputs, self.multipliers, self.scales, strict=True)
        ]


class MarketTime:
    """The time fields an indicator value inherits from the event that produced it."""

    __slots__ = ("exchange_ts_ns", "receive_ts_ns", "sequence")

    def __init__(self, exchange_ts_ns: int, receive_ts_ns: int, sequence: int) -> None:
        self.exchange_ts_ns, self.receive_ts_ns, self.sequence = exchange_ts_ns, receive_ts_ns, sequence


def candle_time(candle: Candle) -> MarketTime:
    """A candle's indicator values are as of the candle's end (whatever its last trade's time)."""
    return MarketTime(candle.open_ts_ns + candle.interval_s * NS_PER_SECOND, candle.receive_ts_ns, candle.sequence)


class IndicatorEngine:
    """Every configured indicator of every instrument, built when the instrument is first seen."""

    def __init__(self, specs: Sequence[ResolvedSpec]) -> None:
        self._candle_specs = [spec for spec in specs if issubclass(spec.kind, CandleIndicator)]
        self._book_specs = [spec for spec in specs if issubclass(spec.kind, BookIndicator)]
        self._spreads = [RunningIndicator(spec) for spec in specs if spec.kind is CrossExchangeSpread]
        self._spread_symbols = {spread.indicator.parameters.symbol for spread in self._spreads}  # type: ignore[attr-defined]
        self._by_candle: dict[tuple[str, int], list[RunningIndicator]] = {}
        self._by_book: dict[str, list[RunningIndicator]] = {}
        self._wanted_quotes: dict[str, bool] = {}

    def wants_quotes(self, key: str) -> bool:
        """Whether any indicator reads the tops of book of instrument ``key`` (``exchange:symbol``):
        the daemon skips the others' without decoding them."""
        wanted = self._wanted_quotes.get(key)
        if wanted is None:
            symbol = key.partition(":")[2]
            wanted = symbol in self._spread_symbols or any(spec.matches(key) for spec in self._book_specs)
            self._wanted_quotes[key] = wanted
        return wanted

    def on_candle(self, candle: Candle) -> list[IndicatorValue]:
        key = (candle.key, candle.interval_s)
        running = self._by_candle.get(key)
        if running is None:
            running = self._by_candle[key] = [
                RunningIndicator(spec)
                for spec in self._candle_specs
                if spec.interval_s == candle.interval_s and spec.matches(candle.key)
            ]
        values: list[IndicatorValue] = []
        if not running:
            return values
        at = candle_time(candle)
        for indicator in running:
            outputs = indicator.indicator.update(candle.high, candle.low, candle.close, candle.volume)  # type: ignore[attr-defined]
            if outputs is not None:
                values.extend(
                    indicator.values(outputs, candle.exchange, candle.symbol, at, candle.interval_s, candle.price_scale)
                )
        return values

    def on_bbo(self, bbo: BestBidOffer) -> list[IndicatorValue]:
        key = bbo.key
        running = self._by_book.get(key)
        if running is None:
            running = self._by_book[key] = [RunningIndicator(spec) for spec in self._book_specs if spec.matches(key)]
        values: list[IndicatorValue] = []
        at: MarketTime | None = None
        for indicator in running:
            outputs = indicator.indicator.update(bbo.bid_price, bbo.bid_size, bbo.ask_price, bbo.ask_size)  # type: ignore[attr-defined]
            if outputs is not None:
                at = at or MarketTime(bbo.exchange_ts_ns, bbo.receive_ts_ns, bbo.sequence)
                values.extend(indicator.values(outputs, bbo.exchange, bbo.symbol, at, 0, bbo.price_scale))
        if bbo.symbol in self._spread_symbols:
            values.extend(self._on_spread_quote(bbo))
        return values

    def _on_spread_quote(self, bbo: BestBidOffer) -> list[IndicatorValue]:
        values: list[IndicatorValue] = []
        for running in self._spreads:
            spread: CrossExchangeSpread = running.indicator  # type: ignore[assignment]
            if spread.parameters.symbol != bbo.symbol:
                continue
            outputs = spread.update(bbo.exchange, bbo.bid_price, bbo.ask_price, bbo.price_scale)
            if outputs is not None:
                at = MarketTime(bbo.exchange_ts_ns, bbo.receive_ts_ns, bbo.sequence)
                values.extend(running.values(outputs, spread.exchange, bbo.symbol, at, 0, 0))
        return values

    def forget(self, keys: set[str]) -> None:
        """Drop instruments' indicator state (their partitions went to another replica)."""
        self._by_candle = {key: value for key, value in self._by_candle.items() if key[0] not in keys}
        for key in keys:
            self._by_book.pop(key, None)
