"""Kraken spot order entry: ccxt's ``kraken`` class on the REST host (public and private under /0),
client order ids (``cl_ord_id``) as UUIDs without dashes, and the API secret in base64 as Kraken
issues it. Kraken WebSocket v2 (``krakenv2``) trades through the same REST API.

ccxt's ``fetch_order`` asks Kraken for a client order id as ``userref`` (an integer tag), so an
order is looked up with ``QueryOrders``' own ``cl_ord_id`` instead; cancelling by ``cl_ord_id``
goes through ccxt unchanged."""

from __future__ import annotations

from typing import Any

from platform_streams.exchanges.kraken.user_stream import KrakenUserStream
from platform_streams.exchanges.venue_adapter import OrderEntrySpec


def _urls(rest_url: str) -> dict[str, Any]:
    return {"public": rest_url, "private": rest_url}


async def fetch_by_client_order_id(client: Any, symbol: str, client_order_id: str) -> dict[str, Any] | None:
    """The order with ``cl_ord_id`` as ccxt's order structure, or None if Kraken has none."""
    response = await client.privatePostQueryOrders({"cl_ord_id": client_order_id, "trades": True})
    result = response.get("result") or {}
    for txid, info in result.items():
        return client.parse_order(client.extend({"id": txid}, info))
    return None


ORDER_ENTRY = OrderEntrySpec(
    ccxt_id="kraken",
    urls=_urls,
    client_order_id_max=32,
    client_order_id_alphabet="0123456789abcdef",
    has={"fetchCurrencies": False},
    user_stream=KrakenUserStream,
    fetch_by_client_order_id=fetch_by_client_order_id,
)
