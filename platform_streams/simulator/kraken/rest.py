"""Kraken public REST: ``AssetPairs`` (shaped like the capture), ``OHLC``, ``Depth``, ``Time`` and ``SystemStatus``.

Answers are ``{"error":[],"result":{...}}``; errors keep the envelope with Kraken's
messages (``EQuery:Unknown asset pair``, ``EGeneral:Invalid arguments``,
``EGeneral:Too many requests`` past the per-IP limit). Like Kraken, AssetPairs
escapes the slash of ``wsname`` (``"XBT\\/USD"``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate

import orjson
from aiohttp import web

from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.config import KrakenRestLimits
from platform_streams.simulator.decimal_text import trimmed
from platform_streams.simulator.kraken.channels import OHLC_INTERVALS_MIN
from platform_streams.simulator.kraken.pairs import KrakenPairs
from platform_streams.simulator.market.candle_history import CandleHistory
from platform_streams.simulator.market.candles import MINUTE_MS
from platform_streams.simulator.market.kline_query import klines
from platform_streams.simulator.market.universe import SCALE_FACTOR
from platform_streams.simulator.market.venue_market import VenueMarket
from platform_streams.simulator.rate_windows import FixedWindowCounter

MAX_OHLC = 720
MAX_DEPTH = 500
_TAKER_FEES = [[0, 0.26], [50000, 0.24], [100000, 0.22], [250000, 0.2], [500000, 0.18], [1000000, 0.16], [2500000, 0.14], [5000000, 0.12], [10000000, 0.1]]  # fmt: skip
_MAKER_FEES = [[0, 0.16], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06], [2500000, 0.04], [5000000, 0.02], [10000000, 0]]  # fmt: skip


class KrakenRestError(Exception):
    """A Kraken error reply: its error strings and HTTP status."""

    def __init__(self, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def result(body: bytes | object) -> web.Response:
    rendered = body if isinstance(body, bytes) else orjson.dumps(body)
    return web.Response(body=b'{"error":[],"result":%b}' % rendered, content_type="application/json")


def error_body(message: str, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps({"error": [message]}), status=status, content_type="application/json")


class KrakenRest:
    """Handlers of the public endpoints."""

    def __init__(
        self, market: VenueMarket, pairs: KrakenPairs, history: CandleHistory, clock: SimClock, limits: KrakenRestLimits
    ) -> None:
        self._market = market
        self._pairs = pairs
        self._history = history
        self._clock = clock
        self._counter = FixedWindowCounter(limits.public_requests, limits.interval_s)
        self._entries = [self._asset_pair(i) for i in range(len(pairs.pairs))]

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/0/public/AssetPairs", self._limited(self.asset_pairs)),
            web.get("/0/public/OHLC", self._limited(self.ohlc)),
            web.get("/0/public/Depth", self._limited(self.depth)),
            web.get("/0/public/Time", self._limited(self.server_time)),
            web.get("/0/public/SystemStatus", self._limited(self.system_status)),
        ]

    def _limited(
        self, handler: Callable[[web.Request], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def limited(request: web.Request) -> web.Response:
            if self._counter.add(request.remote or "", 1, time.time()) > self._counter.limit:
                return error_body("EGeneral:Too many requests", 429)
            try:
                return await handler(request)
            except KrakenRestError as exc:
                return error_body(exc.message, exc.status)

        return limited

    def _asset_pair(self, instrument: int) -> bytes:
        pair, spec = self._pairs.pairs[instrument], self._pairs.specs[instrument]
        start_price = spec.start_price_ticks * spec.tick
        min_lots = max(1, -(-spec.min_notional * SCALE_FACTOR // max(1, start_price * spec.lot)))
        entry = {
            "altname": pair.altname,
            "wsname": pair.wsname,
            "aclass_base": "currency",
            "base": pair.base_code,
            "aclass_quote": "currency",
            "quote": pair.quote_code,
            "lot": "unit",
            "pair_decimals": pair.pair_decimals,
            "lot_decimals": pair.lot_decimals,
            "lot_multiplier": 1,
            "leverage_buy": [],
            "leverage_sell": [],
            "fees": _TAKER_FEES,
            "fees_maker": _MAKER_FEES,
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": trimmed(min_lots * spec.lot).decode(),
        }
        return orjson.dumps(pair.key) + b":" + orjson.dumps(entry).replace(b"/", b"\\/")

    def _instrument(self, name: str) -> int:
        instrument = self._pairs.by_any_name(name)
        if instrument is None:
            raise KrakenRestError("EQuery:Unknown asset pair")
        return instrument

    async def asset_pairs(self, request: web.Request) -> web.Response:
        wanted = request.query.get("pair")
        indices = range(len(self._entries)) if not wanted else [self._instrument(n) for n in wanted.split(",") if n]
        return result(b"{" + b",".join(self._entries[i] for i in indices) + b"}")

    async def ohlc(self, request: web.Request) -> web.Response:
        instrument = self._instrument(request.query.get("pair", ""))
        text = request.query.get("interval", "1")
        if not text.isdigit() or int(text) not in OHLC_INTERVALS_MIN:
            raise KrakenRestError("EGeneral:Invalid arguments")
        interval_ms = int(text) * MINUTE_MS
        since = request.query.get("since", "")
        start = int(since) * 1000 + 1 if since.isdigit() else None
        now_ms = self._clock.now_ms
        rows = klines(self._market, self._history, instrument, interval_ms, start, None, MAX_OHLC, now_ms)
        pairs = self._pairs
        rendered = [
            b'[%d,"%b","%b","%b","%b","%b","%b",%d]'
            % (
                row[0] // 1000,
                pairs.price(instrument, row[1]),
                pairs.price(instrument, row[2]),
                pairs.price(instrument, row[3]),
                pairs.price(instrument, row[4]),
                pairs.price(instrument, row[6] // row[5] if row[5] else row[4]),
                pairs.volume(instrument, row[5]),
                row[7],
            )
            for row in rows
        ]
        current_open = now_ms - now_ms % interval_ms
        last = max((row[0] for row in rows if row[0] < current_open), default=current_open - interval_ms) // 1000
        key = orjson.dumps(pairs.pairs[instrument].key)
        return result(b'{%b:[%b],"last":%d}' % (key, b",".join(rendered), last))

    async def depth(self, request: web.Request) -> web.Response:
        """``Depth?pair=XBTUSD&count=10``: the book as ``[price, volume, timestamp]`` rows, best first."""
        instrument = self._instrument(request.query.get("pair", ""))
        text = request.query.get("count", "100")
        if not text.isdigit() or not 1 <= int(text) <= MAX_DEPTH:
            raise KrakenRestError("EGeneral:Invalid arguments")
        count, pairs, book = int(text), self._pairs, self._market.books[instrument]
        seconds = self._clock.now_ms // 1000

        def rows(ticks: list[int], lots: list[int]) -> bytes:
            return b",".join(
                b'["%b","%b",%d]' % (pairs.price(instrument, t), pairs.volume(instrument, q), seconds)
                for t, q in zip(ticks, lots, strict=True)
            )

        asks = rows(book.asks.keys[:count], book.asks.lots[:count])
        bids = rows([-key for key in book.bids.keys[:count]], book.bids.lots[:count])
        key = orjson.dumps(pairs.pairs[instrument].key)
        return result(b'{%b:{"asks":[%b],"bids":[%b]}}' % (key, asks, bids))

    async def server_time(self, request: web.Request) -> web.Response:
        now = time.time()
        return result({"unixtime": int(now), "rfc1123": formatdate(now, usegmt=True)})

    async def system_status(self, request: web.Request) -> web.Response:
        return result({"status": "online", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
