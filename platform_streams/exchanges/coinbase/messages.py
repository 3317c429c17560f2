"""Coinbase Exchange ``ws-feed`` messages as msgspec structs, a union tagged by ``"type"``.

``level2`` sends a ``snapshot`` then ``l2update`` changes ``[side, price, size]`` (size
``"0"`` removes the level) and carries no sequence number; ``matches`` sends ``match``
(and one ``last_match`` on subscribing) whose ``side`` is the maker order's side.
"""

from __future__ import annotations

import msgspec

PriceLevel = tuple[str, str]
"""``[price, size]`` as text."""


class Change(msgspec.Struct, array_like=True, gc=False):
    """One ``[side, price, size]`` change of an ``l2update``; side is ``buy`` (bids) or ``sell`` (asks)."""

    side: str
    price: str
    size: str


class Snapshot(msgspec.Struct, tag_field="type", tag="snapshot", gc=False):
    """The whole level2 book of one product, sent on subscribing."""

    product_id: str
    bids: list[PriceLevel]
    asks: list[PriceLevel]


class L2Update(msgspec.Struct, tag_field="type", tag="l2update", gc=False):
    """Changed level2 levels of one product."""

    product_id: str
    changes: list[Change]
    time: str


class Match(msgspec.Struct, tag_field="type", tag="match", gc=False):
    """One trade; ``side`` is the maker order's side."""

    trade_id: int
    sequence: int
    side: str
    size: str
    price: str
    product_id: str
    time: str


class LastMatch(Match, tag="last_match", gc=False):
    """The most recent match before subscribing, sent once per product."""


class Ticker(msgspec.Struct, tag_field="type", tag="ticker", gc=False):
    """Only the best bid and ask are read; ``best_bid_size``/``best_ask_size`` are absent on older feeds."""

    sequence: int
    product_id: str
    best_bid: str
    best_ask: str
    time: str = ""
    best_bid_size: str = ""
    best_ask_size: str = ""


class Subscriptions(msgspec.Struct, tag_field="type", tag="subscriptions", gc=False):
    """The reply to a subscribe or unsubscribe message."""


class Heartbeat(msgspec.Struct, tag_field="type", tag="heartbeat", gc=False):
    """The ``heartbeat`` channel's once-a-second message."""


class Error(msgspec.Struct, tag_field="type", tag="error", gc=False):
    """An error reply (a rejected subscription)."""

    message: str
    reason: str = ""


class TypeOnly(msgspec.Struct, gc=False):
    """Just the ``type`` of a message (to tell an unknown type from a malformed known one)."""

    type: str


Message = Snapshot | L2Update | Match | LastMatch | Ticker | Subscriptions | Heartbeat | Error
KNOWN_TYPES = frozenset({"snapshot", "l2update", "match", "last_match", "ticker", "subscriptions", "heartbeat", "error"})
