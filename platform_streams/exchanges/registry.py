"""The one registry of venue adapters (and of the frame formats that are not a venue's own).

A deployment selects a venue by its name here (ingestion's ``exchange``); md.raw frames,
instruments and canonical events carry the same name, which is how the normaliser finds the
parser and book rule. Adding a venue is adding its package and one line below.
"""

from __future__ import annotations

from collections.abc import Mapping

from platform_streams.exchanges.binance.adapter import ADAPTER as BINANCE
from platform_streams.exchanges.ccxt_unified.adapter import FORMAT as CCXT
from platform_streams.exchanges.coinbase.adapter import ADAPTER as COINBASE
from platform_streams.exchanges.kraken.adapter import ADAPTER as KRAKEN
from platform_streams.exchanges.kraken_v2.adapter import ADAPTER as KRAKEN_V2
from platform_streams.exchanges.okx.adapter import ADAPTER as OKX
from platform_streams.exchanges.venue_adapter import FormatAdapter, UnknownVenue, VenueAdapter

VENUES: Mapping[str, VenueAdapter] = {adapter.name: adapter for adapter in (BINANCE, OKX, KRAKEN, KRAKEN_V2, COINBASE)}
FORMATS: Mapping[str, FormatAdapter] = {adapter.name: adapter for adapter in (CCXT,)}


def venue(name: str) -> VenueAdapter:
    """The adapter of venue ``name``; raises :class:`UnknownVenue` naming the known ones."""
    adapter = VENUES.get(name)
    if adapter is None:
        raise UnknownVenue(f"no venue adapter {name!r}; known: {', '.join(sorted(VENUES))}")
    return adapter


def frame_format(name: str) -> FormatAdapter:
    """The adapter of frame format ``name`` (``x-format``); raises :class:`UnknownVenue`."""
    adapter = FORMATS.get(name)
    if adapter is None:
        raise UnknownVenue(f"unknown frame format {name!r}; known: {', '.join(sorted(FORMATS))}")
    return adapter
