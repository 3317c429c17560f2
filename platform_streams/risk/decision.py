"""The risk decision for one intent: size it, check every rule against the exposure view, and
either let an order request through (recording it as open at once, so the next intent of the
batch already counts it) or refuse with the reason. Pure: no I/O, deterministic given the view.
"""

from __future__ import annotations

from quicktions import Fraction

from platform_streams.risk.client_order_id import client_order_id, deployment_tag
from platform_streams.risk.exposure import ExposureView, utc_day
from platform_streams.risk.fencing import FENCED_RULE, DeploymentEpochs
from platform_streams.risk.kill_switch import KillSwitches
from platform_streams.risk.limits import OrderLimits, RiskLimits
from platform_streams.risk.rules import (
    Breach,
    check_daily_loss,
    check_kill_switch,
    check_open_orders,
    check_order_notional,
    check_position,
    check_position_notional,
    check_price_band,
)
from platform_streams.risk.sizing import SizedOrder, size_intent
from platform_streams.schemas import CancelRequest, Hop, Instrument, IntentKind, OrderRequest, RiskRejection, Side, StrategyIntent


class UnknownInstrument(LookupError):
    """The intent's instrument is not in the reference data (yet)."""


Decision = OrderRequest | RiskRejection | None


class RiskEngine:
    """Decides intents against one exposure view, the configured limits, budgets and kill switches."""

    def __init__(self, limits: RiskLimits, budgets: dict[tuple[str, str], Fraction] | None = None) -> None:
        self.limits = limits
        self.budgets = budgets or {}
        self.exposure = ExposureView()
        self.kill_switches = KillSwitches()
        self.epochs = DeploymentEpochs()
        self.instruments: dict[str, Instrument] = {}
        self._order_limits: dict[tuple[str, str, str, str], OrderLimits] = {}
        self._tags: dict[str, str] = {}

    def add_instrument(self, instrument: Instrument) -> None:
        self.instruments[instrument.key] = instrument

    def _tag(self, deployment: str) -> str:
        tag = self._tags.get(deployment)
        if tag is None:
            tag = self._tags[deployment] = deployment_tag(deployment)
        return tag

    def withdrawals(self, intent: StrategyIntent, now_ns: int) -> list[CancelRequest]:
        """The cancels an intent asks for: a cancel withdraws the deployment's open orders in the
        instrument on its side (``unknown``: both); a quote replaces the deployment's previous quote
        on its side. Withdrawn orders stop counting against limits at once, as they will be gone."""
        if intent.kind is IntentKind.TARGET:
            return []
        deployment = intent.deployment or intent.strategy
        if self.epochs.refusal(intent, deployment) is not None:
            return []  # a fenced version withdraws nothing: the quotes may be its successor's by now
        tag, key = self._tag(deployment), f"{intent.exchange}:{intent.symbol}"
        keep = client_order_id(deployment, intent.intent_id, intent.epoch) if intent.kind is IntentKind.QUOTE else ""
        sides = (Side.BUY, Side.SELL) if intent.side is Side.UNKNOWN else (intent.side,)
        withdrawn = [
            order_id for order_id, order in self.exposure.open_orders.items()
            if order.tag == tag and order.instrument == key and order.side in sides and order_id != keep
        ]  # fmt: skip
        reason = "cancel" if intent.kind is IntentKind.CANCEL else "requote"
        cancels = []
        for order_id in withdrawn:
            order = self.exposure.open_orders[order_id]
            self.exposure.withdraw(order_id)
            cancels.append(
                CancelRequest(order_id, order.account, intent.exchange, intent.symbol, f"{reason}: {intent.intent_id}", now_ns)
            )
        return cancels

    def decide(self, intent: StrategyIntent, received_ns: int, now_ns: int) -> Decision:
        """The order request for ``intent``, its rejection, or None (nothing to do: the target is
        reached, a cancel, or an intent whose order was already placed and finished). Raises
        :class:`~platform_streams.risk.fencing.EpochNotYetKnown` for an epoch newer than risk has read."""
        deployment = intent.deployment or intent.strategy
        fenced = self.epochs.refusal(intent, deployment)
        if fenced is not None:
            return self._rejection(intent, deployment, Breach(FENCED_RULE, fenced), now_ns)
        if intent.kind is IntentKind.CANCEL:
            return None  # withdrawing quotes adds no risk: its cancels come from withdrawals()
        order_id = client_order_id(deployment, intent.intent_id, intent.epoch)
        known = self.exposure.open_orders.get(order_id)
        if known is not None and known.request is not None:
            return known.request  # a replayed intent: the very same request, deduplicated downstream
        if order_id in self.exposure.closed_orders:
            return None
        checked = self._check(intent, deployment, now_ns)
        if isinstance(checked, Breach):
            return self._rejection(intent, deployment, checked, now_ns)
        if checked is None:
            return None
        request = self._request(intent, deployment, order_id, checked, received_ns, now_ns)
        self.exposure.apply_order_request(request)
        return request

    def _check(self, intent: StrategyIntent, deployment: str, now_ns: int) -> SizedOrder | Breach | None:
        if not intent.account:
            return Breach("bad_intent", "the intent names no account")
        halt = self.kill_switches.covering(intent.account, deployment, intent.strategy)
        if halt is not None:
            return check_kill_switch(halt.scope, halt.reason)
        key = f"{intent.exchange}:{intent.symbol}"
        instrument = self.instruments.get(key)
        if instrument is None:
            raise UnknownInstrument(f"instrument {key} is not in the reference data")
        if not instrument.active:
            return Breach("instrument_inactive", f"{key} is not trading")
        exposure = self.exposure
        tag = self._tag(deployment)
        mid = exposure.mid(key)
        expected = exposure.deployment_expected_position(tag, key)
        sized = size_intent(intent, instrument, expected, mid, self.budgets.get((intent.account, deployment)))
        if not isinstance(sized, SizedOrder):
            return sized
        limits = self._limits(intent.account, deployment, key, intent.strategy)
        signed = sized.quantity if sized.side is Side.BUY else -sized.quantity
        position = exposure.account_position(intent.account, key)
        open_same_side = exposure.open_quantity(intent.account, key, sized.side)
        before = position + (open_same_side if sized.side is Side.BUY else -open_same_side)
        return (
            check_order_notional(sized.notional, limits.max_order_notional)
            or check_open_orders(
                exposure.open_order_count(intent.account), limits.account_max_open_orders, f"account {intent.account}"
            )
            or check_open_orders(
                exposure.deployment_open_order_count(tag), limits.deployment_max_open_orders, f"deployment {deployment}"
            )
            or check_price_band(None if intent.limit_price is None else sized.reference_price, mid, limits.price_band_bps)
            or check_position(before, before + signed, limits.max_position)
            or check_position_notional(before, before + signed, sized.reference_price, limits.max_position_notional)
            or (  # the day's PnL is only worked out where the limit applies: a position that grows, under a limit
                limits.max_daily_loss is not None
                and abs(expected + signed) >= abs(expected)
                and check_daily_loss(exposure.deployment_daily_pnl(tag, utc_day(now_ns)), limits.max_daily_loss, False)
            )
            or sized
        )

    def _limits(self, account: str, deployment: str, instrument: str, strategy: str) -> OrderLimits:
        key = (account, deployment, instrument, strategy)
        limits = self._order_limits.get(key)
        if limits is None:
            limits = self._order_limits[key] = self.limits.for_order(account, deployment, instrument, strategy)
        return limits

    @staticmethod
    def _request(
        intent: StrategyIntent, deployment: str, order_id: str, order: SizedOrder, received_ns: int, now_ns: int
    ) -> OrderRequest:
        return OrderRequest(
            client_order_id=order_id,
            account=intent.account,
            exchange=intent.exchange,
            symbol=intent.symbol,
            side=order.side,
            order_type=order.order_type,
            time_in_force=order.time_in_force,
            price=order.price,
            size=order.size,
            price_scale=order.price_scale,
            size_scale=order.size_scale,
            strategy=intent.strategy,
            intent_id=intent.intent_id,
            created_ts_ns=now_ns,
            market_receive_ts_ns=intent.market_receive_ts_ns,
            hops=[*intent.hops, Hop("risk", received_ns, now_ns)],
            deployment=deployment,
        )

    @staticmethod
    def _rejection(intent: StrategyIntent, deployment: str, breach: Breach, now_ns: int) -> RiskRejection:
        return RiskRejection(
            intent_id=intent.intent_id,
            account=intent.account,
            deployment=deployment,
            strategy=intent.strategy,
            exchange=intent.exchange,
            symbol=intent.symbol,
            rule=breach.rule,
            detail=breach.detail,
            decided_ts_ns=now_ns,
        )
