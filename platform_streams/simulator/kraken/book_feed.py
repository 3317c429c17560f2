"""Kraken's ``book`` channel at each subscribed depth, for WebSocket v1 and v2: snapshot on subscribe,
then updates with the checksum.

For every (pair, depth) someone subscribed to, the feed keeps the book as such a
client holds it: the top ``depth`` levels. After each quantum it sends what
changed in that window: new sizes, a zero size for a removed level, and levels
that entered the window only because a better one went away (v1 flags them ``"r"``,
republished). A level pushed out by a better one is not sent: the client truncates
its book to the depth, as Kraken's documentation says for both versions. The
checksum is over the top 10 of the book after the update, in the text sent; v1
sends it with updates, v2 with snapshots too. The two versions differ only in how
messages are written (:class:`BookFrames`: v1's arrays, v2's objects), so one feed
serves each, with the version's frames, channel codes and ground-truth publisher.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import compress, count
from operator import ne
from typing import Protocol

from platform_streams.simulator.kraken.checksum import CHECKSUM_LEVELS, checksum_of_digits
from platform_streams.simulator.kraken.pairs import KrakenPairs
from platform_streams.simulator.market.order_book import BookSide, LevelChange
from platform_streams.simulator.market.venue_market import VenueMarket
from platform_streams.simulator.publication import FramePublisher
from platform_streams.simulator.websocket_connection import ClientConnection

SideChanges = dict[int, int]  # price ticks -> lots after this quantum, of one side


class BookFrames(Protocol):
    """How one protocol version writes book messages (levels are rendered once per message, best first)."""

    checksum_in_snapshot: bool

    def levels(self, prices: list[bytes], volumes: list[bytes], republished: list[bool], now_ns: int) -> list[bytes]:
        """Each level as it appears in a message."""
        ...

    def snapshot(
        self, instrument: int, depth: int, slot: int, asks: list[bytes], bids: list[bytes], checksum: bytes, now_ns: int
    ) -> bytes:
        """A whole book message (``checksum`` empty when the version sends none with snapshots)."""
        ...

    def update(
        self, instrument: int, depth: int, slot: int, asks: list[bytes], bids: list[bytes], checksum: bytes, now_ns: int
    ) -> bytes:
        """An update message of the levels that changed."""
        ...


class _HeldSide:
    """One side of a depth view as its subscribers hold it, in one of two forms.

    While the side is deeper than the view (the common case), it is the book's top
    ``depth`` keys and lots (``keys``/``lots``, best first), replaced by the new window
    after each update, so an unchanged window costs one list comparison. While the
    client holds the whole side, it is patched level by level (``levels``: key ->
    lots). Keys are the book's: asks' prices, bids' negated prices.
    """

    __slots__ = ("keys", "lots", "levels", "truncated")

    def __init__(self, side: BookSide, depth: int) -> None:
        self.keys: list[int] = side.keys[:depth]
        self.lots: list[int] = side.lots[:depth]
        self.levels: dict[int, int] | None = None
        self.truncated = len(side) > depth

    def as_levels(self) -> dict[int, int]:
        if self.levels is None:
            self.levels = dict(zip(self.keys, self.lots, strict=True))
        return self.levels

    def best_first(self) -> tuple[list[int], list[int]]:
        """Keys and lots, best first."""
        if self.levels is None:
            return self.keys, self.lots
        keys = sorted(self.levels)
        return keys, [self.levels[key] for key in keys]


class _DepthView:
    """The top ``depth`` levels of one pair as its subscribers hold them (``slot``: the channel's ground-truth code)."""

    __slots__ = ("depth", "slot", "listeners", "asks", "bids")

    def __init__(self, depth: int, slot: int, asks: BookSide, bids: BookSide) -> None:
        self.depth = depth
        self.slot = slot
        self.listeners: list[ClientConnection] = []
        self.asks = _HeldSide(asks, depth)
        self.bids = _HeldSide(bids, depth)


class KrakenBookFeed:
    """Depth views of subscribed pairs and the per-quantum updates, written by one version's ``frames``;
    ``slot_of_depth`` gives each depth's channel code in ``publisher``'s ground truth."""

    def __init__(
        self,
        market: VenueMarket,
        pairs: KrakenPairs,
        publisher: FramePublisher,
        frames: BookFrames,
        slot_of_depth: Mapping[int, int],
    ) -> None:
        self._market = market
        self._pairs = pairs
        self._publisher = publisher
        self._frames = frames
        self._slot_of_depth = slot_of_depth
        self._views: dict[int, dict[int, _DepthView]] = {}  # instrument -> depth -> view
        self._sides: dict[int, _ChecksumSides] = {}  # what each pair's checksum was last computed from

    def subscribe(self, connection: ClientConnection, instrument: int, depth: int, now_ns: int) -> bytes:
        """Add a subscriber; returns its snapshot (the caller sends it right after the subscription reply)."""
        by_depth = self._views.setdefault(instrument, {})
        view = by_depth.get(depth)
        if view is None:
            book = self._market.books[instrument]
            view = by_depth[depth] = _DepthView(depth, self._slot_of_depth[depth], book.asks, book.bids)
        view.listeners.append(connection)
        ask_keys, ask_lots = view.asks.best_first()
        bid_keys, bid_lots = view.bids.best_first()
        asks = self._levels(instrument, ask_keys, ask_lots, [False] * len(ask_keys), now_ns)
        bids = self._levels(instrument, [-key for key in bid_keys], bid_lots, [False] * len(bid_keys), now_ns)
        checksum = self._checksum(instrument, view) if self._frames.checksum_in_snapshot else b""
        self._publisher.note(view.slot, instrument, int(checksum or -1), self._market.books[instrument].update_id, 1)
        return self._frames.snapshot(instrument, depth, view.slot, asks, bids, checksum, now_ns)

    def unsubscribe(self, connection: ClientConnection, instrument: int, depth: int) -> None:
        by_depth = self._views.get(instrument, {})
        view = by_depth.get(depth)
        if view is None or connection not in view.listeners:
            return
        view.listeners.remove(connection)
        if not view.listeners:
            del by_depth[depth]
            if not by_depth:
                del self._views[instrument]
                self._sides.pop(instrument, None)

    def publish(self, changes: list[LevelChange], now_ns: int) -> None:
        views = self._views
        if not views:
            return
        by_instrument: dict[int, tuple[SideChanges, SideChanges]] = {}  # instrument -> (ask changes, bid changes)
        for instrument, is_bid, price, lots, _update_id in changes:
            if instrument in views:
                sides = by_instrument.get(instrument)
                if sides is None:
                    sides = by_instrument[instrument] = ({}, {})
                sides[is_bid][price] = lots
        for instrument, (ask_changes, bid_changes) in by_instrument.items():
            self._publish_pair(instrument, ask_changes, bid_changes, now_ns)

    def _publish_pair(self, instrument: int, ask_changes: SideChanges, bid_changes: SideChanges, now_ns: int) -> None:
        book = self._market.books[instrument]
        checksum = b""
        for view in self._views[instrument].values():
            asks = self._side_updates(instrument, view, False, book.asks, ask_changes, now_ns) if ask_changes else []
            bids = self._side_updates(instrument, view, True, book.bids, bid_changes, now_ns) if bid_changes else []
            if not asks and not bids:
                continue
            checksum = checksum or self._checksum(instrument, view)
            data = self._frames.update(instrument, view.depth, view.slot, asks, bids, checksum, now_ns)
            self._publisher.send(view.listeners, view.slot, instrument, int(checksum), book.update_id, data)

    def _side_updates(
        self, instrument: int, view: _DepthView, is_bid: bool, side: BookSide, changes: SideChanges, now_ns: int
    ) -> list[bytes]:
        """The rendered levels of one side's update (best first), and the held side brought up to date.

        Updates are ``(key, lots, republished)``: a level that entered the window only
        because a better one went away is republished; a level pushed out by a better
        one is not sent (the client truncates); one removed from the book is sent with 0.
        The held window's lists are replaced only when they change, so the checksum can
        tell an unchanged side by identity.
        """
        depth, held = view.depth, view.bids if is_bid else view.asks
        sign = -1 if is_bid else 1  # price = sign * key
        updates: list[tuple[int, int, bool]]
        if not held.truncated and len(side) <= depth:  # the client holds the whole side: send what changed
            levels, updates = held.as_levels(), []
            for price, lots in changes.items():
                key = sign * price
                if lots:
                    levels[key] = lots
                elif levels.pop(key, None) is None:
                    continue  # added and removed within the quantum: the client never had it
                updates.append((key, lots, False))
            updates.sort()
        else:
            keys, lots = side.keys[:depth], side.lots[:depth]
            if held.levels is None and keys == held.keys:  # the same levels: only sizes may have changed
                held.truncated = len(side) > depth
                old_lots = held.lots
                if lots == old_lots:
                    return []
                held.lots = lots
                changed = list(compress(count(), map(ne, lots, old_lots)))
                return self._levels(
                    instrument, [sign * keys[k] for k in changed], [lots[k] for k in changed], [False] * len(changed), now_ns
                )
            old = held.as_levels()
            new = dict(zip(keys, lots, strict=True))
            updates = [
                (key, size, key not in old and sign * key not in changes) for key, size in new.items() if old.get(key) != size
            ]
            updates += [(key, 0, False) for key in old if key not in new and changes.get(sign * key) == 0]
            updates.sort()
            held.keys, held.lots, held.levels = keys, lots, None
        held.truncated = len(side) > depth
        if not updates:
            return []
        prices = [sign * key for key, _, _ in updates]
        return self._levels(instrument, prices, [size for _, size, _ in updates], [flag for _, _, flag in updates], now_ns)

    def _levels(self, instrument: int, prices: list[int], lots: list[int], republished: list[bool], now_ns: int) -> list[bytes]:
        pairs = self._pairs
        return self._frames.levels(
            pairs.prices.texts(instrument, prices), pairs.volumes.texts(instrument, lots), republished, now_ns
        )

    def _checksum(self, instrument: int, view: _DepthView) -> bytes:
        """The checksum of the book now: asks' digits then bids', each side's kept until its top 10 levels change
        (an update rarely changes both sides).

        A depth-10 view holds exactly those levels (as the lists of the window it last
        sent, unchanged lists when nothing changed): they are used as they are.
        """
        n = CHECKSUM_LEVELS
        sides = self._sides.get(instrument)
        if sides is None:
            sides = self._sides[instrument] = _ChecksumSides()
        ask_keys, ask_lots = self._top(instrument, view, view.asks, False)
        bid_keys, bid_lots = self._top(instrument, view, view.bids, True)
        changed = False
        if ask_keys is not sides.ask_keys or ask_lots is not sides.ask_lots:
            if ask_keys != sides.ask_keys or ask_lots != sides.ask_lots:
                sides.ask_digits = self._pairs.checksum_digits(instrument, ask_keys, ask_lots)
                changed = True
            sides.ask_keys, sides.ask_lots = ask_keys, ask_lots
        if bid_keys is not sides.bid_keys or bid_lots is not sides.bid_lots:
            if bid_keys != sides.bid_keys or bid_lots != sides.bid_lots:
                sides.bid_digits = self._pairs.checksum_digits(instrument, [-key for key in bid_keys[:n]], bid_lots)
                changed = True
            sides.bid_keys, sides.bid_lots = bid_keys, bid_lots
        if changed:
            sides.checksum = checksum_of_digits(sides.ask_digits, sides.bid_digits)
        return sides.checksum

    def _top(self, instrument: int, view: _DepthView, held: _HeldSide, is_bid: bool) -> tuple[list[int], list[int]]:
        """Keys and lots of one side's top 10 levels."""
        if view.depth == CHECKSUM_LEVELS and held.levels is None:
            return held.keys, held.lots
        book, n = self._market.books[instrument], CHECKSUM_LEVELS
        side = book.bids if is_bid else book.asks
        return side.keys[:n], side.lots[:n]


class _ChecksumSides:
    """One pair's top 10 keys and lots per side, their joined checksum digits, and the checksum."""

    __slots__ = ("ask_keys", "ask_lots", "ask_digits", "bid_keys", "bid_lots", "bid_digits", "checksum")

    def __init__(self) -> None:
        self.ask_keys: list[int] | None = None
        self.ask_lots: list[int] | None = None
        self.ask_digits = b""
        self.bid_keys: list[int] | None = None
        self.bid_lots: list[int] | None = None
        self.bid_digits = b""
        self.checksum = b""
