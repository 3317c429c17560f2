"""Public REST endpoints of the simulated Binance: ping, time, exchangeInfo, depth, klines and tickers.

The depth snapshot's ``lastUpdateId`` is the book's update id at the moment it is
taken, so snapshot + diff stream (U/u rule) rebuilds exactly the simulator's book.
Server time is the wall clock (what clients sign against); market content uses
the simulated clock.
"""

from __future__ import annotations

import json
import time

from aiohttp import web

from platform_streams.simulator.binance import errors
from platform_streams.simulator.binance.exchange_info import ExchangeInfo
from platform_streams.simulator.binance.frames import decimal8
from platform_streams.simulator.binance.http import json_response, read_params
from platform_streams.simulator.binance.order_json import decimal8 as decimal8_text
from platform_streams.simulator.binance.params import RequestParams
from platform_streams.simulator.binance.streams import BinanceSymbols
from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.market.candle_history import INTERVAL_MS, CandleHistory
from platform_streams.simulator.market.kline_query import klines, rolling_24h
from platform_streams.simulator.market.universe import SCALE_FACTOR
from platform_streams.simulator.market.venue_market import VenueMarket

MAX_DEPTH_LIMIT = 5000
MAX_KLINES_LIMIT = 1000
MAX_RECENT_LIMIT = 1000


