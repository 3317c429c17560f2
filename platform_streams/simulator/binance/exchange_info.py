"""``GET /api/v3/exchangeInfo``: rate limits and every symbol's trading rules, shaped like the real capture.

Symbol entries keep the key order and filter list of Binance's response
(PRICE_FILTER, PERCENT_PRICE, LOT_SIZE, MIN_NOTIONAL, ...); order types list only
what the simulator's matching engine executes. Entries are rendered once.
"""

from __future__ import annotations

import orjson

from platform_streams.simulator.config import BinanceRestLimits
from platform_streams.simulator.market.universe import Instrument
from platform_streams.simulator.matching.filters import (
    MAX_OPEN_ORDERS_PER_INSTRUMENT,
    PERCENT_PRICE_DOWN_DIVISOR,
    PERCENT_PRICE_UP,
)

_ZERO = "0.00000000"


def _text(mantissa: int) -> str:
    whole, fraction = divmod(mantissa, 10**8)
    return f"{whole}.{fraction:08d}"


def _interval(seconds: int) -> tuple[str, int]:
    for unit_seconds, name in ((86_400, "DAY"), (3_600, "HOUR"), (60, "MINUTE")):
        if seconds % unit_seconds == 0:
            return name, seconds // unit_seconds
    return "SECOND", seconds


def symbol_entry(symbol: str, spec: Instrument) -> dict[str, object]:
    """One symbol of exchangeInfo, in Binance's key order."""
    return {
        "symbol": symbol,
        "status": "TRADING",
        "baseAsset": spec.base,
        "baseAssetPrecision": 8,
        "quoteAsset": spec.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "icebergAllowed": False,
        "ocoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": _text(spec.tick),
                "maxPrice": _text(spec.max_price_ticks * spec.tick),
                "tickSize": _text(spec.tick),
            },
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": str(PERCENT_PRICE_UP),
                "multiplierDown": str(1 / PERCENT_PRICE_DOWN_DIVISOR),
                "avgPriceMins": 5,
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": _text(spec.lot),
                "maxQty": _text(spec.max_lots * spec.lot),
                "stepSize": _text(spec.lot),
            },
            {"filterType": "MIN_NOTIONAL", "minNotional": _text(spec.min_notional), "applyToMarket": True, "avgPriceMins": 5},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {"filterType": "MARKET_LOT_SIZE", "minQty": _ZERO, "maxQty": _text(spec.max_lots * spec.lot), "stepSize": _ZERO},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": MAX_OPEN_ORDERS_PER_INSTRUMENT},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "permissions": ["SPOT"],
    }


class ExchangeInfo:
    """Pre-rendered exchangeInfo of one simulated Binance."""

    def __init__(self, symbols: list[str], instruments: tuple[Instrument, ...], limits: BinanceRestLimits) -> None:
        self._entries = [orjson.dumps(symbol_entry(name, spec)) for name, spec in zip(symbols, instruments, strict=True)]
        self._index = {name: i for i, name in enumerate(symbols)}
        rate_limits = [
            ("REQUEST_WEIGHT", limits.request_weight_interval_s, limits.request_weight),
            ("ORDERS", limits.orders_interval_s, limits.orders),
            ("ORDERS", 86_400, limits.orders_per_day),
            ("RAW_REQUESTS", limits.raw_requests_interval_s, limits.raw_requests),
        ]
        self._rate_limits = orjson.dumps(
            [
                {"rateLimitType": kind, "interval": _interval(seconds)[0], "intervalNum": _interval(seconds)[1], "limit": limit}
                for kind, seconds, limit in rate_limits
            ]
        )

    def render(self, server_ms: int, only: list[str] | None = None) -> bytes:
        """The response body; ``only`` restricts it to these symbols (the caller has checked they exist)."""
        entries = self._entries if only is None else [self._entries[self._index[name]] for name in only]
        return b'{"timezone":"UTC","serverTime":%d,"rateLimits":%b,"exchangeFilters":[],"symbols":[%b]}' % (
            server_ms,
            self._rate_limits,
            b",".join(entries),
        )
