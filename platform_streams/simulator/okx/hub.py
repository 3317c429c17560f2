"""Who subscribed to what on the simulated OKX, and the publication of each quantum's market events to them.

``trades`` goes out per trade print; ``bbo-tbt`` when the top of book changed in a
quantum (``seqId`` = the book's update id); ``books`` through :class:`OkxBookFeed`
every 100 ms; ``tickers`` every 100 ms for instruments that traded or whose top
changed; ``candle1m`` every second when the candle changed, plus the closed candle
(``confirm`` "1") when a minute ends. One render per message, one socket write per
connection per quantum, every message recorded in the ground truth.
"""

from __future__ import annotations

from operator import itemgetter

from platform_streams.simulator.decimal_text import trimmed
from platform_streams.simulator.ground_truth import GroundTruth
from platform_streams.simulator.market.candle_history import CandleHistory
from platform_streams.simulator.market.candles import CLOSE, HIGH, LOW, OPEN, OPEN_TIME, QUOTE, TRADES, VOLUME, Candle
from platform_streams.simulator.market.market_batch import MarketBatch
from platform_streams.simulator.market.rolling_window import RollingWindows
from platform_streams.simulator.market.universe import SCALE_FACTOR
from platform_streams.simulator.market.venue_market import VenueMarket
from platform_streams.simulator.okx import frames
from platform_streams.simulator.okx.book_feed import OkxBookFeed
from platform_streams.simulator.okx.channels import OkxChannel, OkxConnection
from platform_streams.simulator.okx.instruments import OkxInstruments
from platform_streams.simulator.publication import FramePublisher, SubscriptionTable

_BOOK_PERIOD_MS = 100
_CANDLE_PERIOD_MS = 1000
_SIDES = (b"buy", b"sell")
_INSTRUMENT = itemgetter(0)  # of a level change or a trade


