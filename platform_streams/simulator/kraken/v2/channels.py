"""Kraken v2 subscriptions: ``book`` at a depth, ``trade``, ``ticker`` on trades or on best bid/offer
changes.

Each kind of subscription has a slot, which is its channel's code in the ground truth
(registered as the exchange ``<venue>v2``, e.g. ``krakenv2``): ``book-<depth>``,
``trade``, ``ticker`` and ``ticker-bbo``.
"""

from __future__ import annotations

BOOK_DEPTHS = (10, 25, 100, 500, 1000)
TICKER_TRIGGERS = ("trades", "bbo")
CHANNEL_NAMES = [*(f"book-{depth}" for depth in BOOK_DEPTHS), "trade", "ticker", "ticker-bbo"]
SLOT = {name: slot for slot, name in enumerate(CHANNEL_NAMES)}
BOOK_SLOTS = {depth: SLOT[f"book-{depth}"] for depth in BOOK_DEPTHS}
TRADE_SLOT, TICKER_SLOT, TICKER_BBO_SLOT = SLOT["trade"], SLOT["ticker"], SLOT["ticker-bbo"]
