"""Kraken ``/0/public/AssetPairs`` → :class:`Instrument`: scales from ``pair_decimals`` and ``lot_decimals``.

The WebSocket names a pair by its ``wsname`` (``XBT/USD``), REST by its key
(``XXBTZUSD``) or ``altname`` (``XBTUSD``): the first is the instrument's
``exchange_symbol``, the others its aliases; the symbol is normalised (``BTC/USD``).
Pairs without a ``wsname`` (dark-pool ``.d`` pairs) have no market data and are skipped.
"""

from __future__ import annotations

import msgspec

from platform_streams.exchanges.instruments import (
    Instrument,
    InstrumentRegistry,
    normalise_asset,
    spot_symbol,
    value_and_scale,
    value_at_scale,
)

EXCHANGE = "kraken"


class AssetPair(msgspec.Struct, gc=False):
    """One pair of AssetPairs' ``result`` (only the fields the adapter reads)."""

    altname: str
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    wsname: str = ""
    ordermin: str = ""
    costmin: str = ""
    tick_size: str = ""
    status: str = "online"


class AssetPairsReply(msgspec.Struct, gc=False):
    """The AssetPairs reply: errors, and pairs by their REST key."""

    error: list[str]
    result: dict[str, AssetPair] = {}


class AssetPairsError(ValueError):
    """The AssetPairs endpoint answered with errors."""


_reply_decoder = msgspec.json.Decoder(AssetPairsReply)


def asset_pairs(body: bytes) -> dict[str, AssetPair]:
    """The pairs of an AssetPairs body that have a WebSocket name, by their REST key."""
    reply = _reply_decoder.decode(body)
    if reply.error:
        raise AssetPairsError(f"Kraken AssetPairs errors: {reply.error}")
    return {key: pair for key, pair in reply.result.items() if pair.wsname}


def parse_asset_pairs(body: bytes) -> list[Instrument]:
    """Every pair of an AssetPairs body that has a WebSocket name, named as WebSocket v1 names it (``XBT/USD``)."""
    return [instrument_of_pair(key, pair, EXCHANGE, pair.wsname) for key, pair in asset_pairs(body).items()]


def registry_from_asset_pairs(body: bytes) -> InstrumentRegistry:
    return InstrumentRegistry(EXCHANGE, parse_asset_pairs(body))


def symbol_from_wsname(wsname: str) -> str:
    """``"XBT/USD"`` → ``"BTC/USD"``; raises ValueError for a name without one ``/``."""
    base, slash, quote = wsname.partition("/")
    if not slash or not base or not quote or "/" in quote:
        raise ValueError(f"not a Kraken BASE/QUOTE pair name: {wsname!r}")
    return spot_symbol(base, quote)


def instrument_of_pair(key: str, pair: AssetPair, exchange: str, exchange_symbol: str) -> Instrument:
    """The instrument of one AssetPairs pair, for the venue ``exchange`` that names it ``exchange_symbol``
    (its other names are aliases)."""
    price_scale, size_scale = pair.pair_decimals, pair.lot_decimals
    min_notional, min_notional_scale = value_and_scale(pair.costmin)
    base, _, quote = pair.wsname.partition("/")
    return Instrument(
        exchange=exchange,
        symbol=symbol_from_wsname(pair.wsname),
        exchange_symbol=exchange_symbol,
        base=normalise_asset(base),
        quote=normalise_asset(quote),
        price_scale=price_scale,
        size_scale=size_scale,
        tick_size=value_at_scale(pair.tick_size, price_scale) if pair.tick_size else 1,
        lot_size=1,
        min_size=value_at_scale(pair.ordermin, size_scale),
        min_notional=min_notional,
        min_notional_scale=min_notional_scale,
        active=pair.status == "online",
        aliases=tuple(name for name in dict.fromkeys((key, pair.altname, pair.wsname)) if name != exchange_symbol),
    )
