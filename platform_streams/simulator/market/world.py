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

    def set_order_flow_rate(self, rate_per_s: float) -> None:
        """Change the long-run order-flow rate over all exchanges from the next quantum on (shared
        as at start, in proportion to instrument counts): a benchmark steps the load up this way."""
        if rate_per_s < 0:
            raise ValueError(f"an order-flow rate is not negative, got {rate_per_s}")
        total = sum(len(listing) for listing in self.universe.listings.values())
        for name, venue in self.venues.items():
            venue.flow.rate_per_s = rate_per_s * len(self.universe.listings[name]) / total

    def order_flow_rate(self) -> float:
        """The long-run order-flow rate over all exchanges now (events per second)."""
        return sum(venue.flow.rate_per_s for venue in self.venues.values())

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
