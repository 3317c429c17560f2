"""Who subscribed to what, and the publication of each quantum's market events to them, Binance style.

After every quantum the server hands the hub the market's batch. Trades and
aggregate trades go out as they are; book changes of subscribed instruments are
folded into diff windows flushed every 100 ms / 1 s (``U`` = first, ``u`` = last
update id of the window, each level with its final quantity, exactly what the
documented U/u rule expects); a book ticker goes out when the top of book changed;
partial books and klines go out on their periods. Frames are rendered once per
message, queued on every subscriber and written with one socket write per
connection per quantum; each published message is recorded in the ground truth.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from operator import itemgetter

from aiohttp import web

from platform_streams.simulator.binance import frames
from platform_streams.simulator.binance.streams import (
    DIFF_DEPTH_CHANNELS,
    PARTIAL_DEPTH_CHANNELS,
    BinanceSymbols,
    Channel,
    StreamKey,
)
from platform_streams.simulator.ground_truth import GroundTruth
from platform_streams.simulator.market.market_batch import MarketBatch
from platform_streams.simulator.market.venue_market import VenueMarket
from platform_streams.simulator.websocket_connection import ClientConnection

_KLINE_PERIOD_MS = 2000
_INSTRUMENT = itemgetter(0)  # of a level change or a trade


class StreamConnection(ClientConnection):
    """A Binance market/user stream connection: raw (``/ws``) or combined (``/stream``) payloads."""

    __slots__ = ("combined", "streams")

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, max_buffer_bytes: int, combined: bool) -> None:
        super().__init__(ws, request, max_buffer_bytes)
        self.combined = combined
        self.streams: dict[str, StreamKey | str] = {}  # name -> market stream, or the listenKey itself


class TooManyStreams(Exception):
    """A connection asked for more streams than one connection may have."""


class _DiffWindow:
    __slots__ = ("bids", "asks", "first", "last")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.first = 0
        self.last = 0


class StreamHub:
    """Subscriptions of every connection to one Binance venue, and the per-quantum publication."""

    def __init__(
        self,
        market: VenueMarket,
        symbols: BinanceSymbols,
        ground_truth: GroundTruth,
        exchange_code: int,
        max_streams: int,
        listen_key_valid: Callable[[str], bool],
    ) -> None:
        self._market = market
        self._symbols = symbols
        self._ground_truth = ground_truth
        self._exchange_code = exchange_code
        self.max_streams = max_streams
        self._listen_key_valid = listen_key_valid
        count = len(market.instruments)
        self._subscribers: list[list[list[StreamConnection] | None]] = [[None] * count for _ in Channel]
        self._active: dict[Channel, dict[int, None]] = {channel: {} for channel in Channel}  # instruments with subscribers
        self._user_subscribers: dict[str, list[StreamConnection]] = {}
        self._names: list[list[bytes | None]] = [[None] * count for _ in Channel]  # combined-stream names
        self._diff_windows: dict[Channel, dict[int, _DiffWindow]] = {channel: {} for channel in DIFF_DEPTH_CHANNELS}
        self._last_top: dict[int, tuple[int, int, int, int]] = {}
        self._last_period: dict[int, int] = {}
        self._dirty: list[StreamConnection] = []
        self.connections: set[StreamConnection] = set()
        self._messages: list[int] = []  # channel, instrument, id, first id, fan-out of each message in turn

    # subscriptions -------------------------------------------------------

    def is_stream(self, name: str) -> bool:
        return self._symbols.parse_stream(name) is not None or self._listen_key_valid(name)

    def subscribe(self, connection: StreamConnection, names: Iterable[str]) -> None:
        """Subscribe to valid names (the caller has validated them); raises TooManyStreams past the limit."""
        new = [n for n in dict.fromkeys(names) if n not in connection.streams]
        if len(connection.streams) + len(new) > self.max_streams:
            raise TooManyStreams(f"{len(connection.streams) + len(new)} streams > {self.max_streams}")
        for name in new:
            key = self._symbols.parse_stream(name)
            if key is None:
                connection.streams[name] = name
                self._user_subscribers.setdefault(name, []).append(connection)
                continue
            connection.streams[name] = key
            row = self._subscribers[key.channel]
            listeners = row[key.instrument]
            if listeners is None:
                listeners = row[key.instrument] = []
                self._on_first_subscriber(key)
            listeners.append(connection)

    def unsubscribe(self, connection: StreamConnection, names: Iterable[str]) -> None:
        for name in names:
            key = connection.streams.pop(name, None)
            if key is None:
                continue
            if isinstance(key, str):
                listeners = self._user_subscribers.get(key, [])
                if connection in listeners:
                    listeners.remove(connection)
                if not listeners:
                    self._user_subscribers.pop(key, None)
                continue
            row = self._subscribers[key.channel]
            listeners = row[key.instrument] or []
            if connection in listeners:
                listeners.remove(connection)
            if not listeners:
                row[key.instrument] = None
                self._on_last_subscriber(key)

    def attach(self, connection: StreamConnection) -> None:
        self.connections.add(connection)

    def detach(self, connection: StreamConnection) -> None:
        self.unsubscribe(connection, list(connection.streams))
        self.connections.discard(connection)
        connection.closed = True

    def _on_first_subscriber(self, key: StreamKey) -> None:
        self._active[key.channel][key.instrument] = None
        if key.channel in self._diff_windows:
            self._diff_windows[key.channel][key.instrument] = _DiffWindow()
        elif key.channel is Channel.BOOK_TICKER:
            self._last_top[key.instrument] = self._market.books[key.instrument].top()

    def _on_last_subscriber(self, key: StreamKey) -> None:
        self._active[key.channel].pop(key.instrument, None)
        if key.channel in self._diff_windows:
            self._diff_windows[key.channel].pop(key.instrument, None)
        elif key.channel is Channel.BOOK_TICKER:
            self._last_top.pop(key.instrument, None)

    def _name(self, channel: Channel, instrument: int) -> bytes:
        name = self._names[channel][instrument]
        if name is None:
            name = self._names[channel][instrument] = self._symbols.stream_name(StreamKey(channel, instrument)).encode()
        return name

    # publication ----------------------------------------------------------

    def _send(
        self, listeners: list[StreamConnection], channel: Channel, instrument: int, event_id: int, first_id: int, data: bytes
    ) -> None:
        wrapped = None
        dirty = self._dirty
        for connection in listeners:
            pending = connection.pending
            if not pending:
                dirty.append(connection)
            if connection.combined:
                if wrapped is None:
                    wrapped = frames.combined(self._names[channel][instrument] or self._name(channel, instrument), data)
                pending.append(wrapped)
            else:
                pending.append(data)
        self._messages.extend((channel, instrument, event_id, first_id, len(listeners)))

    def publish(self, batch: MarketBatch, now_ns: int) -> None:
        """Render and queue everything subscribers should get for this quantum (:meth:`flush` writes it)."""
        event_ms = now_ns // 1_000_000
        self._publish_trades(batch, event_ms)
        self._accumulate_diffs(batch)
        self._publish_book_tickers(batch)
        for period in (100, 1000, _KLINE_PERIOD_MS):
            index = event_ms // period
            if self._last_period.get(period, index) != index:
                self._publish_periodic(period, event_ms)
            self._last_period[period] = index

    def flush(self) -> None:
        """Write every connection's queued frames, then record what went out."""
        for connection in self._dirty:
            connection.flush()
        self._dirty = []
        if self._messages:
            self._ground_truth.record_messages(self._exchange_code, self._messages, time.time_ns())
            self._messages = []

    def _publish_trades(self, batch: MarketBatch, event_ms: int) -> None:
        specs, names, send = self._market.instruments, self._symbols.name_bytes, self._send
        trade_rows, aggregate_rows = self._subscribers[Channel.TRADE], self._subscribers[Channel.AGG_TRADE]
        for instrument, trade_id, price, lots, buyer_is_maker, ts_ns in batch.trades:
            listeners = trade_rows[instrument]
            if listeners:
                spec = specs[instrument]
                data = frames.trade(
                    names[instrument],
                    event_ms,
                    trade_id,
                    price * spec.tick,
                    lots * spec.lot,
                    ts_ns // 1_000_000,
                    buyer_is_maker,
                )
                send(listeners, Channel.TRADE, instrument, trade_id, trade_id, data)
        for instrument, aggregate_id, price, lots, first, last, buyer_is_maker, ts_ns in batch.aggregates:
            listeners = aggregate_rows[instrument]
            if listeners:
                spec = specs[instrument]
                data = frames.aggregate_trade(
                    names[instrument],
                    event_ms,
                    aggregate_id,
                    price * spec.tick,
                    lots * spec.lot,
                    first,
                    last,
                    ts_ns // 1_000_000,
                    buyer_is_maker,
                )
                send(listeners, Channel.AGG_TRADE, instrument, aggregate_id, first, data)

    def _accumulate_diffs(self, batch: MarketBatch) -> None:
        for windows in self._diff_windows.values():
            if not windows:
                continue
            for instrument, is_bid, price, lots, update_id in batch.levels:
                window = windows.get(instrument)
                if window is not None:
                    if not window.first:
                        window.first = update_id
                    window.last = update_id
                    (window.bids if is_bid else window.asks)[price] = lots

    def _publish_book_tickers(self, batch: MarketBatch) -> None:
        last_top = self._last_top
        if not last_top or not batch.levels:
            return
        rows, books, specs = self._subscribers[Channel.BOOK_TICKER], self._market.books, self._market.instruments
        names = self._symbols.name_bytes
        for instrument in set(filter(last_top.__contains__, map(_INSTRUMENT, batch.levels))):
            book = books[instrument]
            top = book.top()
            if top == last_top[instrument]:
                continue
            last_top[instrument] = top
            spec = specs[instrument]
            tick, lot = spec.tick, spec.lot
            bid, bid_lots, ask, ask_lots = top
            data = frames.book_ticker(
                book.update_id,
                names[instrument],
                bid * tick,
                bid_lots * lot,
                ask * tick,
                ask_lots * lot,
            )
            self._send(rows[instrument] or [], Channel.BOOK_TICKER, instrument, book.update_id, book.update_id, data)

    def _publish_periodic(self, period: int, event_ms: int) -> None:
        if period == _KLINE_PERIOD_MS:
            self._publish_klines(event_ms)
            return
        diff_channel = Channel.DEPTH_100MS if period == 100 else Channel.DEPTH_1000MS
        self._publish_diffs(diff_channel, event_ms)
        for channel, depth, channel_period in PARTIAL_DEPTH_CHANNELS:
            if channel_period == period:
                self._publish_partial_books(channel, depth)

    def _publish_diffs(self, channel: Channel, event_ms: int) -> None:
        rows, specs = self._subscribers[channel], self._market.instruments
        for instrument, window in self._diff_windows[channel].items():
            if not window.last:
                continue
            spec = specs[instrument]
            tick, lot = spec.tick, spec.lot
            window_bids, window_asks = window.bids, window.asks
            bid_prices, ask_prices = sorted(window_bids, reverse=True), sorted(window_asks)
            bids = frames.levels([p * tick for p in bid_prices], [window_bids[p] * lot for p in bid_prices])
            asks = frames.levels([p * tick for p in ask_prices], [window_asks[p] * lot for p in ask_prices])
            data = frames.depth_update(event_ms, self._symbols.name_bytes[instrument], window.first, window.last, bids, asks)
            self._send(rows[instrument] or [], channel, instrument, window.last, window.first, data)
            window.bids, window.asks, window.first, window.last = {}, {}, 0, 0

    def _publish_partial_books(self, channel: Channel, depth: int) -> None:
        rows, books, specs = self._subscribers[channel], self._market.books, self._market.instruments
        for instrument in self._active[channel]:
            listeners = rows[instrument]
            if listeners:
                book, spec = books[instrument], specs[instrument]
                tick, lot = spec.tick, spec.lot
                bids = frames.levels([-key * tick for key in book.bids.keys[:depth]], [q * lot for q in book.bids.lots[:depth]])
                asks = frames.levels([key * tick for key in book.asks.keys[:depth]], [q * lot for q in book.asks.lots[:depth]])
                self._send(
                    listeners,
                    channel,
                    instrument,
                    book.update_id,
                    book.update_id,
                    frames.partial_depth(book.update_id, bids, asks),
                )

    def _publish_klines(self, event_ms: int) -> None:
        candles, specs, names = self._market.candles, self._market.instruments, self._symbols.name_bytes
        rows = self._subscribers[Channel.KLINE_1M]
        for instrument in self._active[Channel.KLINE_1M]:
            listeners = rows[instrument]
            if listeners:
                spec = specs[instrument]
                closed = candles.roll(instrument, event_ms)
                if closed:
                    final = closed[-1]
                    self._send(
                        listeners,
                        Channel.KLINE_1M,
                        instrument,
                        final[0],
                        final[0],
                        frames.kline(event_ms, names[instrument], final, spec.tick, spec.lot, True),
                    )
                current = candles.current(instrument)
                self._send(
                    listeners,
                    Channel.KLINE_1M,
                    instrument,
                    current[0],
                    current[0],
                    frames.kline(event_ms, names[instrument], current, spec.tick, spec.lot, False),
                )

    def publish_user_event(self, listen_key: str, channel: Channel, instrument: int, event_id: int, data: bytes) -> None:
        """Send one user data stream event to the connections listening on ``listen_key`` right away."""
        listeners = self._user_subscribers.get(listen_key)
        if not listeners:
            return
        wrapped = None
        for connection in listeners:
            if connection.combined:
                wrapped = wrapped or frames.combined(listen_key.encode(), data)
                connection.send_now(wrapped)
            else:
                connection.send_now(data)
        self._ground_truth.record_emitted(
            self._exchange_code, [channel], [instrument], [event_id], [event_id], [len(listeners)], time.time_ns()
        )

    def drop_listen_key(self, listen_key: str) -> list[StreamConnection]:
        """Forget a closed or expired listenKey; returns the connections that were listening on it."""
        return self._user_subscribers.pop(listen_key, [])
