"""OKX v5 spot order entry: ccxt's ``okx`` class on the REST host, client order ids (``clOrdId``) of
up to 32 letters and digits (OKX's rule), and a passphrase beside key and secret."""

from __future__ import annotations

from typing import Any

from platform_streams.exchanges.okx.user_stream import OkxUserStream
from platform_streams.exchanges.venue_adapter import OrderEntrySpec


def _urls(rest_url: str) -> dict[str, Any]:
    return {"rest": rest_url}


ORDER_ENTRY = OrderEntrySpec(
    ccxt_id="okx",
    urls=_urls,
    client_order_id_max=32,
    client_order_id_alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    credentials=("apiKey", "secret", "password"),
    options={"fetchMarkets": {"types": ["spot"]}},
    has={"fetchCurrencies": False},
    user_stream=OkxUserStream,
)
