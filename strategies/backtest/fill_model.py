"""The backtest's simple fill model: targets fill at once against the last touch (or the last trade
when no top of book was seen), quotes rest until the market trades through them; every fill pays
``fee_bps`` of its notional, in the quote asset. No queue position, no partial book depth: optimistic
by design, and said so in docs/strategies.md."""

from __future__ import annotations

from decimal import Decimal

from platform_streams.schemas import BestBidOffer, Candle, Fill, IndicatorValue, Instrument, Liquidity, Side, Trade
from platform_streams.schemas.fixed_point import parse_decimal
from strategies.intents import CancelQuotes, Intent, Quote, TargetPosition

BASIS_POINTS = Decimal(10_000)


class _Touch:
    """An instrument's best bid and ask, last trade, and mark (the latest trade, mid or close)."""

    __slots__ = ("bid", "ask", "last", "mark")

    def __init__(self) -> None:
        self.bid = self.ask = self.last = 0
        self.mark = Decimal(0)


class SimpleFillModel:
    """Turns intents into fills (``Fill`` events, as exec.fill carries them) for one account."""

    def __init__(self, instruments: dict[str, Instrument], fee_bps: Decimal = Decimal(0), account: str = "backtest") -> None:
        self.instruments = instruments
        self.fee_bps = Decimal(fee_bps)
        self.account = account
        self._touch: dict[str, _Touch] = {}
        self._quotes: dict[tuple[str, Side], list[int]] = {}  # (instrument, side) → [price, remaining size]
        self._positions: dict[str, int] = {}  # as the fills left them, so a target is measured from it
        self._fills = 0

    def mark(self, key: str) -> Decimal:
        """The price a position in ``key`` is valued at: the latest trade, mid or close seen."""
        touch = self._touch.get(key)
        return Decimal(0) if touch is None else touch.mark.scaleb(-self.instruments[key].price_scale)

    def observe(self, event: Trade | BestBidOffer | Candle | IndicatorValue) -> list[Fill]:
        """Update the touch from a market event; fills of resting quotes the event trades through."""
        key = event.key
        touch = self._touch.get(key)
        if touch is None:
            touch = self._touch[key] = _Touch()
        if type(event) is BestBidOffer:
            touch.bid, touch.ask = event.bid_price, event.ask_price
            if event.bid_price and event.ask_price:
                touch.mark = Decimal(event.bid_price + event.ask_price) / 2
            return self._cross_quotes(key, event.ask_price, event.bid_price, None, event.receive_ts_ns)
        if type(event) is Trade:
            touch.last = event.price
            touch.mark = Decimal(event.price)
            return self._cross_quotes(key, event.price, event.price, event.size, event.receive_ts_ns)
        if type(event) is Candle:
            touch.last = event.close
            touch.mark = Decimal(event.close)
        return []

    def submit(self, intents: list[Intent] | tuple[Intent, ...], now_ns: int) -> list[Fill]:
        fills: list[Fill] = []
        for intent in intents:
            if type(intent) is TargetPosition:
                fills.extend(self._reach(intent, now_ns))
            elif type(intent) is Quote:
                self._quotes[(intent.instrument, intent.side)] = [intent.price, intent.size]
            elif type(intent) is CancelQuotes:
                for side in (Side.BUY, Side.SELL) if intent.side is Side.UNKNOWN else (intent.side,):
                    self._quotes.pop((intent.instrument, side), None)
        return fills

    def _reach(self, target: TargetPosition, now_ns: int) -> list[Fill]:
        delta = target.size - self._positions.get(target.instrument, 0)
        touch = self._touch.get(target.instrument)
        if delta == 0 or touch is None:
            return []
        side = Side.BUY if delta > 0 else Side.SELL
        price = (touch.ask or touch.last) if side is Side.BUY else (touch.bid or touch.last)
        if price == 0:
            return []
        if target.limit_price is not None and (price > target.limit_price if side is Side.BUY else price < target.limit_price):
            return []  # not marketable at its limit: an immediate-or-cancel order that did not fill
        return [self._fill(target.instrument, side, price, abs(delta), Liquidity.TAKER, now_ns)]

    def _cross_quotes(self, key: str, lowest_seller: int, highest_buyer: int, size: int | None, now_ns: int) -> list[Fill]:
        fills: list[Fill] = []
        bid = self._quotes.get((key, Side.BUY))
        if bid is not None and lowest_seller and lowest_seller <= bid[0]:
            fills.append(self._rest_fill(key, Side.BUY, bid, size, now_ns))
        ask = self._quotes.get((key, Side.SELL))
        if ask is not None and highest_buyer and highest_buyer >= ask[0]:
            fills.append(self._rest_fill(key, Side.SELL, ask, size, now_ns))
        return fills

    def _rest_fill(self, key: str, side: Side, quote: list[int], size: int | None, now_ns: int) -> Fill:
        filled = quote[1] if size is None else min(quote[1], size)
        quote[1] -= filled
        if quote[1] == 0:
            del self._quotes[(key, side)]
        return self._fill(key, side, quote[0], filled, Liquidity.MAKER, now_ns)

    def _fill(self, key: str, side: Side, price: int, size: int, liquidity: Liquidity, now_ns: int) -> Fill:
        instrument = self.instruments[key]
        self._fills += 1
        self._positions[key] = self._positions.get(key, 0) + (size if side is Side.BUY else -size)
        notional = Decimal(price).scaleb(-instrument.price_scale) * Decimal(size).scaleb(-instrument.size_scale)
        fee, fee_scale = parse_decimal(format(notional * self.fee_bps / BASIS_POINTS, "f"))
        return Fill(
            fill_id=f"backtest-{self._fills}",
            client_order_id=f"backtest-{self._fills}",
            exchange_order_id=f"backtest-{self._fills}",
            account=self.account,
            exchange=instrument.exchange,
            symbol=instrument.symbol,
            side=side,
            price=price,
            size=size,
            price_scale=instrument.price_scale,
            size_scale=instrument.size_scale,
            fee=fee,
            fee_scale=fee_scale,
            fee_asset=instrument.quote,
            liquidity=liquidity,
            exchange_ts_ns=now_ns,
            receive_ts_ns=now_ns,
        )
