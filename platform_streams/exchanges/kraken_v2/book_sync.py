"""Kraken v2's book rule: v1's (:class:`~platform_streams.exchanges.kraken.book_sync.KrakenBookSync`),
one definition for both.

Kraken documents the same rule for both versions: after every message truncate the book to
the subscribed depth (no removal comes for a level pushed out), then compare the CRC32 of the
top 10 asks (ascending) and top 10 bids (descending), each price and quantity as Kraken wrote
it with the dot and leading zeros removed. v2 sends the checksum with snapshots too, which the
rule checks when given. The depth comes from the subscribe acknowledgement
(``ParsedFrame.subscriptions``); a snapshot whose acknowledgement was not read (a normaliser
that took the partition over mid-subscription) is not served: it resyncs, and the
resubscription is acknowledged. A new snapshot replaces the book, as after a resubscription.
"""

from __future__ import annotations

from platform_streams.exchanges.kraken.book_sync import KrakenBookSync
from platform_streams.exchanges.kraken_v2.instruments import EXCHANGE


class KrakenV2BookSync(KrakenBookSync):
    """One Kraken v2 pair's book, at the depth its subscription was acknowledged with."""

    exchange = EXCHANGE