class OkxHub:
    """Subscriptions of one simulated OKX and the per-quantum publication."""

    def __init__(
        self,
        market: VenueMarket,
        instruments: OkxInstruments,
        history: CandleHistory,
        ground_truth: GroundTruth,
        exchange_code: int,
    ) -> None:
        self._market = market
        self._instruments = instruments
        self._windows = RollingWindows(market, history)
        self.publisher = FramePublisher(ground_truth, exchange_code)
        self._table: SubscriptionTable[OkxConnection] = SubscriptionTable(len(OkxChannel), len(market.instruments))
        self.books = OkxBookFeed(market, instruments, self.publisher)
        self._last_top: dict[int, tuple[int, int, int, int]] = {}
        self._ticker_dirty: set[int] = set()
        self._last_candle: dict[int, tuple[int, int]] = {}
        self._last_period: dict[int, int] = {}
        self.connections: set[OkxConnection] = set()

    # subscriptions -------------------------------------------------------------

    def subscribe(self, connection: OkxConnection, channel: OkxChannel, instrument: int) -> None:
        key = (channel, instrument)
        if channel is OkxChannel.BOOKS:
            connection.subscriptions[key] = None
            self.books.subscribe(connection, instrument)
            return
        if key in connection.subscriptions:
            return
        connection.subscriptions[key] = None
        if self._table.add(channel, instrument, connection):
            if channel is OkxChannel.BBO_TBT:
                self._last_top[instrument] = self._market.books[instrument].top()
            elif channel is OkxChannel.TICKERS:
                self._ticker_dirty.add(instrument)

    def unsubscribe(self, connection: OkxConnection, channel: OkxChannel, instrument: int) -> None:
        if (channel, instrument) not in connection.subscriptions:
            return
        del connection.subscriptions[(channel, instrument)]
        if channel is OkxChannel.BOOKS:
            self.books.unsubscribe(connection, instrument)
        elif self._table.remove(channel, instrument, connection):
            self._last_top.pop(instrument, None)
            self._last_candle.pop(instrument, None)
            self._ticker_dirty.discard(instrument)

    def attach(self, connection: OkxConnection) -> None:
        self.connections.add(connection)

    def detach(self, connection: OkxConnection) -> None:
        for channel, instrument in list(connection.subscriptions):
            self.unsubscribe(connection, channel, instrument)
        self.connections.discard(connection)
        connection.closed = True

    # publication ------------------------------------------------------------------

    def publish(self, batch: MarketBatch, now_ns: int) -> None:
        """Render and queue everything subscribers should get for this quantum (:meth:`flush` writes it)."""
        event_ms = now_ns // 1_000_000
        self._publish_trades(batch)
        self.books.accumulate(batch.levels)
        active = self._table.active
        if batch.levels and (active[OkxChannel.BBO_TBT] or active[OkxChannel.TICKERS]):
            changed = set(map(_INSTRUMENT, batch.levels))
            self._publish_best_bid_offer(changed.intersection(active[OkxChannel.BBO_TBT]), event_ms)
            self._ticker_dirty.update(changed.intersection(active[OkxChannel.TICKERS]))
        if batch.trades and active[OkxChannel.TICKERS]:
            self._ticker_dirty.update(t[0] for t in batch.trades if t[0] in active[OkxChannel.TICKERS])
        for period in (_BOOK_PERIOD_MS, _CANDLE_PERIOD_MS):
            index = event_ms // period
            if self._last_period.get(period, index) != index:
                if period == _BOOK_PERIOD_MS:
                    self.books.publish(event_ms)
                    self._publish_tickers(event_ms)
                else:
                    self._publish_candles(event_ms)
            self._last_period[period] = index

    def flush(self) -> None:
        """Write every connection's queued frames, then record what went out."""
        self.publisher.flush()

    def _publish_trades(self, batch: MarketBatch) -> None:
        rows = self._table.rows[OkxChannel.TRADES]
        names, send = self._instruments, self.publisher.send
        for instrument, trade_id, price, lots, buyer_is_maker, ts_ns in batch.trades:
            listeners = rows[instrument]
            if listeners:
                data = frames.trade(
                    names.name_bytes[instrument],
                    trade_id,
                    names.price(instrument, price),
                    names.size(instrument, lots),
                    _SIDES[buyer_is_maker],
                    ts_ns // 1_000_000,
                )
                send(listeners, OkxChannel.TRADES, instrument, trade_id, trade_id, data)

    def _level(self, instrument: int, price: int, lots: int) -> bytes:
        return self._instruments.level_row(instrument, price, lots) if price else b"[]"

    def _publish_best_bid_offer(self, instruments: set[int], event_ms: int) -> None:
        rows, books, last_top = self._table.rows[OkxChannel.BBO_TBT], self._market.books, self._last_top
        for instrument in sorted(instruments):
            book = books[instrument]
            top = book.top()
            if top == last_top.get(instrument):
                continue
            last_top[instrument] = top
            bid, bid_lots, ask, ask_lots = top
            data = frames.best_bid_offer(
                self._instruments.name_bytes[instrument],
                self._level(instrument, ask, ask_lots),
                self._level(instrument, bid, bid_lots),
                event_ms,
                book.update_id,
            )
            self.publisher.send(rows[instrument] or [], OkxChannel.BBO_TBT, instrument, book.update_id, book.update_id, data)

    def _publish_tickers(self, event_ms: int) -> None:
        if not self._ticker_dirty:
            return
        rows, names, windows = self._table.rows[OkxChannel.TICKERS], self._instruments, self._windows
        for instrument in sorted(self._ticker_dirty):
            listeners = rows[instrument]
            if not listeners:
                continue
            spec = self._market.instruments[instrument]
            day = windows.last_24h(instrument, event_ms)
            utc0, utc8 = windows.today(instrument, event_ms, 0), windows.today(instrument, event_ms, 8)
            bid, bid_lots, ask, ask_lots = self._market.books[instrument].top()
            price, size = names.price, names.size
            fields = [
                price(instrument, day.last),
                size(instrument, day.last_lots),
                price(instrument, ask) if ask else b"",
                size(instrument, ask_lots) if ask else b"",
                price(instrument, bid) if bid else b"",
                size(instrument, bid_lots) if bid else b"",
                price(instrument, day.open),
                price(instrument, day.high),
                price(instrument, day.low),
                price(instrument, utc0.open),
                price(instrument, utc8.open),
                _quote_text(day.quote_volume * spec.tick * spec.lot),
                size(instrument, day.volume_lots),
            ]
            data = frames.ticker(names.name_bytes[instrument], fields, event_ms)
            self.publisher.send(listeners, OkxChannel.TICKERS, instrument, event_ms, event_ms, data)
        self._ticker_dirty = set()

    def _publish_candles(self, event_ms: int) -> None:
        rows, candles = self._table.rows[OkxChannel.CANDLE_1M], self._market.candles
        for instrument in list(self._table.active[OkxChannel.CANDLE_1M]):
            listeners = rows[instrument]
            if not listeners:
                continue
            closed = candles.roll(instrument, event_ms)
            if closed:
                self._send_candle(listeners, instrument, closed[-1], True)
            current = candles.current(instrument)
            if self._last_candle.get(instrument) != (current[OPEN_TIME], current[TRADES]):
                self._last_candle[instrument] = (current[OPEN_TIME], current[TRADES])
                self._send_candle(listeners, instrument, current, False)

    def _send_candle(self, listeners: list[OkxConnection], instrument: int, candle: Candle, confirmed: bool) -> None:
        spec, names = self._market.instruments[instrument], self._instruments
        quote = _quote_text(candle[QUOTE] * spec.tick * spec.lot)
        fields = [
            names.price(instrument, candle[OPEN]),
            names.price(instrument, candle[HIGH]),
            names.price(instrument, candle[LOW]),
            names.price(instrument, candle[CLOSE]),
            names.size(instrument, candle[VOLUME]),
            quote,
            quote,
        ]
        data = frames.candle(names.name_bytes[instrument], frames.candle_row(candle[OPEN_TIME], fields, confirmed))
        self.publisher.send(listeners, OkxChannel.CANDLE_1M, instrument, candle[OPEN_TIME], candle[OPEN_TIME], data)


def _quote_text(quote_times_scale: int) -> bytes:
    """A quote volume from ticks×lots×tick×lot (scale 16) as trimmed text at scale 8 (rounded down)."""
    return trimmed(quote_times_scale // SCALE_FACTOR)
