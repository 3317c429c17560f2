"""One strategy deployment replayed through the trading chain in-process, in event time.

The parts are the live ones: the deployment is built and driven as the strategy host does
(``build_deployment``, ``StrategyDriver``), its intents become the same ``StrategyIntent`` events,
pre-trade risk decides them with the same ``RiskEngine`` (limits, the deployment's budget from the
allocator, the exposure view fed with tops of book, order events and fills), and orders are filled
by the ``PaperVenue`` that paper deployments trade on (queue position, maker/taker fees). Fills
go back to risk's exposure view (the account's positions at average cost, realised PnL) and to
the strategy's ``on_fill``, as in the live chain; nothing reads the wall clock, so the same
events give the same result.

Speed: a replay does per event only what the event changes — equity is an integer sum moved by
each new mark and one fraction per sample, a bar quote reaches the venue only when an order
needs it, and risk only when it decides or hears of an order — and runs with the cyclic
garbage collector relaxed (:func:`relaxed_gc`).
"""

from __future__ import annotations

import contextlib
import gc
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping

import msgspec
from quicktions import Fraction

from platform_streams.execution.order_lifecycle import OrderUpdate, TrackedOrder
from platform_streams.execution.paper_venue import PaperVenue
from platform_streams.risk.decision import RiskEngine
from platform_streams.risk.exposure import ZERO
from platform_streams.risk.limits import RiskLimits
from platform_streams.schemas import (
    BestBidOffer,
    Candle,
    Fill,
    IndicatorValue,
    Instrument,
    OrderRequest,
    RiskRejection,
    Trade,
)
from platform_streams.strategy_host.hosted_deployment import DeploymentState, build_deployment
from platform_streams.strategy_host.intent_events import intent_event
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from strategies.intents import Intent

ReplayedEvent = Trade | BestBidOffer | Candle | IndicatorValue
NOTHING: list = []  # what most events touch at the venue (never appended to)
MAX_FILL_ROUNDS = 1_000  # fills causing intents that fill at once, at one instant: a strategy that loops


class ReplayLoopError(RuntimeError):
    """A strategy kept trading with itself at one instant (each fill caused another)."""


class EquitySample(msgspec.Struct, frozen=True, array_like=True):
    """The account's equity in the quote asset at ``ts_ns``: capital plus realised and unrealised
    PnL (marked at the last mid, or the last trade or close without a book) minus fees; exact."""

    ts_ns: int
    equity: Fraction


class ReplayRecord(msgspec.Struct, frozen=True):
    """What a replay did: its equity over time, every fill, and the decisions' counts."""

    capital: Fraction
    quote: str
    events: int
    intents: int
    orders: int
    rejections: dict[str, int]
    fills: list[Fill]
    samples: list[EquitySample]
    traded_notional: Fraction
    fees: Fraction
    realized: Fraction
    closing_fills: int
    winning_fills: int
    snapshot: bytes


