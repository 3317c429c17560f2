"""Order books: one pure :class:`OrderBook` of integer price levels, and the shared shape of the
per-exchange sync rules (:mod:`.sync`) that keep it equal to the exchange's."""

from platform_streams.books.order_book import OrderBook
from platform_streams.books.sync import BookSync, SyncResult, SyncStatus

__all__ = ["BookSync", "OrderBook", "SyncResult", "SyncStatus"]
