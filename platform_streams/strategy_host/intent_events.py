"""Intents of the strategy API as ``StrategyIntent`` events on ``strat.intent``: the deployment and
strategy that wanted them, the instrument's scales, a deterministic id (deployment, the id of the
event that caused it, its place among that event's intents) and the latency trace."""

from __future__ import annotations

from collections.abc import Sequence

from platform_streams.schemas import Hop, Instrument, IntentKind, Side, StrategyIntent
from platform_streams.strategy_host.hosted_deployment import HostedDeployment
from strategies.intents import CancelQuotes, Intent, Quote, TargetPosition

HOP_STAGE = "strategy"


def intent_event(
    deployment: HostedDeployment,
    intent: Intent,
    instrument: Instrument,
    cause_id: str,
    index: int,
    market_receive_ts_ns: int,
    consumed_ns: int,
    now_ns: int,
    upstream: Sequence[Hop] = (),
) -> StrategyIntent:
    """The event for ``intent``, the ``index``-th that the event ``cause_id`` made ``deployment`` want;
    its trace is the hops the cause went through (``upstream``) and the strategy's own."""
    spec = deployment.spec
    strategy = deployment.driver.strategy
    if type(intent) is TargetPosition:
        position = deployment.driver.context.position(intent.instrument)
        side = Side.BUY if intent.size > position else Side.SELL if intent.size < position else Side.UNKNOWN
        kind, target, quote_size, price = IntentKind.TARGET, intent.size, 0, intent.limit_price
    elif type(intent) is Quote:
        if intent.size <= 0 or intent.side is Side.UNKNOWN:
            raise ValueError(f"{strategy.name} quoted {intent}: a quote needs a side and a positive size")
        side, kind, target, quote_size, price = intent.side, IntentKind.QUOTE, 0, intent.size, intent.price
    elif type(intent) is CancelQuotes:
        side, kind, target, quote_size, price = intent.side, IntentKind.CANCEL, 0, 0, None
    else:
        raise TypeError(f"{strategy.name} returned {intent!r}, which is not an intent")
    return StrategyIntent(
        intent_id=f"{spec.id}:{cause_id}:{index}",
        strategy=strategy.name,
        strategy_version=strategy.version,
        exchange=instrument.exchange,
        symbol=instrument.symbol,
        side=side,
        target_size=target,
        limit_price=price,
        price_scale=instrument.price_scale,
        size_scale=instrument.size_scale,
        reason=intent.reason,
        created_ts_ns=now_ns,
        market_receive_ts_ns=market_receive_ts_ns,
        hops=[*upstream, Hop(HOP_STAGE, consumed_ns, now_ns)],
        kind=kind,
        quote_size=quote_size,
        deployment=spec.id,
        account=spec.account,
        mode=spec.mode.value,
        epoch=deployment.epoch,
    )
