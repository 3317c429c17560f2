"""Kraken's names of one exchange's pairs (``XBT/USD``, ``XBTUSD``, ``XXBTZUSD``; ``BTC/USD`` on WebSocket
v2) and their number text.

Kraken calls bitcoin XBT and dogecoin XDG, prefixes its oldest assets (``XXBT``,
``XETH``, ``ZUSD``, ``ZEUR``...) in AssetPairs, and keys its oldest pairs by those
codes (``XXBTZUSD``) while newer ones use the plain name (``XBTUSDT``). Prices are
sent with the pair's fixed ``pair_decimals`` and volumes with ``lot_decimals`` (8),
so the book checksum, computed over that text, is reproducible by any client.
"""

from __future__ import annotations

from dataclasses import dataclass

from platform_streams.simulator.decimal_text import decimals_of_step, fixed
from platform_streams.simulator.kraken.checksum import checksum_digits
from platform_streams.simulator.market.universe import Instrument, UniverseError
from platform_streams.simulator.number_text import NumberTextCache

#: Kraken's own asset names where they differ from the common ones.
KRAKEN_ASSET_NAMES = {"BTC": "XBT", "DOGE": "XDG"}
#: Assets Kraken lists under an X (crypto) or Z (fiat) prefixed code in AssetPairs.
LEGACY_ASSET_CODES = {
    "XBT": "XXBT", "ETH": "XETH", "LTC": "XLTC", "XRP": "XXRP", "XLM": "XXLM", "XMR": "XXMR", "ETC": "XETC",
    "ZEC": "XZEC", "REP": "XREP", "MLN": "XMLN", "XDG": "XXDG", "USD": "ZUSD", "EUR": "ZEUR", "GBP": "ZGBP",
    "CAD": "ZCAD", "JPY": "ZJPY", "AUD": "ZAUD",
}  # fmt: skip
#: Quotes of the pairs Kraken keys by their prefixed codes (``XXBTZUSD``, ``XETHXXBT``).
_LEGACY_KEY_QUOTES = frozenset({"ZUSD", "ZEUR", "ZJPY", "ZCAD", "XXBT"})
_NOT_LEGACY_KEY_BASES = frozenset({"USD", "EUR", "GBP", "CAD", "JPY", "AUD", "XDG"})
LOT_DECIMALS = 8


@dataclass(frozen=True, slots=True)
class KrakenPair:
    """One pair under all its Kraken names, with its decimals."""

    wsname: str  # XBT/USD: WebSocket v1 pair name
    altname: str  # XBTUSD
    key: str  # XXBTZUSD: the AssetPairs / OHLC result key
    base_code: str  # XXBT
    quote_code: str  # ZUSD
    pair_decimals: int
    lot_decimals: int


def _pair(instrument: Instrument) -> KrakenPair:
    base = KRAKEN_ASSET_NAMES.get(instrument.base, instrument.base)
    quote = KRAKEN_ASSET_NAMES.get(instrument.quote, instrument.quote)
    base_code, quote_code = LEGACY_ASSET_CODES.get(base, base), LEGACY_ASSET_CODES.get(quote, quote)
    legacy_key = base_code != base and base not in _NOT_LEGACY_KEY_BASES and quote_code in _LEGACY_KEY_QUOTES
    return KrakenPair(
        wsname=f"{base}/{quote}",
        altname=f"{base}{quote}",
        key=f"{base_code}{quote_code}" if legacy_key else f"{base}{quote}",
        base_code=base_code,
        quote_code=quote_code,
        pair_decimals=decimals_of_step(instrument.tick),
        lot_decimals=LOT_DECIMALS,
    )


class KrakenPairs:
    """Every pair of one listing, lookups by any of its names, and the exact text of its prices and volumes."""

    def __init__(self, instruments: tuple[Instrument, ...]) -> None:
        self.specs = instruments
        self.pairs = [_pair(instrument) for instrument in instruments]
        if len({p.wsname for p in self.pairs}) != len(self.pairs):
            raise UniverseError("two instruments would share one Kraken pair name")
        self.wsnames = [p.wsname for p in self.pairs]
        self.wsname_bytes = [name.encode() for name in self.wsnames]
        self._by_wsname = {p.wsname: i for i, p in enumerate(self.pairs)}
        #: WebSocket v2's names: the common asset codes (``BTC/USD``), which are the normalised symbols
        self.v2_names = [instrument.symbol for instrument in instruments]
        self.v2_name_bytes = [name.encode() for name in self.v2_names]
        self._by_v2_name = {name: i for i, name in enumerate(self.v2_names)}
        self._by_any = {name: i for i, p in enumerate(self.pairs) for name in (p.wsname, p.altname, p.key)}
        count = len(instruments)
        #: The text of each pair's prices (ticks) and volumes (lots), cached per pair.
        self.prices = NumberTextCache(count, lambda i, ticks: fixed(ticks * instruments[i].tick, self.pairs[i].pair_decimals))
        self.volumes = NumberTextCache(count, lambda i, lots: fixed(lots * instruments[i].lot, LOT_DECIMALS))
        self._price_digits = NumberTextCache(count, lambda i, ticks: checksum_digits(self.price(i, ticks)))
        self._volume_digits = NumberTextCache(count, lambda i, lots: checksum_digits(self.volume(i, lots)))

    def by_wsname(self, wsname: str) -> int | None:
        return self._by_wsname.get(wsname)

    def by_v2_name(self, name: str) -> int | None:
        return self._by_v2_name.get(name)

    def by_any_name(self, name: str) -> int | None:
        """A pair by its REST name (altname or key) or its wsname."""
        return self._by_any.get(name)

    def price(self, instrument: int, ticks: int) -> bytes:
        return self.prices.text(instrument, ticks)

    def volume(self, instrument: int, lots: int) -> bytes:
        return self.volumes.text(instrument, lots)

    def checksum_digits(self, instrument: int, ticks: list[int], lots: list[int]) -> bytes:
        """The levels' price and volume digits, joined in level order, as they enter the book checksum."""
        parts: list[bytes] = [b""] * (2 * len(ticks))
        parts[0::2] = self._price_digits.texts(instrument, ticks)
        parts[1::2] = self._volume_digits.texts(instrument, lots)
        return b"".join(parts)


def kraken_time(ts_ns: int) -> bytes:
    """Kraken's seconds-with-microseconds text: ``1618678133.365913``."""
    return b"%d.%06d" % divmod(ts_ns // 1000, 1_000_000)
