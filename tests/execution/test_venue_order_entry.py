"""Order entry on OKX and Kraken through the same code as Binance: the venue's order-entry spec (ccxt
class, URLs, credentials with OKX's passphrase and Kraken's base64 secret, Kraken's own lookup by
``cl_ord_id``) against the simulator's private REST, real signing included."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import ccxt
import msgspec
import pytest

from platform_streams.exchanges.registry import VENUES
from platform_streams.execution.ccxt_order_entry import CcxtOrderEntry
from platform_streams.execution.daemon import _simulator_credentials
from platform_streams.schemas import OrderStatus, Side
from platform_streams.simulator import SimulatorThread
from tests.execution.test_ccxt_order_entry import order, scale_of
from tests.simulator.conftest import make_config


@pytest.fixture(params=["okx", "kraken"])
def venue(request: pytest.FixtureRequest) -> Iterator[tuple[str, SimulatorThread]]:
    with SimulatorThread(make_config(exchanges=[request.param])) as sim:
        yield request.param, sim


def config(venue: str, sim: SimulatorThread) -> dict:
    spec = VENUES[venue].execution
    assert spec is not None
    return spec.ccxt_config(sim.urls[venue].rest, _simulator_credentials(spec.ccxt_id))


def test_place_query_cancel_and_fills_by_client_order_id(venue: tuple[str, SimulatorThread]) -> None:
    name, sim = venue
    client = getattr(ccxt, VENUES[name].execution.ccxt_id)(config(name, sim))  # type: ignore[union-attr]
    markets = client.load_markets()
    symbol = next(s for s, m in markets.items() if m["quote"] in ("USDT", "EUR") and m["spot"])  # quotes the account holds
    market = markets[symbol]
    price_scale, size_scale = scale_of(market["precision"]["price"]), scale_of(market["precision"]["amount"])
    bid = Decimal(str(client.fetch_order_book(symbol)["bids"][0][0]))
    price = int(bid * Decimal("0.9") * 10**price_scale)
    minimum = Decimal(str(market["limits"]["amount"]["min"] or 0)) * 10**size_scale
    cost_min = Decimal(str(market["limits"]["cost"]["min"] or 0)) * 3 / (Decimal(price) / 10**price_scale) * 10**size_scale
    size = int(max(minimum * 3, cost_min))  # three minimums: on the lot grid wherever the minimum is

    async def scenario() -> None:
        spec = VENUES[name].execution
        assert spec is not None
        entry = CcxtOrderEntry.for_venue(name, "sim", spec, sim.urls[name].rest, _simulator_credentials(spec.ccxt_id))
        try:
            base = msgspec.structs.replace(order("r1", symbol, price_scale, size_scale, price, size), exchange=name)
            resting = msgspec.structs.replace(base, client_order_id="a" * 32 if name == "kraken" else "rest1")
            placed = await entry.place(resting)
            assert placed.status is OrderStatus.NEW and placed.exchange_order_id, placed
            queried = await entry.query(resting)
            assert queried is not None and queried.exchange_order_id == placed.exchange_order_id
            canceled = await entry.cancel(resting)
            assert canceled is not None and canceled.status is OrderStatus.CANCELED
            never_sent = msgspec.structs.replace(base, client_order_id="c" * 32 if name == "kraken" else "never1")
            assert await entry.query(never_sent) is None
            assert await entry.cancel(never_sent) is None

            market_order = msgspec.structs.replace(
                base, client_order_id="b" * 32 if name == "kraken" else "mkt1", price=None, order_type=base.order_type.MARKET
            )
            filled = await entry.place(market_order)
            if filled.status is not OrderStatus.FILLED:  # venues that answer a market order before it trades
                filled = await entry.query(market_order)
            assert filled is not None and (filled.status, filled.filled_size) == (OrderStatus.FILLED, size)
            fills = await entry.fills(market_order, size)
            assert sum(f.size for f in fills) == size and all(f.side is Side.BUY for f in fills)
        finally:
            await entry.close()

    asyncio.run(scenario())
    accepted = [a.client_order_id for a in sim.ground_truth.orders(name) if a.error_code == 0]
    assert len(accepted) == 2 and len(set(accepted)) == 2
