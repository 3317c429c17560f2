"""The publication of each quantum to the simulated Kraken's WebSocket v2 subscribers, and their snapshots.

``trade`` sends the quantum's trades of a pair in one message, with their trade ids;
``ticker`` goes out for every pair that traded in the quantum (``event_trigger: trades``,
Kraken's default) or whose best bid or offer changed (``bbo``); ``book`` goes through the
Kraken book feed with v2's frames (the same depth views, truncation and checksums as v1).
Who subscribed to what, and the ``{"channel":"heartbeat"}`` a subscribed connection gets
after ``heartbeat_interval_s`` (simulated time) without traffic, are kept as for v1, by
:class:`~platform_streams.simulator.kraken.subscriptions.KrakenSubscriptions`. Messages are
recorded in the ground truth under the exchange ``<venue>v2`` (``krakenv2``), channels named
in :mod:`.channels`.
"""

from __future__ import annotations

from operator import itemgetter

from platform_streams.simulator.ground_truth import GroundTruth
from platform_streams.simulator.kraken.pairs import KrakenPairs
from platform_streams.simulator.kraken.subscriptions import KrakenConnection, KrakenSubscriptions
from platform_streams.simulator.kraken.v2 import frames
from platform_streams.simulator.kraken.v2.channels import (
    BOOK_SLOTS,
    CHANNEL_NAMES,
    TICKER_BBO_SLOT,
    TICKER_SLOT,
    TRADE_SLOT,
)
from platform_streams.simulator.market.candle_history import CandleHistory
from platform_streams.simulator.market.market_batch import MarketBatch
from platform_streams.simulator.market.rolling_window import RollingWindows
from platform_streams.simulator.market.venue_market import VenueMarket
from platform_streams.simulator.publication import FramePublisher

_SIDES = (b"buy", b"sell")  # the taker's: a buyer who is maker means the taker sold
_INSTRUMENT = itemgetter(0)  # of a trade or a level change
_RECENT_TRADES = 50  # a trade subscription's snapshot


