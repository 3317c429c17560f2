"""Kraken ``/0/public/AssetPairs`` → :class:`Instrument` of the v2 venue ``krakenv2``.

v2 names a pair with the common asset codes (``BTC/USD``, ``DOGE/USD``), not v1's ``wsname``
(``XBT/USD``, ``XDG/USD``): the v2 symbol is the wsname with Kraken's asset aliases resolved,
which is also the pair's normalised symbol. That name is the instrument's ``exchange_symbol``;
the REST key, altname and v1 wsname are its aliases. Scales are v1's (``pair_decimals``,
``lot_decimals``): v2 writes its numbers with the same decimals. The v2 ``instrument``
channel carries the same facts, but ingestion loads metadata over REST before it connects.
"""

from __future__ import annotations

from platform_streams.exchanges.instruments import Instrument, InstrumentRegistry
from platform_streams.exchanges.kraken.instruments import asset_pairs, instrument_of_pair, symbol_from_wsname

EXCHANGE = "krakenv2"


def parse_asset_pairs(body: bytes) -> list[Instrument]:
    """Every pair of an AssetPairs body that has a WebSocket name, named as WebSocket v2 names it."""
    return [instrument_of_pair(key, pair, EXCHANGE, symbol_from_wsname(pair.wsname)) for key, pair in asset_pairs(body).items()]


def registry_from_asset_pairs(body: bytes) -> InstrumentRegistry:
    return InstrumentRegistry(EXCHANGE, parse_asset_pairs(body))
