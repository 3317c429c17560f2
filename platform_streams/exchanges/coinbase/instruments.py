"""Coinbase Exchange ``/products`` → :class:`Instrument`: scales from ``quote_increment`` and ``base_increment``.

Coinbase sends prices and sizes as their shortest decimal text, so the scales must come
from this metadata (the size scale also covers ``base_min_size`` when that is finer).
"""

from __future__ import annotations

import msgspec

from platform_streams.exchanges.instruments import (
    Instrument,
    InstrumentRegistry,
    normalise_asset,
    spot_symbol,
    step_from_text,
    text_scale_of,
    value_and_scale,
    value_at_scale,
)

EXCHANGE = "coinbase"


class Product(msgspec.Struct, gc=False):
    """One product of the ``/products`` body (only the fields the adapter reads)."""

    id: str
    base_currency: str
    quote_currency: str
    quote_increment: str
    base_increment: str
    base_min_size: str = ""
    min_market_funds: str = ""
    status: str = "online"
    trading_disabled: bool = False


_products_decoder = msgspec.json.Decoder(list[Product])


def parse_products(body: bytes) -> list[Instrument]:
    return [_instrument(product) for product in _products_decoder.decode(body)]


def registry_from_products(body: bytes) -> InstrumentRegistry:
    return InstrumentRegistry(EXCHANGE, parse_products(body))


def _instrument(product: Product) -> Instrument:
    tick, price_scale = step_from_text(product.quote_increment)
    _, size_scale = step_from_text(product.base_increment)
    size_scale = max(size_scale, text_scale_of(product.base_min_size))
    min_notional, min_notional_scale = value_and_scale(product.min_market_funds)
    return Instrument(
        exchange=EXCHANGE,
        symbol=spot_symbol(product.base_currency, product.quote_currency),
        exchange_symbol=product.id,
        base=normalise_asset(product.base_currency),
        quote=normalise_asset(product.quote_currency),
        price_scale=price_scale,
        size_scale=size_scale,
        tick_size=tick,
        lot_size=value_at_scale(product.base_increment, size_scale),
        min_size=value_at_scale(product.base_min_size, size_scale),
        min_notional=min_notional,
        min_notional_scale=min_notional_scale,
        active=product.status == "online" and not product.trading_disabled,
    )
