"""OKX instrument ids (``BTC-USDT``) of one exchange's listing, and each instrument's exact number text.

OKX writes prices and sizes without trailing zeros (``"30316"``, ``"0.00000166"``);
the text comes from integer mantissas (price ticks × tick, lots × lot), so the
book checksum is computed over exactly what is sent.
"""

from __future__ import annotations

from platform_streams.simulator.decimal_text import trimmed
from platform_streams.simulator.market.universe import SCALE_FACTOR, Instrument, UniverseError
from platform_streams.simulator.number_text import NumberTextCache

_LIST_TIME_MS = 1_548_133_413_000  # a listing time of the right shape (OKX's own for BTC-USDT)
_COUNT_TEXTS = [b"%d" % count for count in range(100)]


class OkxInstruments:
    """Instrument ids of one listing, the lookups both ways, and the number text of each instrument."""

    def __init__(self, instruments: tuple[Instrument, ...]) -> None:
        self.specs = instruments
        self.names = [f"{i.base}-{i.quote}" for i in instruments]
        if len(set(self.names)) != len(self.names):
            raise UniverseError("two instruments would share one OKX instId")
        self.name_bytes = [name.encode() for name in self.names]
        self._index = {name: i for i, name in enumerate(self.names)}
        count = len(instruments)
        # keyed by price ticks or by book key (a bid's key is its negated price): one text for both
        self._prices = NumberTextCache(count, lambda i, ticks: trimmed(abs(ticks) * instruments[i].tick))
        self._sizes = NumberTextCache(count, lambda i, lots: trimmed(lots * instruments[i].lot))
        self._lots_per_order = [max(1, i.typical_lots // 2) for i in instruments]

    def lookup(self, inst_id: str) -> int | None:
        return self._index.get(inst_id)

    def price(self, instrument: int, ticks: int) -> bytes:
        return self._prices.text(instrument, ticks)

    def size(self, instrument: int, lots: int) -> bytes:
        return self._sizes.text(instrument, lots)

    def prices(self, instrument: int, ticks: list[int]) -> list[bytes]:
        """Price texts of price ticks, or of book keys (asks' prices, bids' negated prices)."""
        return self._prices.texts(instrument, ticks)

    def sizes(self, instrument: int, lots: list[int]) -> list[bytes]:
        return self._sizes.texts(instrument, lots)

    def order_counts(self, instrument: int, lots: list[int]) -> list[bytes]:
        """The ``numOrders`` of levels: a plausible count from each size, 1 to 99 ("0" for a removed level)."""
        per_order, texts = self._lots_per_order[instrument], _COUNT_TEXTS
        return [texts[min(99, 1 + size // per_order) if size > 0 else 0] for size in lots]

    def level_row(self, instrument: int, price: int, lots: int) -> bytes:
        """``[["px","sz","0","numOrders"]]`` of one level (best bid/offer)."""
        count = _COUNT_TEXTS[min(99, 1 + lots // self._lots_per_order[instrument]) if lots > 0 else 0]
        return b'[["%b","%b","0","%b"]]' % (self._prices.text(instrument, price), self._sizes.text(instrument, lots), count)

    def level_rows(self, instrument: int, prices: list[int], lots: list[int]) -> bytes:
        """``[["px","sz","0","numOrders"],...]`` of parallel price-tick (or book key) and lot lists."""
        rows = zip(
            self.prices(instrument, prices), self.sizes(instrument, lots), self.order_counts(instrument, lots), strict=True
        )
        return b"[" + b",".join([b'["%b","%b","0","%b"]' % row for row in rows]) + b"]"

    def rest_entry(self, instrument: int) -> dict[str, str]:
        """One SPOT entry of ``/api/v5/public/instruments``, with the keys of the real response in its order."""
        spec = self.specs[instrument]
        start_price = spec.start_price_ticks * spec.tick
        min_lots = max(1, -(-spec.min_notional * SCALE_FACTOR // max(1, start_price * spec.lot)))
        max_size = trimmed(spec.max_lots * spec.lot)
        return {
            "alias": "",
            "baseCcy": spec.base,
            "category": "1",
            "ctMult": "",
            "ctType": "",
            "ctVal": "",
            "ctValCcy": "",
            "expTime": "",
            "instId": self.names[instrument],
            "instType": "SPOT",
            "lever": "",
            "listTime": str(_LIST_TIME_MS),
            "lotSz": trimmed(spec.lot).decode(),
            "maxIcebergSz": max_size.decode(),
            "maxLmtSz": max_size.decode(),
            "maxMktSz": trimmed(spec.typical_lots * 1000 * spec.lot).decode(),
            "maxStopSz": trimmed(spec.typical_lots * 1000 * spec.lot).decode(),
            "maxTriggerSz": max_size.decode(),
            "maxTwapSz": max_size.decode(),
            "minSz": trimmed(min_lots * spec.lot).decode(),
            "optType": "",
            "quoteCcy": spec.quote,
            "settleCcy": "",
            "state": "live",
            "stk": "",
            "tickSz": trimmed(spec.tick).decode(),
            "uly": "",
        }
