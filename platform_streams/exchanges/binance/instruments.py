"""Binance ``/api/v3/exchangeInfo`` → :class:`Instrument`, at the scales of the asset precisions.

Scales are ``quoteAssetPrecision`` (prices) and ``baseAssetPrecision`` (sizes), the
decimals Binance's matching engine and its text carry (8 for almost every symbol), not
the decimals of ``tickSize``/``stepSize``: orders resting since before a tick or step
change keep their finer prices and sizes (the 2024-08 BTCUSDT capture has a level of
``25.42618900`` while stepSize is ``0.00001``), and a book must still hold them. Binance
caps quantities at 2^62 / 10^8 (LOT_SIZE maxQty 46116860414), so sizes at scale 8 fit
the 64-bit mantissa. tickSize/stepSize are kept as ``tick_size``/``lot_size`` at those scales.
"""

from __future__ import annotations

import msgspec

from platform_streams.exchanges.instruments import (
    Instrument,
    InstrumentRegistry,
    spot_symbol,
    value_and_scale,
    value_at_scale,
)

EXCHANGE = "binance"

QUOTE_ASSETS = (
    "USDT", "FDUSD", "USDC", "BUSD", "TUSD", "USDP", "DAI", "UST", "PAX", "BTC", "ETH", "BNB", "XRP", "TRX", "DOGE", "DOT",
    "EUR", "GBP", "AUD", "BRL", "TRY", "RUB", "UAH", "NGN", "BIDR", "IDRT", "ZAR", "JPY", "ARS", "PLN", "RON", "MXN", "COP", "CZK",
    "VAI", "BVND", "AEUR",
)  # fmt: skip
"""Quote assets tried (longest first) to split a symbol that has no metadata, e.g. ``BTCUSDT``."""


class SymbolFilter(msgspec.Struct, gc=False):
    """One entry of a symbol's ``filters`` (only the fields the adapter reads)."""

    filter_type: str = msgspec.field(name="filterType")
    tick_size: str = msgspec.field(default="", name="tickSize")
    step_size: str = msgspec.field(default="", name="stepSize")
    min_qty: str = msgspec.field(default="", name="minQty")
    min_notional: str = msgspec.field(default="", name="minNotional")


class SymbolInfo(msgspec.Struct, gc=False):
    """One entry of exchangeInfo's ``symbols``."""

    symbol: str
    status: str
    base_asset: str = msgspec.field(name="baseAsset")
    quote_asset: str = msgspec.field(name="quoteAsset")
    base_asset_precision: int = msgspec.field(name="baseAssetPrecision")
    quote_asset_precision: int = msgspec.field(default=8, name="quoteAssetPrecision")
    filters: list[SymbolFilter] = []


class ExchangeInfo(msgspec.Struct, gc=False):
    """The exchangeInfo body (only ``symbols`` is read)."""

    symbols: list[SymbolInfo]


_exchange_info_decoder = msgspec.json.Decoder(ExchangeInfo)


def parse_exchange_info(body: bytes) -> list[Instrument]:
    """Every symbol of an exchangeInfo body (``active`` is False unless its status is ``TRADING``)."""
    return [_instrument(info) for info in _exchange_info_decoder.decode(body).symbols]


def registry_from_exchange_info(body: bytes) -> InstrumentRegistry:
    return InstrumentRegistry(EXCHANGE, parse_exchange_info(body))


def _instrument(info: SymbolInfo) -> Instrument:
    filters = {entry.filter_type: entry for entry in info.filters}
    price_filter = filters.get("PRICE_FILTER")
    lot_filter = filters.get("LOT_SIZE")
    price_scale, size_scale = info.quote_asset_precision, info.base_asset_precision
    notional_filter = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL")
    min_notional, min_notional_scale = value_and_scale(notional_filter.min_notional if notional_filter else "")
    return Instrument(
        exchange=EXCHANGE,
        symbol=spot_symbol(info.base_asset, info.quote_asset),
        exchange_symbol=info.symbol,
        base=info.base_asset,
        quote=info.quote_asset,
        price_scale=price_scale,
        size_scale=size_scale,
        tick_size=value_at_scale(price_filter.tick_size, price_scale) if price_filter else 0,
        lot_size=value_at_scale(lot_filter.step_size, size_scale) if lot_filter else 0,
        min_size=value_at_scale(lot_filter.min_qty, size_scale) if lot_filter else 0,
        min_notional=min_notional,
        min_notional_scale=min_notional_scale,
        active=info.status == "TRADING",
    )


def symbol_without_metadata(exchange_symbol: str) -> str:
    """``"BTCUSDT"`` → ``"BTC/USDT"`` by the longest known quote-asset suffix; raises ValueError if none fits."""
    for quote in sorted(QUOTE_ASSETS, key=len, reverse=True):
        if exchange_symbol.endswith(quote) and len(exchange_symbol) > len(quote):
            return spot_symbol(exchange_symbol[: -len(quote)], quote)
    raise ValueError(f"cannot split {exchange_symbol!r} into base and quote without exchangeInfo")
