"""An order book of one instrument: price levels as integer mantissas, no I/O.

The book is native (``tradeplat_native.OrderBook``, ``native/src/order_book.rs``): each side
keeps its levels sorted best first, and the book computes the OKX and Kraken checksums of
its top levels itself (:meth:`OrderBook.okx_checksum`, :meth:`OrderBook.kraken_checksum`),
which the normaliser runs after every update of those exchanges. Prices and sizes are any
int that fits a signed 128-bit integer; a larger one raises ``OverflowError``.
"""

from __future__ import annotations

from tradeplat_native import InvalidLevel, LevelTextError, OrderBook

__all__ = ["InvalidLevel", "LevelTextError", "OrderBook"]
