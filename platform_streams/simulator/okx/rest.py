"""OKX v5 public REST: instruments, order book, candles and history candles, with OKX's envelope, error codes and rate limits.

Every answer is ``{"code":"0","msg":"","data":[...]}``; errors keep the envelope with
OKX's code (51001 unknown instId, 51000 bad parameter, 50014 missing parameter,
50011 rate limit with HTTP 429). Limits are per IP and endpoint per two seconds.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.config import OkxRestLimits
from platform_streams.simulator.decimal_text import trimmed
from platform_streams.simulator.market.candle_history import INTERVAL_MS, CandleHistory
from platform_streams.simulator.market.kline_query import klines
from platform_streams.simulator.market.universe import SCALE_FACTOR
from platform_streams.simulator.market.venue_market import VenueMarket
from platform_streams.simulator.okx import frames
from platform_streams.simulator.okx.errors import OkxRestError
from platform_streams.simulator.okx.instruments import OkxInstruments
from platform_streams.simulator.rate_windows import FixedWindowCounter

MAX_BOOK_SIZE = 400
MAX_CANDLES = 300
MAX_HISTORY_CANDLES = 100  # history-candles answers at most 100 rows per request
#: OKX bar names → the kline intervals the market model aggregates.
BARS = {
    "1m": "1m", "3m": "3m", "5m": "5m", "15m": "15m", "30m": "30m", "1H": "1h", "2H": "2h", "4H": "4h",
    "6H": "6h", "12H": "12h", "1D": "1d", "1W": "1w", "6Hutc": "6h", "12Hutc": "12h", "1Dutc": "1d", "1Wutc": "1w",
}  # fmt: skip


def envelope(data: bytes | list[object], code: str = "0", msg: str = "", status: int = 200) -> web.Response:
    """OKX's ``{"code":..,"msg":..,"data":..}``; ``data`` may already be rendered bytes."""
    rendered = data if isinstance(data, bytes) else orjson.dumps(data)
    body = b'{"code":"%b","data":%b,"msg":%b}' % (code.encode(), rendered, orjson.dumps(msg))
    return web.Response(body=body, status=status, content_type="application/json")


class OkxRest:
    """Handlers of the public endpoints, and their limits."""

    def __init__(
        self,
        market: VenueMarket,
        instruments: OkxInstruments,
        history: CandleHistory,
        clock: SimClock,
        limits: OkxRestLimits,
    ) -> None:
        self._market = market
        self._instruments = instruments
        self._history = history
        self._clock = clock
        self._entries = b",".join(orjson.dumps(instruments.rest_entry(i)) for i in range(len(instruments.names)))
        self._limits = {
            name: FixedWindowCounter(limit, limits.interval_s)
            for name, limit in (
                ("instruments", limits.instruments),
                ("books", limits.books),
                ("candles", limits.candles),
                ("history_candles", limits.history_candles),
                ("other", limits.other),
            )
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v5/public/instruments", self._limited("instruments", self.instruments)),
            web.get("/api/v5/public/time", self._limited("other", self.server_time)),
            web.get("/api/v5/market/books", self._limited("books", self.books)),
            web.get("/api/v5/market/candles", self._limited("candles", self.candles)),
            web.get("/api/v5/market/history-candles", self._limited("history_candles", self.history_candles)),
        ]

    def _limited(
        self, name: str, handler: Callable[[web.Request], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        counter = self._limits[name]

        async def limited(request: web.Request) -> web.Response:
            if counter.add(request.remote or "", 1, time.time()) > counter.limit:
                return envelope([], "50011", "Too Many Requests", 429)
            try:
                return await handler(request)
            except OkxRestError as exc:
                return envelope([], exc.code, exc.msg, exc.status)

        return limited

    def _instrument(self, request: web.Request) -> int:
        inst_id = request.query.get("instId")
        if not inst_id:
            raise OkxRestError("50014", "Parameter instId can not be empty.")
        instrument = self._instruments.lookup(inst_id)
        if instrument is None:
            raise OkxRestError("51001", "Instrument ID does not exist.", 200)
        return instrument

    @staticmethod
    def _integer(request: web.Request, name: str) -> int | None:
        text = request.query.get(name)
        if text is None or text == "":
            return None
        if not text.isdigit():
            raise OkxRestError("51000", f"Parameter {name} error")
        return int(text)

    async def instruments(self, request: web.Request) -> web.Response:
        inst_type = request.query.get("instType")
        if not inst_type:
            raise OkxRestError("50014", "Parameter instType can not be empty.")
        if inst_type not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            raise OkxRestError("51000", "Parameter instType error")
        if inst_type != "SPOT":
            return envelope([])
        if request.query.get("instId"):
            return envelope(b"[" + orjson.dumps(self._instruments.rest_entry(self._instrument(request))) + b"]")
        return envelope(b"[" + self._entries + b"]")

    async def server_time(self, request: web.Request) -> web.Response:
        return envelope([{"ts": str(int(time.time() * 1000))}])

    async def books(self, request: web.Request) -> web.Response:
        instrument = self._instrument(request)
        size = self._integer(request, "sz") or 1
        size = min(size, MAX_BOOK_SIZE)
        book, rows = self._market.books[instrument], self._instruments.level_rows
        body = b'[{"asks":%b,"bids":%b,"ts":"%d"}]' % (
            rows(instrument, book.asks.keys[:size], book.asks.lots[:size]),
            rows(instrument, [-key for key in book.bids.keys[:size]], book.bids.lots[:size]),
            self._clock.now_ms,
        )
        return envelope(body)

    async def candles(self, request: web.Request) -> web.Response:
        return self._candles(request, MAX_CANDLES)

    async def history_candles(self, request: web.Request) -> web.Response:
        """The same rows from further back (what ccxt asks when given ``since``), 100 at most."""
        return self._candles(request, MAX_HISTORY_CANDLES)

    def _candles(self, request: web.Request, max_rows: int) -> web.Response:
        instrument = self._instrument(request)
        bar = request.query.get("bar", "1m")
        if bar not in BARS:
            raise OkxRestError("51000", "Parameter bar error")
        interval_ms = INTERVAL_MS[BARS[bar]]
        after, before = self._integer(request, "after"), self._integer(request, "before")
        limit = min(self._integer(request, "limit") or 100, max_rows)
        now_ms = self._clock.now_ms
        end = after - 1 if after is not None else None
        rows = klines(self._market, self._history, instrument, interval_ms, None, end, limit, now_ms)
        rows = [row for row in rows if before is None or row[0] > before]
        spec, names = self._market.instruments[instrument], self._instruments
        current_open = now_ms - now_ms % interval_ms
        rendered = []
        for row in reversed(rows):  # newest first, as OKX returns them
            quote = trimmed(row[6] * spec.tick * spec.lot // SCALE_FACTOR)
            fields = [
                names.price(instrument, row[1]),
                names.price(instrument, row[2]),
                names.price(instrument, row[3]),
                names.price(instrument, row[4]),
                names.size(instrument, row[5]),
                quote,
                quote,
            ]
            rendered.append(frames.candle_row(row[0], fields, row[0] < current_open))
        return envelope(b"[" + b",".join(rendered) + b"]")