class ReplayChain:
    """``spec`` on ``reference``'s instruments with ``capital`` of the quote asset, its budget from
    ``budgets`` (the allocator's, by account and deployment), ``limits`` as live, the paper venue's
    fees; the equity sampled every ``sample_interval_s`` of event time.

    Where the data has no top of book for an instrument (bars only), each closed bar stands for one:
    bid and ask ``bar_spread_bps`` apart around its close (at least a tick each side), its volume on
    both sides. Only the fill model and risk see it; the strategy sees the data as it is."""

    def __init__(
        self,
        spec: StrategyDeploymentSpec,
        reference: Mapping[str, Instrument],
        capital: Fraction,
        limits: RiskLimits,
        budgets: dict[tuple[str, str], Fraction] | None = None,
        maker_fee_bps: int = 10,
        taker_fee_bps: int = 10,
        sample_interval_s: int = 60,
        bar_spread_bps: int = 2,
    ) -> None:
        self.deployment = build_deployment(spec, reference)
        self.deployment.state = DeploymentState.RUNNING
        self.reference = {key: reference[key] for key in spec.instruments}
        quotes = {instrument.quote for instrument in self.reference.values()}
        if len(quotes) != 1:
            raise ValueError(f"a backtest's instruments must share one quote asset to sum its equity, not {sorted(quotes)}")
        if not 0 <= bar_spread_bps <= 10_000:
            raise ValueError(f"bar_spread_bps = {bar_spread_bps} must be between 0 and 10,000")
        self.quote = quotes.pop()
        self.capital = capital
        self.risk = RiskEngine(limits, budgets)
        for instrument in self.reference.values():
            self.risk.add_instrument(instrument)
        exchanges = sorted({instrument.exchange for instrument in self.reference.values()})
        self.venues = {e: PaperVenue(e, spec.account, maker_fee_bps, taker_fee_bps) for e in exchanges}
        self._bar_spread_bps = bar_spread_bps
        self._sample_ns = sample_interval_s * 1_000_000_000
        self._next_sample_ns = 0
        self._tracked: dict[str, TrackedOrder] = {}
        self._fills_seen: dict[str, int] = {}
        self._rejections: Counter[str] = Counter()
        self._fills: list[Fill] = []
        self._samples: list[EquitySample] = []
        self._events = self._intents = self._orders = self._closing = self._winning = 0
        self._traded = self._fees = self._realised = ZERO
        self._now_ns = 0
        self._on_event = self.deployment.driver.on_event
        self._handlers = {BestBidOffer: self._on_quote, Trade: self._on_trade, Candle: self._on_bar, IndicatorValue: _ignored}
        self._booked: set[str] = set()  # instruments with tops of book in the data
        self._bar_quotes: dict[str, tuple[Candle, int, int]] = {}  # the latest bar quotes the venue has not seen
        # Equity = settled + Σ size × mark over the open positions. Marks are integers over one
        # denominator (twice the finest price scale: a mid is a half), sizes integers at the finest
        # size scale, so a new mark moves the sum with integer arithmetic and a sample is one fraction.
        self._price_scale = max(instrument.price_scale for instrument in self.reference.values())
        self._size_scale = max(instrument.size_scale for instrument in self.reference.values())
        self._size_unit = 10**self._size_scale
        self._price_factors = {scale: 10 ** (self._price_scale - scale) for scale in range(self._price_scale + 1)}
        self._bar_quoted = {key: (i.tick_size or 1, self.venues[i.exchange]) for key, i in self.reference.items()}
        self._mid_denominators = {scale: 2 * 10**scale for scale in range(self._price_scale + 1)}
        self._risk_mids: dict[str, tuple[int, int]] = {}  # instrument → the last bar's mid risk has not seen yet
        self._mark_denominator = 2 * 10**self._price_scale * 10**self._size_scale
        self._marks: dict[str, int] = {}  # instrument → mark × 2 × 10^price_scale
        self._sizes: dict[str, int] = {}  # instrument → open size × 10^size_scale, the positions not flat
        self._marked_value = 0  # Σ size × mark, over the mark denominator
        self._settled = capital  # capital + realised − fees − the open positions' cost

    def run(self, events: Iterable[ReplayedEvent]) -> ReplayRecord:
        """Replay ``events`` (in receive-time order) and return the record."""
        with relaxed_gc():
            for event in events:
                self.on_event(event)
            return self.finish()

    def on_event(self, event: ReplayedEvent) -> None:
        now = self._now_ns = event.receive_ts_ns
        if now >= self._next_sample_ns:
            self._sample_until(now)
        self._events += 1
        touched = self._handlers[type(event)](event, event.key)
        intents = self._on_event(event)
        if not (touched or intents):
            return
        pending = self._settle(touched) if touched else []
        if intents:
            pending += self._decide(event.event_id, intents)
        for _ in range(MAX_FILL_ROUNDS):
            if not pending:
                return
            fill = pending.pop(0)
            pending += self._decide(fill.event_id, self._on_event(fill))
        raise ReplayLoopError(f"{self.deployment.spec.id}: more than {MAX_FILL_ROUNDS} fills at {now}")

    def equity(self) -> Fraction:
        """Capital plus realised and unrealised PnL minus fees, now, exactly."""
        if not self._marked_value:
            return self._settled
        settled = self._settled
        return Fraction(
            settled.numerator * self._mark_denominator + self._marked_value * settled.denominator,
            settled.denominator * self._mark_denominator,
        )

    def finish(self) -> ReplayRecord:
        self._risk_sees_mids()
        final = EquitySample(self._now_ns, self.equity())  # after the last event: replaces a sample taken at its time
        if self._samples and self._samples[-1].ts_ns == final.ts_ns:
            self._samples[-1] = final
        else:
            self._samples.append(final)
        return ReplayRecord(
            capital=self.capital,
            quote=self.quote,
            events=self._events,
            intents=self._intents,
            orders=self._orders,
            rejections=dict(self._rejections),
            fills=self._fills,
            samples=self._samples,
            traded_notional=self._traded,
            fees=self._fees,
            realized=self._realised + self._fees,
            closing_fills=self._closing,
            winning_fills=self._winning,
            snapshot=self.deployment.driver.strategy.snapshot(),
        )

    # -- market data: the fill model's and risk's view, the marks ------------------------------------
    def _sample_until(self, now: int) -> None:
        if self._next_sample_ns == 0:
            self._next_sample_ns = now - now % self._sample_ns + self._sample_ns
            self._samples.append(EquitySample(now, self.equity()))
        while now >= self._next_sample_ns:
            self._samples.append(EquitySample(self._next_sample_ns, self.equity()))
            self._next_sample_ns += self._sample_ns

    def _on_quote(self, quote: BestBidOffer, key: str) -> list:
        self._risk_sees_mids()
        if key not in self._booked:
            self._booked.add(key)
            self._bar_quotes.pop(key, None)
        self.risk.exposure.apply_bbo(quote)
        if quote.bid_price and quote.ask_price:
            self._mark(key, (quote.bid_price + quote.ask_price) * self._price_factor(quote.price_scale, key))
        venue = self.venues.get(quote.exchange)
        return venue.on_quote(quote) if venue else []

    def _on_trade(self, trade: Trade, key: str) -> list:
        if key not in self._marks or key not in self.risk.exposure.quotes:  # a trade marks only without a mid
            self._mark(key, 2 * trade.price * self._price_factor(trade.price_scale, key))
        venue = self.venues.get(trade.exchange)
        return venue.on_trade(trade) if venue else []

    def _on_bar(self, bar: Candle, key: str) -> list:
        if key in self._booked:
            return NOTHING
        quoted = self._bar_quoted.get(key)  # (tick, venue) of the backtest's instruments
        if quoted is None or not bar.closed:
            if key not in self._marks:
                self._mark(key, 2 * bar.close * self._price_factor(bar.price_scale, key))
            return NOTHING
        tick, venue = quoted
        close, scale = bar.close, bar.price_scale
        half = (-(-close * self._bar_spread_bps // (20_000 * tick)) or 1) * tick  # rounded up to a tick, at least one
        bid = close - half
        if bid < tick:
            bid = tick
        twice_mid = bid + close + half
        factor = self._price_factors.get(scale)
        if factor is None:
            factor = self._price_factor(scale, key)  # raises: finer than any instrument's
        mark = twice_mid * factor  # _mark inlined: once per bar, a call is 2.5 % of a replay
        size = self._sizes.get(key)
        if size:
            self._marked_value += size * (mark - self._marks.get(key, 0))
        self._marks[key] = mark
        self._risk_mids[key] = (twice_mid, self._mid_denominators[scale])  # risk's mid, as a quote sets it
        self._bar_quotes[key] = (bar, bid, close + half)
        return self._quote_bar(key, venue) if venue.resting(bar.symbol) else NOTHING

    def _risk_sees_mids(self) -> None:
        """The bars' mids handed to risk: only the last of each instrument, and only when risk is
        asked or told something (a decision, an order's news), as if each had been handed on."""
        mids = self._risk_mids
        if mids:
            apply = self.risk.exposure.apply_mid
            for key, (numerator, denominator) in mids.items():
                apply(key, numerator, denominator)
            mids.clear()

    def _quote_bar(self, key: str, venue: PaperVenue) -> list:
        """The bar quote of ``key`` given to the venue (only an order placed or resting needs it)."""
        bar, bid, ask = self._bar_quotes.pop(key)
        return venue.on_quote(
            BestBidOffer(bar.exchange, bar.symbol, bar.exchange_ts_ns, bar.receive_ts_ns, bar.sequence,
                         bid, bar.volume, ask, bar.volume, bar.price_scale, bar.size_scale)
        )  # fmt: skip

    def _price_factor(self, price_scale: int, key: str) -> int:
        factor = self._price_factors.get(price_scale) if price_scale >= 0 else None
        if factor is None:
            raise ValueError(f"{key}: a price at scale {price_scale}, finer than any instrument's ({self._price_scale})")
        return factor

    def _mark(self, key: str, mark: int) -> None:
        size = self._sizes.get(key)
        if size:
            self._marked_value += size * (mark - self._marks.get(key, 0))
        self._marks[key] = mark

    # -- decisions and fills ---------------------------------------------------------------------
    def _decide(self, cause_id: str, intents: Iterable[Intent]) -> list[Fill]:
        self._risk_sees_mids()
        now, fills = self._now_ns, []
        for index, intent in enumerate(intents):
            self._intents += 1
            event = intent_event(self.deployment, intent, self.reference[intent.instrument], cause_id, index, now, now, now)
            for cancel in self.risk.withdrawals(event, now):
                venue = self.venues[cancel.exchange]
                cancelled = venue.cancel(cancel.client_order_id)
                fills += self._settle([cancelled] if cancelled else [])
            decision = self.risk.decide(event, now, now)
            if isinstance(decision, OrderRequest):
                if decision.client_order_id not in self._tracked:
                    self._orders += 1
                    self._tracked[decision.client_order_id] = TrackedOrder(decision)
                    venue = self.venues[decision.exchange]
                    if intent.instrument in self._bar_quotes:
                        fills += self._settle(self._quote_bar(intent.instrument, venue))
                    fills += self._settle([venue.place(decision)])
            elif isinstance(decision, RiskRejection):
                self._rejections[decision.rule] += 1
        return fills

    def _settle(self, orders: Iterable) -> list[Fill]:
        """The venue's word on ``orders`` folded in as execution folds an exchange's: order events
        to risk, new fills to risk and the positions; the fills, for the strategy's ``on_fill``."""
        self._risk_sees_mids()
        now, fills = self._now_ns, []
        for order in orders:
            client_order_id = order.request.client_order_id
            tracked = self._tracked[client_order_id]
            update = OrderUpdate(
                status=order.status, filled_size=order.filled, exchange_order_id=order.order_id,
                exchange_ts_ns=now, receive_ts_ns=now,
            )  # fmt: skip
            seen = self._fills_seen.get(client_order_id, 0)
            for fill in order.fills[seen:]:
                fill = msgspec.structs.replace(fill, exchange_ts_ns=now, receive_ts_ns=now)
                self._account_fill(fill)
                fills.append(fill)
            self._fills_seen[client_order_id] = len(order.fills)
            event = tracked.apply(update)
            if event is not None:
                self.risk.exposure.apply_order_event(event)
        return fills

    def _account_fill(self, fill: Fill) -> None:
        """A new fill into risk's exposure view (the account's position at average cost, its
        realised PnL) and the record: fills, traded notional, fees, and the equity's parts."""
        key = f"{fill.exchange}:{fill.symbol}"
        exposure = self.risk.exposure
        book = exposure.account_positions.get((fill.account, key))
        size, average, realised = (book.size, book.average_price, book.realised) if book else (ZERO, ZERO, ZERO)
        exposure.apply_fill(fill)
        book = exposure.account_positions[(fill.account, key)]
        fee = Fraction(fill.fee, 10**fill.fee_scale) if fill.fee_asset == self.quote else ZERO
        pnl = book.realised - realised  # fees paid included
        self._fills.append(fill)
        self._fees += fee
        self._realised += pnl
        self._traded += Fraction(fill.price * fill.size, 10 ** (fill.price_scale + fill.size_scale))
        if pnl + fee:
            self._closing += 1
            self._winning += pnl + fee > 0
        if key not in self._marks:
            self._mark(key, 2 * fill.price * self._price_factor(fill.price_scale, key))
        units = book.size * self._size_unit
        if units.denominator != 1:
            raise ValueError(f"{key}: a position of {book.size} is finer than the size scale {self._size_scale}")
        before = self._sizes.pop(key, 0)
        if units:
            self._sizes[key] = int(units)
        self._marked_value += (int(units) - before) * self._marks[key]
        self._settled += pnl - (book.size * book.average_price - size * average)


@contextlib.contextmanager
def relaxed_gc(young_threshold: int = 100_000) -> Iterator[None]:
    """The cyclic collector run a hundred times less often, and the objects alive before (the
    loaded events, the code) left out of its scans: a replay allocates millions of short-lived,
    acyclic objects (intents, orders, fills, fractions), and collecting after every 700 of them
    cost a fifth of its time. Reference counting frees them as before; thresholds are restored after."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(young_threshold, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _ignored(_: object, __: str) -> list:
    return NOTHING


__all__ = ["EquitySample", "ReplayChain", "ReplayLoopError", "ReplayRecord", "ReplayedEvent", "relaxed_gc"]
