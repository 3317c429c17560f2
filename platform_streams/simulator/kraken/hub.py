"""The publication of each quantum's events to the simulated Kraken's WebSocket v1 subscribers.

``trade`` sends the quantum's trades of a pair in one frame; ``ticker`` and ``ohlc``
go out for every pair that traded in the quantum (Kraken updates both on trades);
``book`` goes through :class:`KrakenBookFeed`. Who subscribed to what, and the
``{"event":"heartbeat"}`` a subscribed connection gets after ``heartbeat_interval_s``
(simulated time) without traffic, are :class:`KrakenSubscriptions`' (as for v2).
"""

from __future__ import annotations

from operator import itemgetter

from platform_streams.simulator.ground_truth import GroundTruth
from platform_streams.simulator.kraken import frames
from platform_streams.simulator.kraken.channels import (
    BOOK_DEPTHS,
    BOOK_SLOTS,
    CHANNEL_NAMES,
    OHLC_INTERVALS_MIN,
    OHLC_SLOTS,
    SUBSCRIPTIONS,
    TICKER_SLOT,
    TRADE_SLOT,
    channel_id,
)
from platform_streams.simulator.kraken.pairs import KrakenPairs, kraken_time
from platform_streams.simulator.kraken.subscriptions import KrakenConnection, KrakenSubscriptions
from platform_streams.simulator.market.candle_history import CandleHistory
from platform_streams.simulator.market.candles import CLOSE, HIGH, LOW, MINUTE_MS, OPEN, OPEN_TIME, QUOTE, TRADES, VOLUME
from platform_streams.simulator.market.kline_query import klines
from platform_streams.simulator.market.market_batch import MarketBatch
from platform_streams.simulator.market.rolling_window import RollingWindows
from platform_streams.simulator.market.universe import SCALE_FACTOR
from platform_streams.simulator.market.venue_market import VenueMarket
from platform_streams.simulator.publication import FramePublisher

_SIDES = (b"b", b"s")  # taker side: buyer is maker -> the taker sold
_INSTRUMENT = itemgetter(0)  # of a trade


