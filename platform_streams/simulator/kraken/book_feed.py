"""The Kraken v1 ``book`` channel at each subscribed depth: snapshot on subscribe, then updates with checksum ``c``.

For every (pair, depth) someone subscribed to, the feed keeps the book as such a
client holds it: the top ``depth`` levels. After each quantum it sends what
changed in that window: new sizes, ``"0.00000000"`` for a removed level, and
levels that entered the window only because a better one went away, flagged
``"r"`` (republished). A level pushed out by a better one is not sent: the client
truncates its book to the depth, as Kraken's documentation says. The checksum is
over the top 10 of the book after the update, in the text sent.
"""

from __future__ import annotations

from platform_streams.simulator.kraken import frames
from platform_streams.simulator.kraken.channels import BOOK_DEPTHS, BOOK_SLOTS, KrakenConnection, channel_id
from platform_streams.simulator.kraken.checksum import CHECKSUM_LEVELS, checksum_of_digits
from platform_streams.simulator.kraken.pairs import KrakenPairs
from platform_streams.simulator.market.order_book import BookSide, LevelChange
from platform_streams.simulator.market.venue_market import VenueMarket
from platform_streams.simulator.publication import FramePublisher

_SLOT_OF_DEPTH = dict(zip(BOOK_DEPTHS, BOOK_SLOTS, strict=True))
SideChanges = dict[tuple[bool, int], int]  # (is_bid, price ticks) -> lots after this quantum


class _DepthView:
    """The top ``depth`` levels of one pair as its subscribers hold them."""

    __slots__ = ("depth", "slot", "listeners", "asks", "bids", "asks_truncated", "bids_truncated")

    def __init__(self, depth: int, asks: BookSide, bids: BookSide) -> None:
        self.depth = depth
        self.slot = _SLOT_OF_DEPTH[depth]
        self.listeners: list[KrakenConnection] = []
        self.asks = dict(asks.levels(depth))
        self.bids = dict(bids.levels(depth))
        self.asks_truncated = len(asks) > depth
        self.bids_truncated = len(bids) > depth


class KrakenBookFeed:
    """Depth views of subscribed pairs and the per-quantum updates."""

    def __init__(self, market: VenueMarket, pairs: KrakenPairs, publisher: FramePublisher) -> None:
        self._market = market
        self._pairs = pairs
        self._publisher = publisher
        self._views: dict[int, dict[int, _DepthView]] = {}  # instrument -> depth -> view
        self._tops: dict[int, tuple[tuple[list[int], ...], bytes]] = {}  # keys and lots of the top 10, and its checksum

    def subscribe(self, connection: KrakenConnection, instrument: int, depth: int, ts_text: bytes) -> bytes:
        """Add a subscriber; returns its snapshot (the caller sends it right after the subscription reply)."""
        by_depth = self._views.setdefault(instrument, {})
        view = by_depth.get(depth)
        if view is None:
            book = self._market.books[instrument]
            view = by_depth[depth] = _DepthView(depth, book.asks, book.bids)
        view.listeners.append(connection)
        asks = [self._level(instrument, p, q, ts_text, False) for p, q in sorted(view.asks.items())]
        bids = [self._level(instrument, p, q, ts_text, False) for p, q in sorted(view.bids.items(), reverse=True)]
        self._publisher.note(view.slot, instrument, -1, self._market.books[instrument].update_id, 1)
        return frames.book_snapshot(
            channel_id(instrument, view.slot), asks, bids, b"book-%d" % depth, self._pairs.wsname_bytes[instrument]
        )

    def unsubscribe(self, connection: KrakenConnection, instrument: int, depth: int) -> None:
        by_depth = self._views.get(instrument, {})
        view = by_depth.get(depth)
        if view is None or connection not in view.listeners:
            return
        view.listeners.remove(connection)
        if not view.listeners:
            del by_depth[depth]
            if not by_depth:
                del self._views[instrument]

    def publish(self, changes: list[LevelChange], ts_text: bytes) -> None:
        views = self._views
        if not views:
            return
        by_instrument: dict[int, SideChanges] = {}
        for instrument, is_bid, price, lots, _update_id in changes:
            if instrument in views:
                by_instrument.setdefault(instrument, {})[(is_bid, price)] = lots
        for instrument, side_changes in by_instrument.items():
            self._publish_pair(instrument, side_changes, ts_text)

    def _publish_pair(self, instrument: int, side_changes: SideChanges, ts_text: bytes) -> None:
        book, pair = self._market.books[instrument], self._pairs.wsname_bytes[instrument]
        checksum = b""
        bids_changed = any(is_bid for is_bid, _ in side_changes)
        asks_changed = not all(is_bid for is_bid, _ in side_changes)
        for view in self._views[instrument].values():
            asks = self._side_updates(instrument, view, False, book.asks, side_changes, ts_text) if asks_changed else []
            bids = self._side_updates(instrument, view, True, book.bids, side_changes, ts_text) if bids_changed else []
            if not asks and not bids:
                continue
            checksum = checksum or self._checksum(instrument)
            data = frames.book_update(channel_id(instrument, view.slot), asks, bids, checksum, b"book-%d" % view.depth, pair)
            self._publisher.send(view.listeners, view.slot, instrument, int(checksum), book.update_id, data)

    def _side_updates(
        self, instrument: int, view: _DepthView, is_bid: bool, side: BookSide, changes: SideChanges, ts_text: bytes
    ) -> list[frames.BookLevel]:
        held = view.bids if is_bid else view.asks
        truncated = view.bids_truncated if is_bid else view.asks_truncated
        updates: list[tuple[int, int, bool]] = []
        if not truncated and len(side) <= view.depth:  # the client holds the whole side: send what changed
            for (change_is_bid, price), lots in changes.items():
                if change_is_bid != is_bid:
                    continue
                if lots:
                    held[price] = lots
                elif held.pop(price, None) is None:
                    continue  # added and removed within the quantum: the client never had it
                updates.append((price, lots, False))
        else:
            window = dict(side.levels(view.depth))
            for price, lots in window.items():
                if held.get(price) != lots:
                    updates.append((price, lots, price not in held and (is_bid, price) not in changes))
            updates += [(price, 0, False) for price in held if price not in window and changes.get((is_bid, price)) == 0]
            held.clear()
            held.update(window)
        if is_bid:
            view.bids_truncated = len(side) > view.depth
        else:
            view.asks_truncated = len(side) > view.depth
        updates.sort(reverse=is_bid)
        return [self._level(instrument, price, lots, ts_text, republished) for price, lots, republished in updates]

    def _level(self, instrument: int, price: int, lots: int, ts_text: bytes, republished: bool) -> frames.BookLevel:
        return self._pairs.price(instrument, price), self._pairs.volume(instrument, lots), ts_text, republished

    def _checksum(self, instrument: int) -> bytes:
        """The checksum of the book now, recomputed only when its top 10 levels changed."""
        book, n = self._market.books[instrument], CHECKSUM_LEVELS
        top = (book.asks.keys[:n], book.asks.lots[:n], book.bids.keys[:n], book.bids.lots[:n])
        cached = self._tops.get(instrument)
        if cached is not None and cached[0] == top:
            return cached[1]
        digits = self._pairs.checksum_digits
        checksum = checksum_of_digits(digits(instrument, top[0], top[1]) + digits(instrument, [-key for key in top[2]], top[3]))
        self._tops[instrument] = (top, checksum)
        return checksum
