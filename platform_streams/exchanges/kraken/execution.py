"""Kraken spot order entry: ccxt's ``kraken`` class on the REST host (public and private under /0),
client order ids (``cl_ord_id``) as UUIDs without dashes, and the API secret in base64 as Kraken
issues it. Kraken WebSocket v2 (``krakenv2``) trades through the same REST API."""

from __future__ import annotations

from typing import Any

from platform_streams.exchanges.venue_adapter import OrderEntrySpec


def _urls(rest_url: str) -> dict[str, Any]:
    return {"public": rest_url, "private": rest_url}


ORDER_ENTRY = OrderEntrySpec(
    ccxt_id="kraken",
    urls=_urls,
    client_order_id_max=32,
    client_order_id_alphabet="0123456789abcdef",
    has={"fetchCurrencies": False},
)
