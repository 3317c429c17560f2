"""One strategy deployment replayed through the trading chain in-process, in event time.

The parts are the live ones: the deployment is built and driven as the strategy host does
(``build_deployment``, ``StrategyDriver``), its intents become the same ``StrategyIntent`` events,
pre-trade risk decides them with the same ``RiskEngine`` (limits, the deployment's budget from the
allocator, the exposure view fed with tops of book, order events and fills), and orders are filled
by the ``PaperVenue`` that paper deployments trade on (queue position, maker/taker fees). Fills
go back to risk, to the positions (``PositionBook``) and to the strategy's ``on_fill``, as in the
live chain; nothing reads the wall clock, so the same events give the same result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from fractions import Fraction

import msgspec

from platform_streams.execution.order_lifecycle import OrderUpdate, TrackedOrder
from platform_streams.execution.paper_venue import PaperVenue
from platform_streams.execution.positions import PositionBook
from platform_streams.risk.decision import RiskEngine
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
    fees; the equity sampled every ``sample_interval_s`` of event time."""

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
    ) -> None:
        self.deployment = build_deployment(spec, reference)
        self.deployment.state = DeploymentState.RUNNING
        self.reference = {key: reference[key] for key in spec.instruments}
        quotes = {instrument.quote for instrument in self.reference.values()}
        if len(quotes) != 1:
            raise ValueError(f"a backtest's instruments must share one quote asset to sum its equity, not {sorted(quotes)}")
        self.quote = quotes.pop()
        self.capital = capital
        self.risk = RiskEngine(limits, budgets)
        for instrument in self.reference.values():
            self.risk.add_instrument(instrument)
        exchanges = sorted({instrument.exchange for instrument in self.reference.values()})
        self.venues = {e: PaperVenue(e, spec.account, maker_fee_bps, taker_fee_bps) for e in exchanges}
        self.positions = PositionBook()
        self._sample_ns = sample_interval_s * 1_000_000_000
        self._next_sample_ns = 0
        self._tracked: dict[str, TrackedOrder] = {}
        self._fills_seen: dict[str, int] = {}
        self._marks: dict[str, Fraction] = {}
        self._rejections: Counter[str] = Counter()
        self._fills: list[Fill] = []
        self._samples: list[EquitySample] = []
        self._events = self._intents = self._orders = self._closing = self._winning = 0
        self._traded = Fraction(0)
        self._now_ns = 0

    def run(self, events: Iterable[ReplayedEvent]) -> ReplayRecord:
        """Replay ``events`` (in receive-time order) and return the record."""
        for event in events:
            self.on_event(event)
        return self.finish()

    def on_event(self, event: ReplayedEvent) -> None:
        now = self._now_ns = event.receive_ts_ns
        if self._next_sample_ns == 0:
            self._next_sample_ns = now - now % self._sample_ns + self._sample_ns
            self._samples.append(EquitySample(now, self.equity()))
        while now >= self._next_sample_ns:
            self._samples.append(EquitySample(self._next_sample_ns, self.equity()))
            self._next_sample_ns += self._sample_ns
        self._events += 1
        touched = []
        venue = self.venues.get(getattr(event, "exchange", ""))
        if isinstance(event, BestBidOffer):
            self.risk.exposure.apply_bbo(event)
            if event.bid_price and event.ask_price:
                self._marks[event.key] = Fraction(event.bid_price + event.ask_price, 2 * 10**event.price_scale)
            touched = venue.on_quote(event) if venue else []
        elif isinstance(event, Trade):
            if event.key not in self._marks or not self.risk.exposure.mid(event.key):
                self._marks[event.key] = Fraction(event.price, 10**event.price_scale)
            touched = venue.on_trade(event) if venue else []
        elif isinstance(event, Candle) and event.key not in self._marks:
            self._marks[event.key] = Fraction(event.close, 10**event.price_scale)
        pending = self._settle(touched)
        pending += self._decide(event.event_id, self.deployment.driver.on_event(event))
        for _ in range(MAX_FILL_ROUNDS):
            if not pending:
                return
            fill = pending.pop(0)
            pending += self._decide(fill.event_id, self.deployment.driver.on_event(fill))
        raise ReplayLoopError(f"{self.deployment.spec.id}: more than {MAX_FILL_ROUNDS} fills at {now}")

    def equity(self) -> Fraction:
        total = self.capital
        for state in self.positions.states():
            mark = self._marks.get(f"{state.exchange}:{state.symbol}")
            total += state.realized + (mark * state.size - state.cost if mark is not None and state.size else 0)
            total -= state.fees.get(self.quote, Fraction(0))
        return total

    def finish(self) -> ReplayRecord:
        final = EquitySample(self._now_ns, self.equity())  # after the last event: replaces a sample taken at its time
        if self._samples and self._samples[-1].ts_ns == final.ts_ns:
            self._samples[-1] = final
        else:
            self._samples.append(final)
        states = self.positions.states()
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
            fees=sum((s.fees.get(self.quote, Fraction(0)) for s in states), Fraction(0)),
            realized=sum((s.realized for s in states), Fraction(0)),
            closing_fills=self._closing,
            winning_fills=self._winning,
            snapshot=self.deployment.driver.strategy.snapshot(),
        )

    def _decide(self, cause_id: str, intents: Iterable[Intent]) -> list[Fill]:
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
                    fills += self._settle([self.venues[decision.exchange].place(decision)])
            elif isinstance(decision, RiskRejection):
                self._rejections[decision.rule] += 1
        return fills

    def _settle(self, orders: Iterable) -> list[Fill]:
        """The venue's word on ``orders`` folded in as execution folds an exchange's: order events
        to risk, new fills to risk and the positions; the fills, for the strategy's ``on_fill``."""
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
                self.risk.exposure.apply_fill(fill)
                self._apply_position(fill)
                fills.append(fill)
            self._fills_seen[client_order_id] = len(order.fills)
            event = tracked.apply(update)
            if event is not None:
                self.risk.exposure.apply_order_event(event)
        return fills

    def _apply_position(self, fill: Fill) -> None:
        state = self.positions.get(fill.account, fill.exchange, fill.symbol)
        realized_before = state.realized if state else Fraction(0)
        if self.positions.apply(fill) is None:
            return
        self._fills.append(fill)
        self._traded += Fraction(fill.price * fill.size, 10 ** (fill.price_scale + fill.size_scale))
        change = self.positions.get(fill.account, fill.exchange, fill.symbol).realized - realized_before  # type: ignore[union-attr]
        if change:
            self._closing += 1
            self._winning += change > 0


__all__ = ["EquitySample", "ReplayChain", "ReplayLoopError", "ReplayRecord", "ReplayedEvent"]