class KrakenV2Hub:
    """The per-quantum publication of one simulated Kraken's v2 endpoint, over its subscriptions."""

    def __init__(
        self,
        market: VenueMarket,
        pairs: KrakenPairs,
        history: CandleHistory,
        ground_truth: GroundTruth,
        name: str,
        heartbeat_ms: int,
    ) -> None:
        self._market = market
        self._pairs = pairs
        self._windows = RollingWindows(market, history)
        self.publisher = FramePublisher(ground_truth, ground_truth.register_exchange(name, pairs.v2_names, CHANNEL_NAMES))
        self.subscriptions = KrakenSubscriptions(
            market,
            pairs,
            self.publisher,
            frames.V2BookFrames(pairs),
            BOOK_SLOTS,
            len(CHANNEL_NAMES),
            frames.HEARTBEAT,
            heartbeat_ms,
        )
        self._table = self.subscriptions.table
        self._time = frames.TimeText()
        self._tops: dict[int, tuple[int, int, int, int]] = {}  # the best bid and offer last sent on ticker-bbo

    def subscribe(self, connection: KrakenConnection, slot: int, instrument: int, snapshot: bool, now_ns: int) -> bytes | None:
        """Subscribe; returns the snapshot to send right after the acknowledgement, if one was asked for."""
        book = self.subscriptions.subscribe(connection, slot, instrument, now_ns)
        if not snapshot:
            return None
        if book is not None:
            return book
        if slot == TRADE_SLOT:
            return self._recent_trades(instrument)
        return frames.ticker(
            b"snapshot", self._pairs.v2_name_bytes[instrument], self._ticker_values(instrument, now_ns), self._time(now_ns)
        )

    def unsubscribe(self, connection: KrakenConnection, slot: int, instrument: int) -> None:
        self.subscriptions.unsubscribe(connection, slot, instrument)

    # publication -------------------------------------------------------------------

    def publish(self, batch: MarketBatch, now_ns: int) -> None:
        self.subscriptions.books.publish(batch.levels, now_ns)
        if batch.trades:
            self._publish_trades(batch)
            if self._table.active[TICKER_SLOT]:
                self._publish_tickers(TICKER_SLOT, sorted(set(map(_INSTRUMENT, batch.trades))), now_ns)
        if batch.levels and self._table.active[TICKER_BBO_SLOT]:
            self._publish_best_changes(batch, now_ns)
        self.subscriptions.queue_heartbeats(now_ns)

    def flush(self) -> None:
        """Write every connection's queued frames, then record what went out."""
        self.publisher.flush()

    def _publish_trades(self, batch: MarketBatch) -> None:
        rows = self._table.rows[TRADE_SLOT]
        price, volume, names = self._pairs.prices.text, self._pairs.volumes.text, self._pairs.v2_name_bytes
        for instrument, trades in self.subscriptions.trades_by_pair(batch.trades, TRADE_SLOT).items():
            entries = [
                frames.trade_entry(
                    names[instrument],
                    _SIDES[buyer_is_maker],
                    price(instrument, ticks),
                    volume(instrument, lots),
                    b"limit" if trade_id % 3 == 0 else b"market",
                    trade_id,
                    self._time(ts_ns),
                )
                for _, trade_id, ticks, lots, buyer_is_maker, ts_ns in trades
            ]
            self.publisher.send(
                rows[instrument] or [], TRADE_SLOT, instrument, trades[-1][1], trades[0][1], frames.trades(b"update", entries)
            )

    def _recent_trades(self, instrument: int) -> bytes:
        """The pair's last trades (a snapshot: not new messages, so not in the ground truth)."""
        price, volume, name = self._pairs.prices.text, self._pairs.volumes.text, self._pairs.v2_name_bytes[instrument]
        entries = [
            frames.trade_entry(
                name, _SIDES[buyer_is_maker], price(instrument, ticks), volume(instrument, lots),
                b"limit" if trade_id % 3 == 0 else b"market", trade_id, frames.rfc3339(time_ms * 1_000_000),
            )
            for trade_id, ticks, lots, buyer_is_maker, time_ms in self._market.recent_trades(instrument)[-_RECENT_TRADES:]
        ]  # fmt: skip
        return frames.trades(b"snapshot", entries)

    def _publish_best_changes(self, batch: MarketBatch, now_ns: int) -> None:
        rows, books, tops = self._table.rows[TICKER_BBO_SLOT], self._market.books, self._tops
        changed = []
        for instrument in sorted(set(map(_INSTRUMENT, batch.levels))):
            if rows[instrument]:
                top = books[instrument].top()
                if tops.get(instrument) != top:
                    tops[instrument] = top
                    changed.append(instrument)
        self._publish_tickers(TICKER_BBO_SLOT, changed, now_ns)

    def _publish_tickers(self, slot: int, instruments: list[int], now_ns: int) -> None:
        rows, now_ms, timestamp = self._table.rows[slot], now_ns // 1_000_000, self._time(now_ns)
        for instrument in instruments:
            listeners = rows[instrument]
            if listeners:
                data = frames.ticker(
                    b"update", self._pairs.v2_name_bytes[instrument], self._ticker_values(instrument, now_ns), timestamp
                )
                self.publisher.send(listeners, slot, instrument, now_ms, now_ms, data)

    def _ticker_values(self, instrument: int, now_ns: int) -> tuple[bytes, ...]:
        """What :func:`frames.ticker` takes: best bid and ask, then the last 24 hours' statistics."""
        price, volume = self._pairs.prices.text, self._pairs.volumes.text
        day = self._windows.last_24h(instrument, now_ns // 1_000_000)
        bid, bid_lots, ask, ask_lots = self._market.books[instrument].top()
        vwap = day.quote_volume // day.volume_lots if day.volume_lots else day.last
        change = day.last - day.open
        hundredths = abs(change) * 10_000 // day.open if day.open else 0  # percentage points, to 2 decimals
        sign = b"-" if change < 0 else b""
        return (
            price(instrument, bid),
            volume(instrument, bid_lots),
            price(instrument, ask),
            volume(instrument, ask_lots),
            price(instrument, day.last),
            volume(instrument, day.volume_lots),
            price(instrument, vwap),
            price(instrument, day.low),
            price(instrument, day.high),
            sign + price(instrument, abs(change)),
            sign + b"%d.%02d" % divmod(hundredths, 100),
        )
