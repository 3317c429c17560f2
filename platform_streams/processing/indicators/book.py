"""Top-of-book indicators: one instrument's order-book imbalance, and the spread of one pair
between two exchanges."""

from __future__ import annotations

from platform_streams.processing.indicators.base import BookIndicator, Indicator, IndicatorOutput, OutputUnit, Parameters


class NoParameters(Parameters, frozen=True):
    """Book indicators that read the top of book as it is take no parameters."""


class OrderBookImbalance(BookIndicator):
    """``(bid_size - ask_size) / (bid_size + ask_size)`` at the top of book, in [-1, 1];
    undefined when both sides are empty."""

    name = "book_imbalance"
    parameters_type = NoParameters
    outputs = (IndicatorOutput("value", OutputUnit.RATIO, 8),)

    def update(self, bid_price: int, bid_size: int, ask_price: int, ask_size: int) -> tuple[float, ...] | None:
        total = bid_size + ask_size
        if total <= 0:
            return None
        return ((bid_size - ask_size) / total,)


class CrossSpreadParameters(Parameters, frozen=True):
    symbol: str
    base: str
    other: str

    def validate(self) -> None:
        if not self.symbol or "/" not in self.symbol:
            raise ValueError(f"symbol must be a normalised symbol such as BTC/USDT, got {self.symbol!r}")
        if not self.base or not self.other or self.base == self.other:
            raise ValueError(f"base and other must be two different exchanges, got {self.base!r} and {self.other!r}")


class CrossExchangeSpread(Indicator):
    """The mid of ``symbol`` on ``other`` relative to its mid on ``base``, in basis points:
    ``(mid_other - mid_base) / mid_base * 10_000``, from each exchange's latest top of book with both
    sides present; undefined until both exchanges have one. Published keyed ``base-other:symbol``."""

    name = "cross_spread"
    parameters_type = CrossSpreadParameters
    outputs = (IndicatorOutput("value", OutputUnit.RATIO, 6),)

    parameters: CrossSpreadParameters

    def __init__(self, parameters: CrossSpreadParameters) -> None:
        super().__init__(parameters)
        self._mids: dict[str, float] = {}

    @property
    def exchange(self) -> str:
        """The ``exchange`` field its values carry: both exchanges, base first."""
        return f"{self.parameters.base}-{self.parameters.other}"

    def update(self, exchange: str, bid_price: int, ask_price: int, price_scale: int) -> tuple[float, ...] | None:
        """Take one exchange's top of book (an exchange other than the pair's changes nothing)."""
        if exchange != self.parameters.base and exchange != self.parameters.other:
            return None
        if bid_price <= 0 or ask_price <= 0:
            self._mids.pop(exchange, None)  # a side is empty: no mid until it comes back
            return None
        self._mids[exchange] = (bid_price + ask_price) / (2 * 10**price_scale)
        base = self._mids.get(self.parameters.base)
        other = self._mids.get(self.parameters.other)
        if base is None or other is None:
            return None
        return ((other - base) / base * 10_000.0,)
