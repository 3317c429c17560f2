"""The exchanges' public REST APIs through ccxt, for the control plane's market-data assets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import ccxt.async_support as ccxt_async
import dagster as dg

from platform_assets.market_data.ohlcv_fetch import Grant
from platform_streams.exchanges.registry import venue
from platform_streams.ingestion.snapshot_budget_client import SnapshotBudgetClient
from platform_streams.ingestion.snapshot_budget_service import budget_socket_path

#: Where `make up`'s exchange simulator serves each exchange (deployments/market-data.yaml).
SIMULATOR_REST_URLS = {"binance": "http://127.0.0.1:18101", "okx": "http://127.0.0.1:18102", "kraken": "http://127.0.0.1:18103"}


class ExchangesResource(dg.ConfigurableResource):
    """ccxt clients of the exchanges' public REST APIs. ``rest_urls`` points an exchange at the
    simulator (the default: `make up`'s); an empty URL means the real exchange. Requests are granted
    by the host's request budget (``budget_socket``, the service `make up` runs) when its socket
    exists, so backfills and the live daemons never jointly exceed an exchange's limits; without a
    service, ccxt's own rate limiting paces them."""

    rest_urls: dict[str, str] = SIMULATOR_REST_URLS
    budget_socket: str = "snapshot-budget.sock"  # relative: under the state folder
    budget_connect_timeout_s: float = 30.0

    @asynccontextmanager
    async def client(self, exchange: str) -> AsyncIterator[tuple[Any, Grant | None]]:
        """A client of ``exchange`` (numbers as decimal text) and how to wait for the budget's grant."""
        spec = venue(exchange).execution
        if spec is None:
            raise dg.Failure(f"exchange {exchange!r} has no REST adapter", allow_retries=False)
        socket = budget_socket_path(self.budget_socket) if self.budget_socket else None
        budget = SnapshotBudgetClient(socket, self.budget_connect_timeout_s) if socket is not None and socket.exists() else None
        config = spec.ccxt_config(self.rest_urls.get(exchange, ""), {})
        config["enableRateLimit"] = budget is None
        client = getattr(ccxt_async, spec.ccxt_id)(config)
        client.number = str  # the exchange's decimal text: exact, never a float

        async def grant() -> None:
            assert budget is not None
            await budget.acquire(exchange, kind="history")

        try:
            yield client, (grant if budget is not None else None)
        finally:
            await client.close()
            if budget is not None:
                await budget.close()
