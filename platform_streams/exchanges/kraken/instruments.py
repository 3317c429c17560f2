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


def parse_asset_pairs(body: bytes) -> list[Instrument]:
    """Every pair of an AssetPairs body that has a WebSocket name."""
    reply = _reply_decoder.decode(body)
    if reply.error:
        raise AssetPairsError(f"Kraken AssetPairs errors: {reply.error}")
    return [_instrument(key, pair) for key, pair in reply.result.items() if pair.wsname]


def registry_from_asset_pairs(body: bytes) -> InstrumentRegistry:
    return InstrumentRegistry(EXCHANGE, parse_asset_pairs(body))


def symbol_from_wsname(wsname: str) -> str:
    """``"XBT/USD"`` → ``"BTC/USD"``; raises ValueError for a name without one ``/``."""
    base, slash, quote = wsname.partition("/")
    if not slash or not base or not quote or "/" in quote:
        raise ValueError(f"not a Kraken BASE/QUOTE pair name: {wsname!r}")
    return spot_symbol(base, quote)


def _instrument(key: str, pair: AssetPair) -> Instrument:
    price_scale, size_scale = pair.pair_decimals, pair.lot_decimals
    min_notional, min_notional_scale = value_and_scale(pair.costmin)
    base, _, quote = pair.wsname.partition("/")
    return Instrument(
        exchange=EXCHANGE,
        symbol=symbol_from_wsname(pair.wsname),
        exchange_symbol=pair.wsname,
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
        aliases=tuple(dict.fromkeys((key, pair.altname))),
    )
