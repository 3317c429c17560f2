"""Binance's REST limits: request weight per IP (429, then a 418 ban), raw requests, and orders per account.

Weights are Binance's current spot weights. Every response carries
``X-MBX-USED-WEIGHT-<interval>``; a request past the budget gets HTTP 429 with
``Retry-After`` (seconds to the window's end); an IP that keeps sending after
``rejections_before_ban`` 429s in a window is banned (HTTP 418, ``Retry-After`` until
the ban ends). Order counts are per account, answered with ``X-MBX-ORDER-COUNT-*``
headers and a 429 / -1015 without ``Retry-After`` when exceeded.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Mapping

from platform_streams.simulator.binance.errors import BinanceError
from platform_streams.simulator.config import BinanceRestLimits
from platform_streams.simulator.rate_windows import FixedWindowCounter, interval_suffix

_FIXED_WEIGHTS = {
    ("GET", "/api/v3/ping"): 1,
    ("GET", "/api/v3/time"): 1,
    ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/klines"): 2,
    ("GET", "/api/v3/trades"): 25,
    ("GET", "/api/v3/aggTrades"): 4,
    ("GET", "/api/v3/avgPrice"): 2,
    ("POST", "/api/v3/order"): 1,
    ("GET", "/api/v3/order"): 4,
    ("DELETE", "/api/v3/order"): 1,
    ("GET", "/api/v3/myTrades"): 20,
    ("GET", "/api/v3/account"): 20,
    ("POST", "/api/v3/userDataStream"): 2,
    ("PUT", "/api/v3/userDataStream"): 2,
    ("DELETE", "/api/v3/userDataStream"): 2,
}
_WEIGHT_BY_SYMBOL_PRESENCE = {  # (with symbol, without)
    ("GET", "/api/v3/ticker/price"): (2, 4),
    ("GET", "/api/v3/ticker/bookTicker"): (2, 4),
    ("GET", "/api/v3/ticker/24hr"): (2, 80),
    ("GET", "/api/v3/openOrders"): (6, 80),
}


def request_weight(method: str, path: str, query: Mapping[str, str]) -> int:
    """The weight Binance charges for one request."""
    if (method, path) in _FIXED_WEIGHTS:
        return _FIXED_WEIGHTS[(method, path)]
    if (method, path) in _WEIGHT_BY_SYMBOL_PRESENCE:
        with_symbol, without = _WEIGHT_BY_SYMBOL_PRESENCE[(method, path)]
        return with_symbol if query.get("symbol") else without
    if path == "/api/v3/depth":
        limit = query.get("limit", "100")
        size = int(limit) if limit.isdigit() else 100
        return 5 if size <= 100 else 25 if size <= 500 else 50 if size <= 1000 else 250
    return 1


class RequestLimiter:
    """Weight, raw-request and order counters of one simulated Binance, with the 418 ban."""

    def __init__(self, limits: BinanceRestLimits) -> None:
        self.limits = limits
        self._weight = FixedWindowCounter(limits.request_weight, limits.request_weight_interval_s)
        self._raw = FixedWindowCounter(limits.raw_requests, limits.raw_requests_interval_s)
        self._rejections = FixedWindowCounter(1 << 62, limits.request_weight_interval_s)
        self._orders_short = FixedWindowCounter(limits.orders, limits.orders_interval_s)
        self._orders_day = FixedWindowCounter(limits.orders_per_day, 86_400)
        self._banned_until: dict[str, float] = {}
        self.refusals: collections.Counter[int] = collections.Counter()  # HTTP status (429, 418) → times answered
        self._weight_header = f"X-MBX-USED-WEIGHT-{interval_suffix(limits.request_weight_interval_s)}"
        self._order_headers = (f"X-MBX-ORDER-COUNT-{interval_suffix(limits.orders_interval_s)}", "X-MBX-ORDER-COUNT-1D")

    def admit(self, ip: str, weight: int, now: float) -> dict[str, str]:
        """Charge a request and return the usage headers; raises the 418 or 429 error when it must be refused."""
        banned_until = self._banned_until.get(ip)
        if banned_until is not None:
            if now < banned_until:
                self.refusals[418] += 1
                raise self._ban_error(banned_until, now)
            del self._banned_until[ip]
        used = self._weight.add(ip, weight, now)
        raw = self._raw.add(ip, 1, now)
        headers = {self._weight_header: str(used), "X-MBX-USED-WEIGHT": str(used)}
        if used <= self.limits.request_weight and raw <= self.limits.raw_requests:
            return headers
        if self._rejections.add(ip, 1, now) > self.limits.rejections_before_ban:
            self._banned_until[ip] = now + self.limits.ban_seconds
            self.refusals[418] += 1
            raise self._ban_error(now + self.limits.ban_seconds, now)
        self.refusals[429] += 1
        interval = self._weight if used > self.limits.request_weight else self._raw
        message = f"Too much request weight used; current limit is {self.limits.request_weight} request weight per {_interval_text(self.limits.request_weight_interval_s)}. Please use WebSocket Streams for live updates to avoid polling the API."
        raise BinanceError(-1003, message, status=429, headers={**headers, "Retry-After": str(interval.seconds_to_reset(now))})

    def _ban_error(self, until: float, now: float) -> BinanceError:
        message = f"Way too much request weight used; IP banned until {int(until * 1000)}. Please use WebSocket Streams for live updates to avoid bans."
        return BinanceError(-1003, message, status=418, headers={"Retry-After": str(max(1, math.ceil(until - now)))})

    def admit_order(self, account: str, now: float) -> dict[str, str]:
        """Count one new order of ``account``; raises 429 / -1015 past either order limit."""
        short = self._orders_short.add(account, 1, now)
        day = self._orders_day.add(account, 1, now)
        headers = {self._order_headers[0]: str(short), self._order_headers[1]: str(day)}
        if short > self.limits.orders:
            raise BinanceError(
                -1015,
                f"Too many new orders; current limit is {self.limits.orders} orders per {_interval_text(self.limits.orders_interval_s)}.",
                429,
                headers,
            )
        if day > self.limits.orders_per_day:
            raise BinanceError(
                -1015, f"Too many new orders; current limit is {self.limits.orders_per_day} orders per 1 DAY.", 429, headers
            )
        return headers


def _interval_text(interval_s: float) -> str:
    suffix = interval_suffix(interval_s)
    unit = {"S": "SECOND", "M": "MINUTE", "H": "HOUR", "D": "DAY"}[suffix[-1]]
    return f"{suffix[:-1]} {unit}"
