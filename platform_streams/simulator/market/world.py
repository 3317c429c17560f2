"""Every exchange's market over one shared price model, advanced together one quantum at a time."""

from __future__ import annotations

from collections.abc import Mapping

from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.market.price_model import PriceModelParameters, SharedPriceModel
from platform_streams.simulator.market.universe import Universe, build_universe
from platform_streams.simulator.market.venue_market import MarketParameters, VenueMarket


class MarketWorld:
    """The universe, the true prices and one :class:`VenueMarket` per exchange, on one simulated clock.

    ``rate_per_s`` is the long-run mean number of order-flow arrivals per second
    over all exchanges, shared in proportion to their instrument counts.
    """

    def __init__(
        self,
        seed: int,
        instrument_counts: Mapping[str, int],
        rate_per_s: float,
        clock: SimClock,
        market_parameters: MarketParameters | None = None,
        price_parameters: PriceModelParameters | None = None,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.universe: Universe = build_universe(seed, instrument_counts)
        self.prices = SharedPriceModel(self.universe.assets, seed, price_parameters)
        total = sum(instrument_counts.values())
        self.venues = {
            name: VenueMarket(
                name, listing, self.prices, seed, rate_per_s * len(listing) / total, clock.now_ns, market_parameters
            )
            for name, listing in self.universe.listings.items()
        }

    def pause_order_flow(self) -> None:
        """Stop simulated order flow (the clock and periodic publications go on), so the books
        settle and clients can be compared with them; our own orders still trade."""
        for venue in self.venues.values():
            venue.flow.rate_per_s = 0.0

    def step(self) -> None:
        """Advance prices and every exchange's order flow by one quantum."""
        t0, dt = self.clock.now_ns, self.clock.quantum_ns
        self.prices.step(dt / 1e9)
        for venue in self.venues.values():
            venue.step(t0, dt)
        self.clock.advance()
