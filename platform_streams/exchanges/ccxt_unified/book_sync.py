"""The ccxt book rule: every frame is a whole book, so each snapshot simply replaces the last
(ccxt.pro keeps the book with the exchange's own rules before it reaches us)."""

from __future__ import annotations

from platform_streams.books.sync import BookChecksum, BookSync, SyncResult
from platform_streams.schemas.events import BookDelta, BookSnapshot


class SnapshotBookSync(BookSync):
    """Books that only ever arrive whole."""

    def __init__(self, exchange: str, symbol: str) -> None:
        super().__init__(symbol)
        self.exchange = exchange

    def on_snapshot(self, snapshot: BookSnapshot, checksum: BookChecksum | None = None) -> SyncResult:
        return self._load_checked_snapshot(snapshot)

    def on_delta(self, delta: BookDelta, checksum: BookChecksum | None = None) -> SyncResult:
        return self._resync(delta, "the ccxt format has no deltas")
