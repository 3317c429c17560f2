"""Binance spot order entry: ccxt's ``binance`` class, its REST API under /api/v3, client order ids
(``newClientOrderId``) of up to 36 characters from ``[A-Za-z0-9._-]`` (Binance's documented rule)."""

from __future__ import annotations

from typing import Any

from platform_streams.exchanges.binance.user_stream import BinanceUserStream
from platform_streams.exchanges.venue_adapter import OrderEntrySpec


def _urls(rest_url: str) -> dict[str, Any]:
    return {"public": f"{rest_url}/api/v3", "private": f"{rest_url}/api/v3"}


ORDER_ENTRY = OrderEntrySpec(
    ccxt_id="binance",
    urls=_urls,
    client_order_id_max=36,
    client_order_id_alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
    # spot markets only, and no margin pairs or currencies (those live on other hosts: sapi)
    options={"fetchMarkets": {"types": ["spot"]}, "fetchMargins": False, "fetchCurrencies": False},
    user_stream=BinanceUserStream,
)