class KrakenHub:
    """The per-quantum publication of one simulated Kraken's v1 endpoint, over its subscriptions."""

    def __init__(
        self,
        market: VenueMarket,
        pairs: KrakenPairs,
        history: CandleHistory,
        ground_truth: GroundTruth,
        exchange_code: int,
        heartbeat_interval_ms: int,
    ) -> None:
        self._market = market
        self._pairs = pairs
        self._history = history
        self._windows = RollingWindows(market, history)
        self.publisher = FramePublisher(ground_truth, exchange_code)
        self.subscriptions = KrakenSubscriptions(
            market,
            pairs,
            self.publisher,
            frames.V1BookFrames(pairs),
            dict(zip(BOOK_DEPTHS, BOOK_SLOTS, strict=True)),
            len(SUBSCRIPTIONS),
            frames.HEARTBEAT,
            heartbeat_interval_ms,
        )
        self._table = self.subscriptions.table

    def subscribe(self, connection: KrakenConnection, slot: int, instrument: int, now_ms: int) -> bytes | None:
        """Subscribe; returns the snapshot to send after the reply (book), else None."""
        return self.subscriptions.subscribe(connection, slot, instrument, now_ms * 1_000_000)

    def unsubscribe(self, connection: KrakenConnection, slot: int, instrument: int) -> None:
        self.subscriptions.unsubscribe(connection, slot, instrument)

    # publication -------------------------------------------------------------------

    def publish(self, batch: MarketBatch, now_ns: int) -> None:
        self.subscriptions.books.publish(batch.levels, now_ns)
        if batch.trades:
            self._publish_trades(batch)
            traded = sorted(set(map(_INSTRUMENT, batch.trades)))
            self._publish_tickers(traded, now_ns // 1_000_000)
            self._publish_ohlc(traded, now_ns)
        self.subscriptions.queue_heartbeats(now_ns)

    def flush(self) -> None:
        """Write every connection's queued frames, then record what went out."""
        self.publisher.flush()

    def _publish_trades(self, batch: MarketBatch) -> None:
        rows, wsnames = self._table.rows[TRADE_SLOT], self._pairs.wsname_bytes
        price, volume = self._pairs.prices.text, self._pairs.volumes.text
        for instrument, trades in self.subscriptions.trades_by_pair(batch.trades, TRADE_SLOT).items():
            trade_rows = [
                frames.trade_row(
                    price(instrument, ticks),
                    volume(instrument, lots),
                    kraken_time(ts_ns),
                    _SIDES[buyer_is_maker],
                    b"l" if trade_id % 3 == 0 else b"m",  # order type
                )
                for _, trade_id, ticks, lots, buyer_is_maker, ts_ns in trades
            ]
            data = frames.trades(channel_id(instrument, TRADE_SLOT), trade_rows, wsnames[instrument])
            # ground truth: the frame's last and first trade ids (Kraken v1 trades carry no id on the wire)
            self.publisher.send(rows[instrument] or [], TRADE_SLOT, instrument, trades[-1][1], trades[0][1], data)

    def _publish_tickers(self, traded: list[int], now_ms: int) -> None:
        rows = self._table.rows[TICKER_SLOT]
        for instrument in traded:
            listeners = rows[instrument]
            if listeners:
                data = frames.ticker(
                    channel_id(instrument, TICKER_SLOT),
                    self._ticker_values(instrument, now_ms),
                    self._pairs.wsname_bytes[instrument],
                )
                self.publisher.send(listeners, TICKER_SLOT, instrument, now_ms, now_ms, data)

    def _ticker_values(self, instrument: int, now_ms: int) -> tuple[bytes | int, ...]:
        """What :func:`frames.ticker` takes: best ask and bid, last trade, volumes, VWAPs, trades, low, high, open."""
        price, volume = self._pairs.prices.text, self._pairs.volumes.text
        today, day = self._windows.today(instrument, now_ms), self._windows.last_24h(instrument, now_ms)
        bid, bid_lots, ask, ask_lots = self._market.books[instrument].top()
        lot = self._market.instruments[instrument].lot
        today_vwap = today.quote_volume // today.volume_lots if today.volume_lots else today.last
        day_vwap = day.quote_volume // day.volume_lots if day.volume_lots else day.last
        return (
            price(instrument, ask),
            ask_lots * lot // SCALE_FACTOR,  # the whole lot volume
            volume(instrument, ask_lots),
            price(instrument, bid),
            bid_lots * lot // SCALE_FACTOR,
            volume(instrument, bid_lots),
            price(instrument, day.last),
            volume(instrument, day.last_lots),
            volume(instrument, today.volume_lots),
            volume(instrument, day.volume_lots),
            price(instrument, today_vwap),
            price(instrument, day_vwap),
            today.trades,
            day.trades,
            price(instrument, today.low),
            price(instrument, day.low),
            price(instrument, today.high),
            price(instrument, day.high),
            price(instrument, today.open),
            price(instrument, day.open),
        )

    def _publish_ohlc(self, traded: list[int], now_ns: int) -> None:
        active = self._table.active
        for slot, minutes in zip(OHLC_SLOTS, OHLC_INTERVALS_MIN, strict=True):
            if not active[slot]:
                continue
            rows = self._table.rows[slot]
            for instrument in traded:
                listeners = rows[instrument]
                if listeners:
                    row, open_ms = self._ohlc_row(instrument, minutes, now_ns)
                    name = CHANNEL_NAMES[slot].encode()
                    data = frames.ohlc(channel_id(instrument, slot), row, name, self._pairs.wsname_bytes[instrument])
                    self.publisher.send(listeners, slot, instrument, open_ms, open_ms, data)

    def _ohlc_row(self, instrument: int, minutes: int, now_ns: int) -> tuple[bytes, int]:
        now_ms = now_ns // 1_000_000
        if minutes == 1:
            self._market.candles.roll(instrument, now_ms)
            candle = self._market.candles.current(instrument)
        else:
            interval_ms = minutes * MINUTE_MS
            candle = klines(self._market, self._history, instrument, interval_ms, None, None, 1, now_ms)[-1]
        pairs = self._pairs
        vwap = candle[QUOTE] // candle[VOLUME] if candle[VOLUME] else candle[CLOSE]
        end_ns = (candle[OPEN_TIME] + minutes * MINUTE_MS) * 1_000_000
        row = b'["%b","%b","%b","%b","%b","%b","%b","%b",%d]' % (
            kraken_time(now_ns),
            kraken_time(end_ns),
            pairs.price(instrument, candle[OPEN]),
            pairs.price(instrument, candle[HIGH]),
            pairs.price(instrument, candle[LOW]),
            pairs.price(instrument, candle[CLOSE]),
            pairs.price(instrument, vwap),
            pairs.volume(instrument, candle[VOLUME]),
            candle[TRADES],
        )
        return row, candle[OPEN_TIME]