class BinanceMarketRest:
    """Handlers of the public market data endpoints."""

    def __init__(
        self, market: VenueMarket, symbols: BinanceSymbols, exchange_info: ExchangeInfo, history: CandleHistory, clock: SimClock
    ) -> None:
        self._market = market
        self._symbols = symbols
        self._exchange_info = exchange_info
        self._history = history
        self._clock = clock

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v3/ping", self.ping),
            web.get("/api/v3/time", self.server_time),
            web.get("/api/v3/exchangeInfo", self.exchange_info),
            web.get("/api/v3/depth", self.depth),
            web.get("/api/v3/klines", self.klines),
            web.get("/api/v3/trades", self.recent_trades),
            web.get("/api/v3/aggTrades", self.aggregate_trades),
            web.get("/api/v3/ticker/price", self.ticker_price),
            web.get("/api/v3/ticker/bookTicker", self.book_ticker),
            web.get("/api/v3/ticker/24hr", self.ticker_24hr),
        ]

    def _instrument(self, params: RequestParams) -> int:
        instrument = self._symbols.lookup(params.required_text("symbol"))
        if instrument is None:
            raise errors.invalid_symbol()
        return instrument

    def _selection(self, params: RequestParams) -> list[int] | None:
        """``symbol=`` or ``symbols=["A","B"]`` as instrument indices; None means every symbol."""
        if params.text("symbol"):
            return [self._instrument(params)]
        listed = params.text("symbols")
        if listed is None:
            return None
        try:
            names = json.loads(listed)
        except json.JSONDecodeError:
            raise errors.mandatory_parameter("symbols") from None
        if not isinstance(names, list) or not names:
            raise errors.mandatory_parameter("symbols")
        found = [self._symbols.lookup(str(name)) for name in names]
        if any(index is None for index in found):
            raise errors.invalid_symbol()
        return [index for index in found if index is not None]

    @staticmethod
    def _one_or_all(rows: list[dict[str, object]], params: RequestParams) -> object:
        return rows[0] if params.text("symbol") else rows

    async def ping(self, request: web.Request) -> web.Response:
        return json_response({})

    async def server_time(self, request: web.Request) -> web.Response:
        return json_response({"serverTime": int(time.time() * 1000)})

    async def exchange_info(self, request: web.Request) -> web.Response:
        selection = self._selection(await read_params(request))
        only = None if selection is None else [self._symbols.names[i] for i in selection]
        return json_response(self._exchange_info.render(int(time.time() * 1000), only))

    async def depth(self, request: web.Request) -> web.Response:
        params = await read_params(request)
        instrument = self._instrument(params)
        limit = params.integer("limit")
        limit = 100 if limit is None else limit
        if limit <= 0:
            raise errors.invalid_limit(str(limit))
        limit = min(limit, MAX_DEPTH_LIMIT)
        book, spec = self._market.books[instrument], self._market.instruments[instrument]
        tick, lot = spec.tick, spec.lot
        bids = b",".join([b'["%b","%b"]' % (decimal8(p * tick), decimal8(q * lot)) for p, q in book.bids.levels(limit)])
        asks = b",".join([b'["%b","%b"]' % (decimal8(p * tick), decimal8(q * lot)) for p, q in book.asks.levels(limit)])
        return json_response(b'{"lastUpdateId":%d,"bids":[%b],"asks":[%b]}' % (book.update_id, bids, asks))

    async def klines(self, request: web.Request) -> web.Response:
        params = await read_params(request)
        instrument = self._instrument(params)
        interval_ms = INTERVAL_MS.get(params.required_text("interval"))
        if interval_ms is None:
            raise errors.invalid_interval()
        limit = self._limit(params, 500, MAX_KLINES_LIMIT)
        rows = klines(
            self._market,
            self._history,
            instrument,
            interval_ms,
            params.integer("startTime"),
            params.integer("endTime"),
            limit,
            self._clock.now_ms,
        )
        spec = self._market.instruments[instrument]
        tick, lot, unit = spec.tick, spec.lot, spec.tick * spec.lot
        body = [
            [
                c[0],
                decimal8_text(c[1] * tick),
                decimal8_text(c[2] * tick),
                decimal8_text(c[3] * tick),
                decimal8_text(c[4] * tick),
                decimal8_text(c[5] * lot),
                c[0] + interval_ms - 1,
                decimal8_text(c[6] * unit // SCALE_FACTOR),
                c[7],
                decimal8_text(c[8] * lot),
                decimal8_text(c[9] * unit // SCALE_FACTOR),
                "0",
            ]
            for c in rows
        ]
        return json_response(body)

    def _limit(self, params: RequestParams, default: int, maximum: int) -> int:
        limit = params.integer("limit")
        limit = default if limit is None else min(limit, maximum)
        if limit <= 0:
            raise errors.invalid_limit(str(limit))
        return limit

    async def recent_trades(self, request: web.Request) -> web.Response:
        """The most recent trades (as many as the tape keeps, up to ``limit``)."""
        params = await read_params(request)
        instrument = self._instrument(params)
        limit = self._limit(params, 500, MAX_RECENT_LIMIT)
        spec = self._market.instruments[instrument]
        rows = self._market.recent_trades(instrument)[-limit:]
        body = [
            {
                "id": trade_id,
                "price": decimal8_text(price * spec.tick),
                "qty": decimal8_text(lots * spec.lot),
                "quoteQty": decimal8_text(price * spec.tick * lots * spec.lot // SCALE_FACTOR),
                "time": time_ms,
                "isBuyerMaker": bool(buyer_is_maker),
                "isBestMatch": True,
            }
            for trade_id, price, lots, buyer_is_maker, time_ms in rows
        ]
        return json_response(body)

    async def aggregate_trades(self, request: web.Request) -> web.Response:
        """Recent aggregate trades, filtered by ``fromId`` / ``startTime`` / ``endTime`` like Binance's."""
        params = await read_params(request)
        instrument = self._instrument(params)
        limit = self._limit(params, 500, MAX_RECENT_LIMIT)
        from_id, start, end = params.integer("fromId"), params.integer("startTime"), params.integer("endTime")
        rows = [
            row
            for row in self._market.recent_aggregates(instrument)
            if (from_id is None or row[0] >= from_id) and (start is None or row[6] >= start) and (end is None or row[6] <= end)
        ]
        rows = rows[:limit] if from_id is not None or start is not None else rows[-limit:]
        spec = self._market.instruments[instrument]
        body = [
            {
                "a": aggregate_id,
                "p": decimal8_text(price * spec.tick),
                "q": decimal8_text(lots * spec.lot),
                "f": first,
                "l": last,
                "T": time_ms,
                "m": bool(buyer_is_maker),
                "M": True,
            }
            for aggregate_id, price, lots, first, last, buyer_is_maker, time_ms in rows
        ]
        return json_response(body)

    async def ticker_price(self, request: web.Request) -> web.Response:
        params = await read_params(request)
        selection = self._selection(params)
        indices = range(len(self._symbols.names)) if selection is None else selection
        candles, specs = self._market.candles, self._market.instruments
        rows = [
            {"symbol": self._symbols.names[i], "price": decimal8_text(candles.last_price(i) * specs[i].tick)} for i in indices
        ]
        return json_response(self._one_or_all(rows, params))

    async def book_ticker(self, request: web.Request) -> web.Response:
        params = await read_params(request)
        selection = self._selection(params)
        indices = range(len(self._symbols.names)) if selection is None else selection
        rows = []
        for i in indices:
            bid, bid_lots, ask, ask_lots = self._market.books[i].top()
            tick, lot = self._market.instruments[i].tick, self._market.instruments[i].lot
            rows.append(
                {
                    "symbol": self._symbols.names[i],
                    "bidPrice": decimal8_text(bid * tick),
                    "bidQty": decimal8_text(bid_lots * lot),
                    "askPrice": decimal8_text(ask * tick),
                    "askQty": decimal8_text(ask_lots * lot),
                }
            )
        return json_response(self._one_or_all(rows, params))

    async def ticker_24hr(self, request: web.Request) -> web.Response:
        params = await read_params(request)
        selection = self._selection(params)
        indices = range(len(self._symbols.names)) if selection is None else selection
        now_ms = self._clock.now_ms
        rows = [self._statistics(i, now_ms) for i in indices]
        return json_response(self._one_or_all(rows, params))

    def _statistics(self, instrument: int, now_ms: int) -> dict[str, object]:
        stats = rolling_24h(self._market, self._history, instrument, now_ms)
        spec = self._market.instruments[instrument]
        tick, lot = spec.tick, spec.lot
        bid, bid_lots, ask, ask_lots = self._market.books[instrument].top()
        change = (stats.last - stats.open) * tick
        percent = f"{(stats.last - stats.open) * 100 / stats.open:.3f}" if stats.open else "0.000"
        weighted = stats.quote_volume * tick // stats.volume_lots if stats.volume_lots else stats.last * tick
        return {
            "symbol": self._symbols.names[instrument],
            "priceChange": decimal8_text(change),
            "priceChangePercent": percent,
            "weightedAvgPrice": decimal8_text(weighted),
            "prevClosePrice": decimal8_text(stats.open * tick),
            "lastPrice": decimal8_text(stats.last * tick),
            "lastQty": decimal8_text(stats.last_lots * lot),
            "bidPrice": decimal8_text(bid * tick),
            "bidQty": decimal8_text(bid_lots * lot),
            "askPrice": decimal8_text(ask * tick),
            "askQty": decimal8_text(ask_lots * lot),
            "openPrice": decimal8_text(stats.open * tick),
            "highPrice": decimal8_text(stats.high * tick),
            "lowPrice": decimal8_text(stats.low * tick),
            "volume": decimal8_text(stats.volume_lots * lot),
            "quoteVolume": decimal8_text(stats.quote_volume * tick * lot // SCALE_FACTOR),
            "openTime": stats.open_time_ms,
            "closeTime": stats.close_time_ms,
            "firstId": stats.first_trade_id,
            "lastId": stats.last_trade_id,
            "count": stats.trades,
        }
